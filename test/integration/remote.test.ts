import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { createDockerContext, remoteEngines, type DockerContext } from '../helpers/remote.js';

type ConfigList = { values: Array<{ key: string; value: unknown; origin: string }> };

describe('remote engines, for real: ssh://, tcp:// with TLS, docker contexts', () => {
  const remote = remoteEngines();
  let context: DockerContext;
  const home = tempHome();
  const repo = new TempRepo();
  const sshApp = testApp('ssh');
  const tlsApp = testApp('tls');
  let sshPort = 0;
  let tlsPort = 0;

  beforeAll(async () => {
    context = await createDockerContext('tlsctx', remote.tls.url, { certDir: remote.tls.certDir });
    sshPort = await freePort();
    tlsPort = await freePort();
  });
  afterAll(async () => {
    removeApps([sshApp]);
    await context?.remove();
    repo.remove();
    home.remove();
  });

  describe('over ssh:// (docker system dial-stdio on the far side)', () => {
    const env = () => ({ ...remote.ssh.env, DEPLOY_HOME: home.dir });
    const run = (...args: string[]) => cli(['--host', remote.ssh.url, ...args], { cwd: repo.dir, env: env() });

    it('deploys, shows logs, stops and starts, and rolls back', async () => {
      repo.commit(
        'ssh one',
        webApp('ssh one', {
          deployJson: { app: sshApp, ports: [`127.0.0.1:${sshPort}:8080`], healthCheck: { path: '/' } },
        }),
      );
      const one = await run('deploy', '--json');
      expect(one.stderr).not.toContain('Internal error');
      expect(one.code).toBe(0);
      const v1 = one.json<PublicRecord>();
      expect(v1).toMatchObject({ endpoint: remote.ssh.url, status: 'running' });
      expect(await fetchText(sshPort)).toBe('ssh one');

      const logs = await run('logs', sshApp);
      expect(logs.code).toBe(0);
      expect(logs.stdout).toContain('starting on 8080');
      expect(logs.stderr).toContain('to stderr');

      repo.commit('ssh two', { 'index.html': 'ssh two\n' });
      expect((await run('deploy', '--json')).json<PublicRecord>()).toMatchObject({ version: 2, status: 'running' });
      expect(await fetchText(sshPort)).toBe('ssh two');

      expect((await run('stop', sshApp, '--yes')).code).toBe(0);
      expect(await fetchText(sshPort)).toBeNull();
      expect((await run('start', sshApp)).code).toBe(0);
      expect(await fetchText(sshPort)).toBe('ssh two');

      const back = await run('rollback', sshApp, '--yes', '--json');
      expect(back.code).toBe(0);
      expect(back.json<PublicRecord>()).toMatchObject({ kind: 'rollback', parentId: v1.id, endpoint: remote.ssh.url });
      expect(await fetchText(sshPort)).toBe('ssh one');
    });

    it('refuses a host whose key is not in known_hosts, never accepting it silently', async () => {
      const r = await cli(['--host', remote.ssh.url, 'deploy', '--json'], {
        cwd: repo.dir,
        env: { ...remote.ssh.emptyKnownHostsEnv, DEPLOY_HOME: home.dir },
      });
      expect(r.code).toBe(EXIT_CODES.docker_unreachable);
      const error = r.json<{ error: { message: string; hint: string } }>().error;
      expect(error.message).toContain(`Cannot reach the Docker Engine at ${remote.ssh.url}`);
      expect(error.message).toContain('Host key verification failed');
      expect(error.hint).toContain('known_hosts');
    });
  });

  describe('over tcp:// with TLS', () => {
    const run = (env: Record<string, string>, ...args: string[]) =>
      cli(args, { cwd: repo.dir, env: { DEPLOY_HOME: home.dir, DOCKER_CONFIG: context.dockerConfig, ...env } });

    it('deploys with DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
      repo.commit(
        'tls one',
        webApp('tls one', {
          deployJson: { app: tlsApp, ports: [`127.0.0.1:${tlsPort}:8080`], healthCheck: { path: '/' } },
        }),
      );
      const r = await run(remote.tls.env, 'deploy', '--json');
      expect(r.stderr).not.toContain('Internal error');
      expect(r.code).toBe(0);
      expect(r.json<PublicRecord>()).toMatchObject({ endpoint: remote.tls.url, status: 'running' });
      expect(await fetchText(tlsPort)).toBe('tls one');
      expect(
        await remote.tls.docker('ps', '--filter', `label=dev.deploy.app=${tlsApp}`, '--format', '{{.Names}}'),
      ).toMatch(new RegExp(`^${tlsApp}-v1-`));
    });

    it('is refused without the right client certificate, or without TLS', async () => {
      const wrong = await run({ ...remote.tls.env, DOCKER_CERT_PATH: remote.tls.wrongCertDir }, 'deploy', '--json');
      expect(wrong.code).toBe(EXIT_CODES.docker_unreachable);
      expect(wrong.json<{ error: { message: string } }>().error.message).toContain(
        `Cannot reach the Docker Engine at ${remote.tls.url}`,
      );
      const plain = await run({ DOCKER_HOST: remote.tls.url }, 'deploy', '--json');
      expect(plain.code).toBe(EXIT_CODES.docker_unreachable);
      expect(plain.stderr).not.toMatch(/\n\s+at /);
    });

    it('honours a docker context, and acts on a deployment where it lives whatever the current default is', async () => {
      repo.commit('tls two', { 'index.html': 'tls two\n' });
      const r = await run({}, '--context', 'tlsctx', 'deploy', '--json');
      expect(r.code).toBe(0);
      const v2 = r.json<PublicRecord>();
      expect(v2).toMatchObject({ endpoint: remote.tls.url, version: 2 });
      expect(await fetchText(tlsPort)).toBe('tls two');
      // No --context now: the default engine is the local one, but v2 lives on the TLS engine.
      const stop = await run({}, 'stop', v2.id, '--yes', '--json');
      expect(stop.code).toBe(0);
      expect(await fetchText(tlsPort)).toBeNull();
      const logs = await run({}, 'logs', v2.id);
      expect(logs.stdout).toContain('starting on 8080');
      expect((await run({}, 'start', v2.id)).code).toBe(0);
      expect(await fetchText(tlsPort)).toBe('tls two');
    });
  });

  describe('which engine: the precedence of the docker CLI, with the app pin', () => {
    const run = (env: Record<string, string>, ...args: string[]) =>
      cli(args, { cwd: repo.dir, env: { DEPLOY_HOME: home.dir, DOCKER_CONFIG: context.dockerConfig, ...env } });
    const endpoint = async (env: Record<string, string>, ...flags: string[]) => {
      const r = await run(env, ...flags, 'config', 'list', '--app', tlsApp, '--json');
      expect(r.code).toBe(0);
      const e = r.json<ConfigList>().values.find((v) => v.key === 'endpoint');
      return [e?.value, e?.origin];
    };

    it('resolves --context, --host, DOCKER_HOST, DOCKER_CONTEXT and the current context in that order', async () => {
      const local = 'unix:///var/run/docker.sock';
      expect(await endpoint({})).toEqual([local, 'default']);
      expect(await endpoint({ DOCKER_CONTEXT: 'tlsctx' })).toEqual([remote.tls.url, 'context tlsctx (DOCKER_CONTEXT)']);
      expect(await endpoint({ DOCKER_CONTEXT: 'tlsctx', DOCKER_HOST: local })).toEqual([local, 'DOCKER_HOST']);
      expect(await endpoint({ DOCKER_HOST: local }, '--context', 'tlsctx')).toEqual([
        remote.tls.url,
        'context tlsctx (--context)',
      ]);
      expect(await endpoint({ DOCKER_CONTEXT: 'tlsctx' }, '--host', remote.ssh.url)).toEqual([
        remote.ssh.url,
        '--host',
      ]);
      const conflict = await run(
        {},
        '--context',
        'tlsctx',
        '--host',
        remote.ssh.url,
        'config',
        'list',
        '--app',
        tlsApp,
      );
      expect(conflict.stderr).toContain('either --host or --context');
      const used = await createDockerContext('tlsctx', remote.tls.url, { certDir: remote.tls.certDir, use: true });
      try {
        expect(await endpoint({ DOCKER_CONFIG: used.dockerConfig })).toEqual([
          remote.tls.url,
          'context tlsctx (docker config (currentContext))',
        ]);
      } finally {
        await used.remove();
      }
      const missing = await run({}, '--context', 'nope', 'deploy');
      expect(missing.code).toBe(EXIT_CODES.usage);
      expect(missing.stderr).toContain('There is no docker context named "nope"');
    });

    it('pins an app to an engine in its config; config list shows the choice and where it came from; --host still wins', async () => {
      expect((await run({}, 'config', 'set', 'endpoint=tlsctx', '--app', tlsApp)).code).toBe(0);
      expect(await endpoint({ DOCKER_HOST: 'unix:///var/run/docker.sock' })).toEqual([
        remote.tls.url,
        'context tlsctx (endpoint (app))',
      ]);
      expect(await endpoint({}, '--host', remote.ssh.url)).toEqual([remote.ssh.url, '--host']);
      repo.commit('tls three', { 'index.html': 'tls three\n' });
      const r = await run({}, 'deploy', '--json');
      expect(r.code).toBe(0);
      expect(r.json<PublicRecord>()).toMatchObject({ endpoint: remote.tls.url, version: 3 });
      expect(await fetchText(tlsPort)).toBe('tls three');
    });
  });
});
