import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import type { AppStatus } from '../../src/services/status.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp, holdLock, removeLock } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('one truth about what runs: containers that die unasked are not shown running', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('truth');
  let port = 0;
  let container = '';
  let id = '';
  const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } });
  const record = async () => (await run('inspect', app, '--json')).json<PublicRecord>();
  const status = async () => (await run('status', app, '--json')).json<AppStatus[]>()[0] as AppStatus;

  beforeAll(async () => {
    port = await freePort();
    // restart "no": what the engine does after an exit is then only what the test does.
    repo.commit(
      'one',
      webApp('one', {
        deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, restart: 'no' },
      }),
    );
    const r = await run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<PublicRecord>();
    container = d.containerName as string;
    id = d.id;
  });
  afterAll(() => {
    removeLock(app);
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  it('shows a running app as running, with health, uptime, restarts, URL and engine in deploy status', async () => {
    const s = await status();
    expect(s).toMatchObject({
      app,
      deployment: { id, version: 1, kind: 'deploy' },
      status: 'running',
      container: { name: container, state: 'running', exitCode: null, health: 'none', restarts: 0 },
      ports: [`127.0.0.1:${port}:8080`],
      url: `http://127.0.0.1:${port}/`,
      endpoint: 'unix:///var/run/docker.sock',
      source: 'engine',
    });
    expect(s.container?.uptimeMs).toBeGreaterThanOrEqual(0);
    const plain = await run('status');
    expect(plain.code).toBe(0);
    expect(plain.stdout.split('\n')[0]).toMatch(
      /^APP\s+DEPLOYMENT\s+STATE\s+HEALTH\s+UPTIME\s+RESTARTS\s+URL\s+ENGINE$/,
    );
    expect(plain.stdout).toMatch(
      new RegExp(`${app}\\s+v1 ${id}\\s+running\\s+none\\s+\\S+\\s+0\\s+http://127\\.0\\.0\\.1:${port}/\\s+local`),
    );
    const tty = await cli(['status', app], { cwd: repo.dir, env: { DEPLOY_HOME: home.dir }, tty: true });
    expect(tty.stdout).toContain(`v1 ${id}`);
    expect(tty.stdout).toContain('running');
  });

  it('after docker stop, ls, inspect and status say exited with its exit code, not running; stop on purpose stays apart', async () => {
    docker('stop', '-t', '1', container);
    const ls = await run('ls', '--app', app, '--json');
    expect(ls.code).toBe(0);
    const row = ls.json<PublicRecord[]>()[0] as PublicRecord;
    expect(row.status).toBe('exited');
    expect(typeof row.exitCode).toBe('number');
    expect(row.exitedAt).not.toBeNull();
    expect(ls.stderr).toContain(`${app} v1 (${id}) is exited now`);
    expect(ls.stderr).toContain(`deploy start ${app}`);
    expect((await record()).status).toBe('exited');
    const s = await status();
    expect(s.status).toBe('exited');
    expect(s.container?.state).toMatch(/^exited \(\d+\)$/);
    expect(s.container?.uptimeMs).toBeNull();
    // Still the app's current deployment: the plain ls table shows it, and stats counts it as not running.
    const plain = await run('ls', '--app', app);
    expect(plain.stdout).toMatch(new RegExp(`${id}\\s+v1\\s+${app}\\s+exited`));
    expect((await run('stats', '--app', app, '--json')).json<{ running: number; stopped: number }>()).toMatchObject({
      running: 0,
      stopped: 1,
    });
  });

  it('after docker start it is running again', async () => {
    docker('start', container);
    expect((await run('ls', '--app', app, '--json')).json<PublicRecord[]>()[0]).toMatchObject({
      status: 'running',
      exitCode: null,
      exitedAt: null,
    });
    expect((await status()).container?.state).toBe('running');
    expect(await fetchText(port)).toBe('one');
  });

  it('after docker kill, status shows exited (137)', async () => {
    docker('kill', container);
    const s = await status();
    expect(s).toMatchObject({ status: 'exited', container: { state: 'exited (137)', exitCode: 137 } });
    expect((await record()).exitCode).toBe(137);
    expect((await run('inspect', app)).stdout).toMatch(/exited\s+code 137 · \d{4}-\d\d-\d\d /);
    docker('start', container);
    expect((await status()).status).toBe('running');
  });

  it('a read-only command during a held lock records nothing, and says the app is shown as recorded', async () => {
    holdLock(app);
    try {
      docker('stop', '-t', '1', container);
      for (const args of [
        ['ls', '--app', app, '--json'],
        ['inspect', app, '--json'],
        ['status', app, '--json'],
        ['stats', '--app', app, '--json'],
        ['logs', app],
      ]) {
        const r = await run(...args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toContain(`${app}: shown as recorded, its lock is held right now`);
      }
      const store = Store.open(join(home.dir, 'deploy.db'));
      try {
        expect(store.getDeployment(id)?.status).toBe('running');
      } finally {
        store.close();
      }
    } finally {
      removeLock(app);
    }
    // Once the lock is gone, the next look records what happened.
    expect((await record()).status).toBe('exited');
  });

  it('a read-only command records nothing while a deployment of the app is in progress in the store', async () => {
    docker('start', container);
    expect((await record()).status).toBe('running');
    docker('stop', '-t', '1', container);
    const store = Store.open(join(home.dir, 'deploy.db'));
    try {
      // A second deployment "in progress", worked on by this (live) process: what a switch-over looks like in the store.
      const other = store.createDeployment({
        ...(store.getDeployment(id) as NonNullable<ReturnType<Store['getDeployment']>>),
        id: 'zzprogr2',
        status: 'starting',
        containerId: null,
        worker: { machine: execFileSync('cat', ['/etc/machine-id'], { encoding: 'utf8' }).trim(), pid: process.pid },
      });
      const r = await run('ls', '--app', app, '--json');
      expect(r.stderr).toContain('a deployment of it is in progress');
      expect(store.getDeployment(id)?.status).toBe('running');
      store.updateDeployment(other.id, { status: 'failed', worker: null });
    } finally {
      store.close();
    }
    expect((await record()).status).toBe('exited');
  });

  it('an app whose process exits by itself is exited with its code', async () => {
    const repo2 = new TempRepo();
    const app2 = testApp('exits');
    const port2 = await freePort();
    try {
      repo2.commit(
        'exits',
        webApp('x', {
          start: 'httpd -p 8080 -h /www\nsleep 4\nexit 3\n',
          deployJson: { app: app2, ports: [`127.0.0.1:${port2}:8080`], healthCheck: { path: '/' }, restart: 'no' },
        }),
      );
      const r = await cli(['deploy', '--json'], { cwd: repo2.dir, env: { DEPLOY_HOME: home.dir } });
      expect(r.code, r.stderr).toBe(0);
      const name = r.json<PublicRecord>().containerName as string;
      await waitFor('the app to exit', () => docker('inspect', '-f', '{{.State.Status}}', name) === 'exited');
      const s = (await run('status', app2, '--json')).json<AppStatus[]>()[0];
      expect(s).toMatchObject({ status: 'exited', container: { state: 'exited (3)', exitCode: 3 } });
    } finally {
      removeApps([app2]);
      repo2.remove();
    }
  });

  it('a container removed outside the tool is exited, with no exit code', async () => {
    docker('start', container);
    expect((await record()).status).toBe('running');
    docker('rm', '-f', container);
    const r = (await run('inspect', app, '--json')).json<PublicRecord>();
    expect(r).toMatchObject({ status: 'exited', exitCode: null });
    expect((await status()).container?.state).toBe('gone');
  });

  it('status of an unknown app exits 3 and says how to bring it in', async () => {
    const r = await run('status', 'no-such-app-here');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('There is no app named no-such-app-here');
    expect(r.stderr).toContain('deploy sync --app no-such-app-here');
  });
});

describe('an engine that does not answer costs a read-only command almost nothing', () => {
  const home = tempHome();
  afterAll(() => home.remove());

  it('answers from the store, says so once with how old the state is, and does not wait on the next run', async () => {
    const store = Store.open(join(home.dir, 'deploy.db'));
    try {
      // Records as another machine's store would hold them: an ssh engine that does not exist (a TEST-NET
      // address nothing answers on) and a local socket that is not there.
      const base = {
        kind: 'deploy' as const,
        parentId: null,
        status: 'running' as const,
        source: '/src',
        subdir: '',
        ref: 'main',
        commit: 'a'.repeat(40),
        commitSubject: 's',
        commitAuthor: 'a',
        commitTime: null,
        dirty: false,
        image: null,
        imageId: null,
        imageDigest: null,
        runtime: 'container' as const,
        workload: 'c',
        containerId: 'c',
        containerName: 'n',
        config: JSON.parse(
          '{"dockerfile":"Dockerfile","context":".","buildArgs":{},"env":{},"ports":[],"healthCheck":{"path":null,"port":null,"timeoutMs":1,"intervalMs":1,"settleMs":1},"restart":"no","noCache":false,"pull":false,"retention":5}',
        ),
        createdAt: Date.now() - 3_600_000,
        buildStartedAt: null,
        buildFinishedAt: null,
        startedAt: null,
        readyAt: Date.now() - 3_600_000,
        finishedAt: null,
        actor: 'x',
        origin: 'ci' as const,
        error: null,
      };
      for (const [app, endpoint] of [
        ['far-a', 'ssh://nobody@192.0.2.1'],
        ['gone-b', 'unix:///tmp/deploy-no-such.sock'],
      ] as const) {
        const d = store.createDeployment({ ...base, id: `${app.slice(0, 4)}2345`.replace('-', 'x'), app, endpoint });
        store.setCurrent(app, d.id, Date.now());
      }
    } finally {
      store.close();
    }
    const t0 = Date.now();
    const first = await cli(['ls', '--json'], { env: { DEPLOY_HOME: home.dir } });
    const firstMs = Date.now() - t0;
    expect(first.code).toBe(0);
    expect(first.json<PublicRecord[]>().map((d) => d.status)).toEqual(['running', 'running']);
    expect(firstMs).toBeLessThan(2_500);
    expect(first.stderr).toMatch(
      /The state of far-a is as the store has it \(never checked against it\): the engine at ssh:\/\/nobody@192\.0\.2\.1 did not answer/,
    );
    expect(first.stderr).toMatch(/The state of gone-b is as the store has it .*did not answer \(no socket there\)/);
    expect(first.stderr.match(/as the store has it/g)).toHaveLength(2);
    const t1 = Date.now();
    const second = await cli(['ls'], { env: { DEPLOY_HOME: home.dir } });
    expect(Date.now() - t1).toBeLessThan(500);
    expect(second.stderr).toContain('is asked again after a minute');
  });

  it('waits at most the bound for an engine that accepts the connection and never answers', async () => {
    // A real listener that says nothing: what a hung engine (or a firewall that swallows packets) looks like.
    const held: Socket[] = [];
    const server = createServer((s) => held.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const dead = tempHome();
    try {
      const store = Store.open(join(dead.dir, 'deploy.db'));
      const other = Store.open(join(home.dir, 'deploy.db'));
      try {
        const d = other.list({ app: 'far-a' })[0] as NonNullable<ReturnType<Store['getDeployment']>>;
        const copy = store.createDeployment({ ...d, app: 'hung', endpoint: `tcp://127.0.0.1:${port}` });
        store.setCurrent('hung', copy.id, Date.now());
      } finally {
        store.close();
        other.close();
      }
      const t0 = Date.now();
      const first = await cli(['status', '--json'], { env: { DEPLOY_HOME: dead.dir } });
      const ms = Date.now() - t0;
      expect(first.code).toBe(0);
      expect(first.json<AppStatus[]>()[0]).toMatchObject({
        app: 'hung',
        status: 'running',
        source: 'store',
        container: null,
      });
      expect(first.stderr).toContain('did not answer (no answer within 1.2 s)');
      expect(ms).toBeGreaterThanOrEqual(1_100);
      expect(ms).toBeLessThan(2_500);
      const t1 = Date.now();
      await cli(['ls'], { env: { DEPLOY_HOME: dead.dir } });
      expect(Date.now() - t1).toBeLessThan(500);
      // The live view asks again (bounded), whatever the last answer was.
      const t2 = Date.now();
      expect((await cli(['status'], { env: { DEPLOY_HOME: dead.dir } })).stderr).toContain('no answer within 1.2 s');
      expect(Date.now() - t2).toBeGreaterThanOrEqual(1_100);
    } finally {
      held.forEach((s) => s.destroy());
      server.close();
      dead.remove();
    }
  });
});

describe('bad input to status, destroy and sync changes nothing and says what to do', () => {
  const home = tempHome();
  afterAll(() => home.remove());
  const run = (...args: string[]) => cli(args, { env: { DEPLOY_HOME: home.dir } });

  it('refuses conflicting and invalid app names with exit 2, and unknown apps with exit 3', async () => {
    const cases: Array<[string[], number, string]> = [
      [['sync', '--app', 'web', '--all'], 2, '--app and --all both say which apps to sync'],
      [['status', 'web', '--app', 'api'], 2, 'Two apps given: web and --app api'],
      [['destroy', 'web', '--app', 'api', '--yes'], 2, 'Two apps given: web and --app api'],
      [['destroy', '--yes'], 2, 'Which app? Nothing was changed.'],
      [['destroy', 'MyApp', '--yes'], 2, 'Invalid app name "MyApp" (from the APP argument)'],
      [['status', '--app', 'My App'], 2, 'Invalid app name "My App" (from --app)'],
      [['destroy', 'web', '--yes'], 3, 'There is no app named web in this store; nothing was changed.'],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(...args, '--json');
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.json<{ error: { message: string; exitCode: number } }>().error).toMatchObject({
        exitCode: code,
        message: expect.stringContaining(message),
      });
    }
  });
});
