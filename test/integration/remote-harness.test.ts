import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchText, freePort } from '../helpers/docker.js';
import { run } from '../helpers/process.js';
import {
  createDockerContext,
  startSshHost,
  startTlsEngine,
  type DockerContext,
  type SshHost,
  type TlsEngine,
} from '../helpers/remote.js';

/** The environment for a docker CLI that must go only where -H / the given env say. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[key];
  return { ...env, ...extra };
}

/** A fingerprint of the real ~/.ssh (from the password database, as ssh sees it), to prove it's untouched. */
function realSshState(): string {
  const dir = join(userInfo().homedir, '.ssh');
  if (!existsSync(dir)) return 'absent';
  return ['known_hosts', 'config']
    .map((f) => join(dir, f))
    .map((f) => (existsSync(f) ? `${f}:${statSync(f).size}:${statSync(f).mtimeMs}` : `${f}:absent`))
    .join(' ');
}

const report: string[] = [];

describe('remote engine harness', () => {
  let ssh: SshHost | undefined;
  let tls: TlsEngine | undefined;
  let context: DockerContext | undefined;
  const sshBefore = realSshState();

  beforeAll(async () => {
    // Started one after the other so each start time is its own.
    ssh = await startSshHost();
    report.push(`ssh host ${ssh.startedInMs} ms`);
    tls = await startTlsEngine();
    report.push(`TLS engine ${tls.startedInMs} ms`);
    const began = Date.now();
    await tls.loadBaseImage();
    report.push(`loadBaseImage ${Date.now() - began} ms`);
  }, 600_000);

  afterAll(async () => {
    // Each in its own try, so one failing cleanup doesn't skip the others; all failures are reported.
    const errors: unknown[] = [];
    const cleanups: Array<[string, () => Promise<void> | undefined]> = [
      ['context remove', () => context?.remove()],
      ['TLS engine stop', () => tls?.stop()],
      ['ssh host stop', () => ssh?.stop()],
    ];
    for (const [name, cleanup] of cleanups) {
      const began = Date.now();
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
      report.push(`${name} ${Date.now() - began} ms`);
    }
    process.stderr.write(`remote harness timings: ${report.join(', ')}\n`);
    if (errors.length > 0) throw new AggregateError(errors, 'remote harness cleanup failed');
  }, 120_000);

  describe('ssh://', () => {
    it('a plain `ssh root@127.0.0.1 -p PORT` uses the harness key, and the far side finds docker', async () => {
      const host = ssh!;
      const r = await run(
        'ssh',
        [
          'root@127.0.0.1',
          '-p',
          String(host.port),
          'command -v docker; echo "PATH=$PATH"; echo "DOCKER_HOST=$DOCKER_HOST"',
        ],
        { env: cleanEnv(host.env), timeoutMs: 20_000 },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^\/\S+\/docker$/m);
      expect(r.stdout).toContain('DOCKER_HOST=unix:///var/run/docker.sock');
      report.push(`far-side ${r.stdout.split('\n').find((l) => l.startsWith('PATH=')) ?? ''}`);
    });

    it('docker -H ssh://root@127.0.0.1:PORT version reaches the local engine (docker system dial-stdio)', async () => {
      const host = ssh!;
      const began = Date.now();
      const r = await run('docker', ['-H', host.url, 'version', '--format', '{{.Server.Version}}'], {
        env: cleanEnv(host.env),
        timeoutMs: 60_000,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const local = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env: cleanEnv() });
      expect(r.stdout.trim()).toBe(local.stdout.trim());
      report.push(`docker version over ssh ${Date.now() - began} ms`);
    });

    it('refuses the host when its key is not in known_hosts', async () => {
      const host = ssh!;
      const r = await run('docker', ['-H', host.url, 'version', '--format', '{{.Server.Version}}'], {
        env: cleanEnv(host.emptyKnownHostsEnv),
        timeoutMs: 60_000,
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Host key verification failed');
    });

    it('never touched the real ~/.ssh', () => {
      expect(realSshState()).toBe(sshBefore);
      expect(homedir()).not.toBe(ssh!.home);
    });
  });

  describe('tcp:// with TLS', () => {
    it('answers a client with the right certificates', async () => {
      const engine = tls!;
      const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env: cleanEnv(engine.env) });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+/);
      // Its own engine: its own root, and the image we copied in.
      expect(await engine.docker('info', '--format', '{{.DockerRootDir}}')).toContain('/deploy-tls-');
      expect(await engine.docker('image', 'inspect', '--format', '{{.Id}}', 'busybox:1.36')).toMatch(/^sha256:/);
    });

    it('refuses a client certificate signed by another CA, and a client with no certificate', async () => {
      const engine = tls!;
      const wrong = await run('docker', ['version', '--format', '{{.Server.Version}}'], {
        env: cleanEnv({ ...engine.env, DOCKER_CERT_PATH: engine.wrongCertDir }),
        timeoutMs: 30_000,
      });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/certificate|tls/i);
      // Plain TCP without TLS gets nothing either.
      const plain = await run('docker', ['-H', engine.url, 'version', '--format', '{{.Server.Version}}'], {
        env: cleanEnv(),
        timeoutMs: 30_000,
      });
      expect(plain.code).not.toBe(0);
    });

    it('builds FROM busybox:1.36 there', async () => {
      const engine = tls!;
      const dir = mkdtempSync(join(tmpdir(), 'deploy-tls-build-'));
      try {
        writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:1.36\nRUN echo built > /built\n');
        await engine.docker('build', '-q', '-t', 'harness-build:1', dir);
        expect(await engine.docker('run', '--rm', 'harness-build:1', 'cat', '/built')).toBe('built');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('publishes a container on 127.0.0.1 that the test process can fetch', async () => {
      const engine = tls!;
      const port = await freePort();
      await engine.docker(
        'run',
        '-d',
        '--name',
        'harness-web',
        '-p',
        `127.0.0.1:${port}:8080`,
        'busybox:1.36',
        'sh',
        '-c',
        'mkdir -p /srv && echo hello-from-tls > /srv/index.html && exec httpd -f -p 8080 -h /srv',
      );
      // Bounded: 50 tries, 200 ms apart (each fetch itself times out after 3 s).
      let body: string | null = null;
      for (let i = 0; i < 50 && body !== 'hello-from-tls'; i++) {
        body = await fetchText(port);
        if (body !== 'hello-from-tls') await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toBe('hello-from-tls');
      const address = await engine.docker('inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'harness-web');
      expect(`${address.split('.').slice(0, 3).join('.')}.0/24`).toBe(engine.subnet);
    });
  });

  describe('docker contexts', () => {
    it('a context made with createDockerContext is listed and works', async () => {
      const engine = tls!;
      context = await createDockerContext('harness-tls', engine.url, { certDir: engine.certDir });
      const ls = await run('docker', ['context', 'ls', '--format', '{{.Name}} {{.DockerEndpoint}}'], {
        env: cleanEnv(context.env),
      });
      expect(ls.code).toBe(0);
      expect(ls.stdout).toContain(`harness-tls ${engine.url}`);
      const v = await run('docker', ['--context', 'harness-tls', 'version', '--format', '{{.Server.Version}}'], {
        env: cleanEnv(context.env),
      });
      expect(v.stderr).toBe('');
      expect(v.code).toBe(0);

      // The on-disk layout documented in remote.ts.
      const meta = JSON.parse(await readFile(context.metaFile, 'utf8')) as {
        Name: string;
        Endpoints: { docker: { Host: string; SkipTLSVerify: boolean } };
      };
      expect(meta.Name).toBe('harness-tls');
      expect(meta.Endpoints.docker).toMatchObject({ Host: engine.url, SkipTLSVerify: false });
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
        expect(readFileSync(join(context.tlsDir, f), 'utf8')).toBe(readFileSync(join(engine.certDir, f), 'utf8'));
      }
    });
  });
});
