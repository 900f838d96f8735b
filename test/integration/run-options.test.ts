import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

interface Inspected {
  Config: { Cmd: string[] | null; Entrypoint: string[] | null; User: string; Labels: Record<string, string>; StopSignal?: string; StopTimeout?: number; Healthcheck?: { Test: string[] } };
  HostConfig: {
    Memory: number;
    NanoCpus: number;
    ExtraHosts: string[] | null;
    Init: boolean | null;
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    LogConfig: { Type: string; Config: Record<string, string> };
    NetworkMode: string;
  };
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> };
  State: { Health?: { Status: string } };
}

const inspect = (container: string): Inspected => JSON.parse(docker('inspect', container))[0] as Inspected;

/** Serves /tmp (writable by any user) after writing a page there: the command is the app's, not the image's. */
const SERVE_TMP = ['sh', '-c', 'echo "custom $(id -u)" > /tmp/c.html && exec httpd -f -p 8080 -h /tmp'];

describe('docker run and build options on a real engine', () => {
  const home = tempHome();
  const repos: TempRepo[] = [];
  const apps: string[] = [];
  const networks: string[] = [];
  const run = (cwd: string, ...args: string[]) => cli(args, { cwd, env: { DEPLOY_HOME: home.dir } });
  const newApp = (prefix: string) => {
    const app = testApp(prefix);
    apps.push(app);
    return app;
  };
  const newRepo = () => {
    const repo = new TempRepo();
    repos.push(repo);
    return repo;
  };

  afterAll(() => {
    removeApps(apps);
    for (const n of networks) {
      try {
        docker('network', 'rm', n);
      } catch {
        // gone already
      }
    }
    for (const r of repos) r.remove();
    home.remove();
  });

  it('applies every run option from deploy.json to the container, as docker inspect shows it, and keeps them on redeploy', async () => {
    const app = newApp('opts');
    const net = `${app}-net`;
    const other = `${app}-other`;
    docker('network', 'create', net);
    docker('network', 'create', other);
    networks.push(net, other);
    const repo = newRepo();
    const port = await freePort();
    const deployJson = {
      app,
      ports: [`127.0.0.1:${port}:8080`],
      command: SERVE_TMP,
      user: '1000:1000',
      memory: '64m',
      cpus: 0.5,
      extraHosts: ['db.internal:10.1.2.3'],
      labels: { 'com.example.team': 'payments' },
      networks: [net, other],
      logOptions: { 'max-size': '1m' },
      stopSignal: 'SIGQUIT',
      stopTimeout: '3s',
      restart: 'on-failure:2',
      init: false,
      healthCheck: { command: 'wget -q -O /dev/null http://127.0.0.1:8080/c.html', timeout: '30s' },
    };
    repo.commit('one', webApp('one', { deployJson }));
    const first = await run(repo.dir, 'deploy', '--json');
    expect(first.stderr).toContain('Waiting for the health command to pass (it runs every 2s)');
    const v1 = first.json<PublicRecord>();
    expect(v1.status).toBe('running');
    expect(v1.config).toMatchObject({ memory: '64m', cpus: 0.5, user: '1000:1000', stopTimeout: 3, init: false, networks: [net, other] });

    const c = inspect(v1.containerName as string);
    expect(c.Config.Cmd).toEqual(SERVE_TMP);
    expect(c.Config.User).toBe('1000:1000');
    expect(c.Config.Labels['com.example.team']).toBe('payments');
    expect(c.Config.Labels['dev.deploy.app']).toBe(app);
    expect(c.Config.StopSignal).toBe('SIGQUIT');
    expect(c.Config.StopTimeout).toBe(3);
    expect(c.Config.Healthcheck?.Test).toEqual(['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/c.html']);
    expect(c.State.Health?.Status).toBe('healthy');
    expect(c.HostConfig).toMatchObject({
      Memory: 64 * 1024 * 1024,
      NanoCpus: 500_000_000,
      ExtraHosts: ['db.internal:10.1.2.3'],
      Init: false,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '3' } },
      NetworkMode: net,
    });
    expect(Object.keys(c.NetworkSettings.Networks).sort()).toEqual([net, other].sort());
    for (const n of [net, other]) expect(c.NetworkSettings.Networks[n]?.Aliases).toContain(app);
    // The command ran as the user given, and the published port still reaches the app on a network of its own.
    expect(await fetchText(port, '/c.html')).toBe('custom 1000');
    expect(docker('exec', v1.containerName as string, 'cat', '/etc/hosts')).toMatch(/10\.1\.2\.3\s+db\.internal/);
    // Another container on the network reaches the app by its name, whichever release runs.
    expect(docker('run', '--rm', '--network', net, 'busybox:1.36', 'wget', '-q', '-O', '-', `http://${app}:8080/c.html`)).toBe('custom 1000');

    // The plan and inspect list them; a redeploy keeps them (the same image: no build input changed).
    const plan = await run(repo.dir, 'redeploy', v1.id, '--dry-run');
    expect(plan.stdout + plan.stderr).toMatch(/options\s+memory 64m/);
    expect(plan.stdout + plan.stderr).toContain('the health command `wget -q -O /dev/null http://127.0.0.1:8080/c.html` must pass');
    const shown = await run(repo.dir, 'inspect', v1.id);
    expect(shown.stdout).toMatch(/options\s+memory 64m/);
    const v2 = (await run(repo.dir, 'redeploy', v1.id, '--yes', '--json')).json<PublicRecord>();
    expect(v2).toMatchObject({ status: 'running', imageId: v1.imageId });
    expect(inspect(v2.containerName as string).HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, Init: false, NetworkMode: net });
  });

  it('takes one-off options from the command line (--memory, --cpus, --set), keeps them with the record, and config set changes them for the next deploy', async () => {
    const app = newApp('flag');
    const repo = newRepo();
    const port = await freePort();
    repo.commit('one', webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }));
    const v1 = (await run(repo.dir, 'deploy', '--json', '-m', '32m', '--cpus', '0.25', '--set', 'entrypoint=', '--set', 'labels.com.example.tier=web')).json<PublicRecord>();
    expect(v1.status).toBe('running');
    let c = inspect(v1.containerName as string);
    expect(c.HostConfig).toMatchObject({ Memory: 32 * 1024 * 1024, NanoCpus: 250_000_000 });
    expect(c.Config.Labels['com.example.tier']).toBe('web');
    expect(c.Config.Entrypoint).toBeNull();

    // The record's one-off settings come back with a redeploy of it.
    const v2 = (await run(repo.dir, 'redeploy', v1.id, '--yes', '--json')).json<PublicRecord>();
    expect(inspect(v2.containerName as string).HostConfig.Memory).toBe(32 * 1024 * 1024);

    expect((await run(repo.dir, 'config', 'set', 'stopTimeout=7s', 'init=false', '--app', app)).code).toBe(0);
    const listed = await run(repo.dir, 'config', 'list', '--app', app, '--json');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('"stopTimeout"');
    repo.commit('two', { 'index.html': 'two\n' });
    const v3 = (await run(repo.dir, 'deploy', '--json')).json<PublicRecord>();
    c = inspect(v3.containerName as string);
    expect(c.Config.StopTimeout).toBe(7);
    expect(c.HostConfig.Init).toBe(false);
    // A plain deploy carries no one-off settings: the memory limit was v1's own.
    expect(c.HostConfig.Memory).toBe(0);

    // Bad values are refused before anything happens, naming the setting.
    const bad = await run(repo.dir, 'deploy', '--set', 'memory=lots');
    expect(bad.code).toBe(EXIT_CODES.config);
    expect(bad.stderr).toContain('$.memory: "lots" is not a size');
    const unknown = await run(repo.dir, 'deploy', '--set', 'memroy=1g');
    expect(unknown.code).toBe(EXIT_CODES.usage);
    expect(unknown.stderr).toContain('memroy is not a setting');
    expect((await run(repo.dir, 'ls', app, '--json')).json<PublicRecord[]>()).toHaveLength(3);
  });

  it('builds the stage --target names, and a redeploy rebuilds when a build arg changed (never reusing an image the record would belie)', async () => {
    const app = newApp('tgt');
    const repo = newRepo();
    repo.commit('one', {
      Dockerfile: [
        'FROM busybox:1.36 AS base',
        'ARG GREETING=none',
        'RUN echo "base $GREETING" > /stage.txt',
        'CMD ["sleep", "3600"]',
        'FROM base AS final',
        'RUN echo final > /stage.txt',
        '',
      ].join('\n'),
      'deploy.json': JSON.stringify({ app }),
    });
    const v1 = (await run(repo.dir, 'deploy', '--json', '--target', 'base', '--build-arg', 'GREETING=hi')).json<PublicRecord>();
    expect(v1.status).toBe('running');
    expect(v1.config.buildTarget).toBe('base');
    expect(docker('exec', v1.containerName as string, 'cat', '/stage.txt')).toBe('base hi');

    // The setting changed: the plan says so, and the redeploy builds anew.
    expect((await run(repo.dir, 'config', 'set', 'buildArgs.GREETING=hello', '--app', app)).code).toBe(0);
    const plan = await run(repo.dir, 'redeploy', app, '--dry-run');
    expect(plan.stdout + plan.stderr).toContain(`buildArgs.GREETING changed since v1`);
    const v2 = (await run(repo.dir, 'redeploy', app, '--yes', '--json')).json<PublicRecord>();
    // A redeploy of v1 keeps v1's own --build-arg (a one-off flag is the strongest layer).
    expect(docker('exec', v2.containerName as string, 'cat', '/stage.txt')).toBe('base hi');
    const v3 = (await run(repo.dir, 'redeploy', app, '--yes', '--json', '--build-arg', 'GREETING=again')).json<PublicRecord>();
    expect(v3.imageId).not.toBe(v1.imageId);
    expect(docker('exec', v3.containerName as string, 'cat', '/stage.txt')).toBe('base again');

    // Without --target, the last stage.
    repo.commit('two', { README: 'x\n' });
    const v4 = (await run(repo.dir, 'deploy', '--json')).json<PublicRecord>();
    expect(docker('exec', v4.containerName as string, 'cat', '/stage.txt')).toBe('final');

    const missing = await run(repo.dir, 'deploy', '--target', 'nosuchstage');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nosuchstage/);
    expect(docker('exec', v4.containerName as string, 'cat', '/stage.txt')).toBe('final');
  });

  it("says what an image's HEALTHCHECK wait is (its interval), turns it off with healthCheck.command none, and hints at an EXPOSEd port nothing publishes", async () => {
    const app = newApp('hc');
    const repo = newRepo();
    repo.commit('one', webApp('one', { deployJson: { app }, dockerfileExtra: 'EXPOSE 8080\nHEALTHCHECK --interval=1s CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1' }));
    const first = await run(repo.dir, 'deploy', '--json');
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("Waiting for the image's HEALTHCHECK (it runs every 1s; the first result comes after one interval)");
    expect(first.stderr).toContain('The image EXPOSEs 8080/tcp, which nothing publishes');

    // An image check that can never pass: turned off, the container is judged by running on.
    repo.commit('two', webApp('two', { deployJson: { app, healthCheck: { command: 'none', settle: '1s' } }, dockerfileExtra: 'HEALTHCHECK --interval=1s CMD exit 1' }));
    const second = await run(repo.dir, 'deploy', '--json');
    expect(second.code).toBe(0);
    const v2 = second.json<PublicRecord>();
    expect(v2.status).toBe('running');
    expect(inspect(v2.containerName as string).Config.Healthcheck?.Test).toEqual(['NONE']);
    expect(second.stderr).toContain('Waiting for it to keep running for 1s');
  });

  it('refuses a network the engine does not have, with the command that makes it, and the previous release keeps serving', async () => {
    const app = newApp('nonet');
    const repo = newRepo();
    const port = await freePort();
    repo.commit('one', webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }));
    expect((await run(repo.dir, 'deploy', '--json')).code).toBe(0);
    const failed = await run(repo.dir, 'deploy', '--set', `networks=${app}-missing`);
    expect(failed.code).toBe(EXIT_CODES.config);
    expect(failed.stderr).toContain(`The network ${app}-missing does not exist on the engine`);
    expect(failed.stderr).toContain(`docker network create ${app}-missing`);
    expect(await fetchText(port)).toBe('one');
  });
});
