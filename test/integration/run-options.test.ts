import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli } from '../helpers/cli.js';
import { fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { workspace } from '../helpers/workspace.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

interface Inspected {
  Config: {
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    User: string;
    Labels: Record<string, string>;
    StopSignal?: string;
    StopTimeout?: number;
    Healthcheck?: { Test: string[] };
  };
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
  const w = workspace();
  const { home, run, newApp, newRepo, newWebApp } = w;
  const networks: string[] = [];

  afterAll(() => {
    w.remove();
    for (const n of networks) {
      try {
        docker('network', 'rm', n);
      } catch {
        // gone already
      }
    }
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
    expect(v1.config).toMatchObject({
      memory: '64m',
      cpus: 0.5,
      user: '1000:1000',
      stopTimeout: 3,
      init: false,
      networks: [net, other],
    });

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
    expect(
      docker('run', '--rm', '--network', net, 'busybox:1.36', 'wget', '-q', '-O', '-', `http://${app}:8080/c.html`),
    ).toBe('custom 1000');

    // The plan and inspect list them; a redeploy keeps them (the same image: no build input changed).
    const plan = await run(repo.dir, 'redeploy', v1.id, '--dry-run');
    expect(plan.stdout + plan.stderr).toMatch(/options\s+memory 64m/);
    expect(plan.stdout + plan.stderr).toContain(
      'the health command `wget -q -O /dev/null http://127.0.0.1:8080/c.html` must pass',
    );
    const shown = await run(repo.dir, 'inspect', v1.id);
    expect(shown.stdout).toMatch(/options\s+memory 64m/);
    const v2 = (await run(repo.dir, 'redeploy', v1.id, '--yes', '--json')).json<PublicRecord>();
    expect(v2).toMatchObject({ status: 'running', imageId: v1.imageId });
    expect(inspect(v2.containerName as string).HostConfig).toMatchObject({
      Memory: 64 * 1024 * 1024,
      Init: false,
      NetworkMode: net,
    });
  });

  it('takes one-off options from the command line (--memory, --cpus, --set), keeps them with the record, and config set changes them for the next deploy', async () => {
    const { app, repo } = await newWebApp('flag');
    // An entrypoint clears the image's CMD, as docker run --entrypoint does: without a command there is nothing to run.
    const noCommand = await run(repo.dir, 'deploy', '--set', 'entrypoint=');
    expect(noCommand.code).toBe(EXIT_CODES.config);
    expect(noCommand.stderr).toContain('container has no command');
    const v1 = (
      await run(
        repo.dir,
        'deploy',
        '--json',
        '-m',
        '32m',
        '--cpus',
        '0.25',
        '--set',
        'entrypoint=',
        '--set',
        'command=httpd -f -p 8080 -h /www',
        '--set',
        'labels.com.example.tier=web',
      )
    ).json<PublicRecord>();
    expect(v1.status).toBe('running');
    let c = inspect(v1.containerName as string);
    expect(c.HostConfig).toMatchObject({ Memory: 32 * 1024 * 1024, NanoCpus: 250_000_000 });
    expect(c.Config.Labels['com.example.tier']).toBe('web');
    expect(c.Config.Cmd).toEqual(['httpd', '-f', '-p', '8080', '-h', '/www']);

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
    // The refused command lines recorded nothing; the one whose container could not be made is a failed deploy.
    expect((await run(repo.dir, 'ls', '--app', app, '--json')).json<PublicRecord[]>().map((d) => d.status)).toEqual([
      'running',
      'superseded',
      'superseded',
      'failed',
    ]);
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
    const v1 = (
      await run(repo.dir, 'deploy', '--json', '--target', 'base', '--build-arg', 'GREETING=hi')
    ).json<PublicRecord>();
    expect(v1.status).toBe('running');
    expect(v1.config.buildTarget).toBe('base');
    expect(docker('exec', v1.containerName as string, 'cat', '/stage.txt')).toBe('base hi');

    // The app's setting changes, but a redeploy of v1 keeps v1's own --build-arg (a one-off flag is the strongest
    // layer): nothing the image depends on changed, so it is reused.
    expect((await run(repo.dir, 'config', 'set', 'buildArgs.GREETING=hello', '--app', app)).code).toBe(0);
    const v2 = (await run(repo.dir, 'redeploy', app, '--yes', '--json')).json<PublicRecord>();
    expect(v2.imageId).toBe(v1.imageId);
    expect(docker('exec', v2.containerName as string, 'cat', '/stage.txt')).toBe('base hi');
    // A build arg that does change: the plan says so, and the redeploy builds anew.
    const plan = await run(repo.dir, 'redeploy', app, '--dry-run', '--build-arg', 'GREETING=again');
    expect(plan.stdout + plan.stderr).toContain('buildArgs changed since v2');
    const v3 = (
      await run(repo.dir, 'redeploy', app, '--yes', '--json', '--build-arg', 'GREETING=again')
    ).json<PublicRecord>();
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
    repo.commit(
      'one',
      webApp('one', {
        deployJson: { app },
        dockerfileExtra:
          'EXPOSE 8080\nHEALTHCHECK --interval=1s CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1',
      }),
    );
    const first = await run(repo.dir, 'deploy', '--json');
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(
      "Waiting for the image's HEALTHCHECK (it runs every 1s; the first result comes after one interval)",
    );
    expect(first.stderr).toContain('The image EXPOSEs 8080/tcp, which nothing publishes');

    // An image check that can never pass: turned off, the container is judged by running on.
    repo.commit(
      'two',
      webApp('two', {
        deployJson: { app, healthCheck: { command: 'none', settle: '1s' } },
        dockerfileExtra: 'HEALTHCHECK --interval=1s CMD exit 1',
      }),
    );
    const second = await run(repo.dir, 'deploy', '--json');
    expect(second.code).toBe(0);
    const v2 = second.json<PublicRecord>();
    expect(v2.status).toBe('running');
    expect(inspect(v2.containerName as string).Config.Healthcheck?.Test).toEqual(['NONE']);
    expect(second.stderr).toContain('Waiting for it to keep running for 1s');
  });

  it('refuses a network the engine does not have, with the command that makes it, and the previous release keeps serving', async () => {
    const { app, repo, port } = await newWebApp('nonet');
    expect((await run(repo.dir, 'deploy', '--json')).code).toBe(0);
    const failed = await run(repo.dir, 'deploy', '--set', `networks=${app}-missing`);
    expect(failed.code).toBe(EXIT_CODES.config);
    expect(failed.stderr).toContain(`The network ${app}-missing does not exist on the engine`);
    expect(failed.stderr).toContain(`docker network create ${app}-missing`);
    expect(await fetchText(port)).toBe('one');
  });

  it('serves a build secret from a variable or a file to RUN --mount=type=secret, keeps only where it came from, and shows its value nowhere', async () => {
    const app = newApp('bsec');
    const repo = newRepo();
    const sentinel = `s3cr3t-${app}-value`;
    const file = join(home.dir, 'npmrc');
    writeFileSync(file, `${sentinel}-file`);
    repo.commit('one', {
      Dockerfile: [
        'FROM busybox:1.36',
        'RUN --mount=type=secret,id=token,required=true --mount=type=secret,id=npmrc,required=true sh -c \'sha256sum /run/secrets/token /run/secrets/npmrc | cut -c1-64 > /sums; echo "saw $(cat /run/secrets/token)"\'',
        'CMD ["sleep", "3600"]',
        '',
      ].join('\n'),
      'deploy.json': JSON.stringify({ app }),
    });
    const env = { DEPLOY_HOME: home.dir, TOKEN: sentinel };
    // --no-cache: BuildKit leaves secret values out of its cache keys (as docker does), so an earlier run's layer would do.
    const deployed = await cli(
      [
        'deploy',
        '--json',
        '--verbose',
        '--no-cache',
        '--build-secret',
        'id=token,env=TOKEN',
        '--build-secret',
        `id=npmrc,src=${file}`,
      ],
      { cwd: repo.dir, env },
    );
    expect(deployed.code).toBe(0);
    const d = deployed.json<PublicRecord>();
    const sums = docker('exec', d.containerName as string, 'cat', '/sums').split('\n');
    expect(sums).toEqual([
      createHash('sha256').update(sentinel).digest('hex'),
      createHash('sha256').update(`${sentinel}-file`).digest('hex'),
    ]);
    expect(d.config.buildSecrets).toEqual(['id=token,env=TOKEN', `id=npmrc,src=${file}`]);
    // Nowhere: the output (the step printed it), the record, the history, labels, the image's layers.
    const shown = [
      deployed.stdout,
      deployed.stderr,
      (await cli(['inspect', d.id, '--json'], { cwd: repo.dir, env })).stdout,
      (await cli(['logs', d.id, '--build'], { cwd: repo.dir, env })).stdout,
    ];
    for (const text of shown) expect(text).not.toContain(sentinel);
    expect(deployed.stderr).toContain('saw ********');
    expect(docker('inspect', d.containerName as string)).not.toContain(sentinel);
    expect(docker('image', 'inspect', d.image as string)).not.toContain(sentinel);
    expect(docker('history', '--no-trunc', d.image as string)).not.toContain(sentinel);
    expect(
      execFileSync(
        'sh',
        [
          '-c',
          `docker save ${d.image as string} | tar -xO --wildcards '*.tar' 2>/dev/null | grep -c ${sentinel} || true`,
        ],
        { encoding: 'utf8' },
      ).trim(),
    ).toBe('0');

    // A variable that is not set is refused before anything is recorded.
    const before = (await cli(['ls', '--app', app, '--json'], { cwd: repo.dir, env })).json<unknown[]>().length;
    const unset = await cli(['redeploy', app, '--yes', '--no-cache'], {
      cwd: repo.dir,
      env: { DEPLOY_HOME: home.dir },
    });
    expect(unset.code).toBe(EXIT_CODES.usage);
    expect(unset.stderr).toContain('the environment variable TOKEN is not set');
    expect((await cli(['ls', '--app', app, '--json'], { cwd: repo.dir, env })).json<unknown[]>()).toHaveLength(before);
  });
});
