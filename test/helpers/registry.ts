/**
 * A real registry for tests: Debian's docker-registry (distribution 2.8) run as a plain process on 127.0.0.1 with
 * htpasswd authentication and a storage directory of its own, and a DOCKER_CONFIG written by the real
 * `docker login`. The engine talks plain HTTP to 127.0.0.0/8 registries. Everything is removed by stop().
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './docker.js';

export interface Registry {
  /** 127.0.0.1:PORT, as image references and `docker login` name it. */
  host: string;
  user: string;
  password: string;
  /** A DOCKER_CONFIG directory holding `docker login`'s credentials for this registry. */
  loggedIn(): string;
  /** A DOCKER_CONFIG directory whose credentials for this registry name its user with a wrong password. */
  wrongPassword(): string;
  /** Puts a local image into the registry as `host/name`, and removes the local copy of that name. */
  push(local: string, name: string): string;
  /**
   * A DOCKER_CONFIG whose credHelpers sends this registry to docker-credential-NAME: a script on the PATH given
   * with it that answers with this registry's credentials ("not found" for any other server) and notes each server
   * it is asked about. `askedFor()` lists those servers, each once.
   */
  credentialHelper(name: string): { env: { DOCKER_CONFIG: string; PATH: string }; askedFor(): string[] };
  stop(): void;
}

export function hasRegistry(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v docker-registry && command -v htpasswd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `address`: where it listens (default 127.0.0.1, which the host's engine treats as plain HTTP). Elsewhere (the
 * host's address on a test swarm's network, whose nodes trust it) the host's engine cannot log in to it, so the
 * DOCKER_CONFIGs are written as docker login writes them (auths), and `push` is not available.
 */
export async function startRegistry({ address = '127.0.0.1' }: { address?: string } = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-registry-'));
  const user = 'ci';
  const password = `registry-pw-${process.pid}-${Date.now().toString(36)}`;
  writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }));
  const port = await freePort();
  const host = `${address}:${port}`;
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: ${host} }`,
      `auth: { htpasswd: { realm: test, path: ${join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const answer = await fetch(`http://${host}/v2/`).then(
      (r) => r.status,
      () => 0,
    );
    if (answer === 401) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`the registry on ${host} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const configs: string[] = [];
  const loopback = address === '127.0.0.1';
  const loggedIn = () => {
    const config = mkdtempSync(join(tmpdir(), 'deploy-docker-config-'));
    configs.push(config);
    if (!loopback) {
      const auth = Buffer.from(`${user}:${password}`).toString('base64');
      writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }));
      return config;
    }
    execFileSync('docker', ['--config', config, 'login', host, '-u', user, '--password-stdin'], {
      input: password,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    return config;
  };
  const admin = loopback ? loggedIn() : null;
  return {
    host,
    user,
    password,
    loggedIn,
    wrongPassword() {
      const config = mkdtempSync(join(tmpdir(), 'deploy-docker-config-'));
      configs.push(config);
      const auth = Buffer.from(`${user}:not-the-password`).toString('base64');
      writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }));
      return config;
    },
    push(local, name) {
      if (!admin) throw new Error(`push: the host's engine cannot reach the registry on ${host}`);
      const ref = `${host}/${name}`;
      execFileSync('docker', ['tag', local, ref]);
      execFileSync('docker', ['--config', admin, 'push', ref], { stdio: 'ignore' });
      execFileSync('docker', ['rmi', ref], { stdio: 'ignore' });
      return ref;
    },
    credentialHelper(name) {
      const root = mkdtempSync(join(tmpdir(), 'deploy-credential-helper-'));
      configs.push(root);
      const [bin, config, asked] = [join(root, 'bin'), join(root, 'config'), join(root, 'asked.txt')];
      mkdirSync(bin);
      mkdirSync(config);
      writeFileSync(
        join(bin, `docker-credential-${name}`),
        `#!/bin/sh\nread server\necho "$server" >> ${asked}\n[ "$server" = "${host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${host}","Username":"${user}","Secret":"${password}"}'\n`,
        { mode: 0o755 },
      );
      writeFileSync(join(config, 'config.json'), JSON.stringify({ credHelpers: { [host]: name } }));
      return {
        env: { DOCKER_CONFIG: config, PATH: `${bin}:${process.env.PATH ?? ''}` },
        askedFor: () =>
          existsSync(asked) ? [...new Set(readFileSync(asked, 'utf8').split('\n').filter(Boolean))].sort() : [],
      };
    },
    stop() {
      child.kill('SIGTERM');
      for (const c of configs) rmSync(c, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
