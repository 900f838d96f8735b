import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { containersOf, fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';

/** Starts `deploy deploy --json` as its own process, so it can be killed with SIGKILL. */
function startDeploy(cwd: string, home: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, [BIN, 'deploy', '--json', ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, DEPLOY_HOME: home, CI: 'true' }, stdio: 'ignore' });
}

/** kill -9, and the moment the process is gone. */
async function kill(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

function integrity(home: string): string {
  const db = new DatabaseSync(join(home, 'deploy.db'), { readOnly: true });
  try {
    return (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

describe('killed (kill -9) or interrupted (Ctrl-C) mid-way', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('kill');
  let port = 0;
  let v1: PublicRecord;
  const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } });

  /** Waits (bounded: 30 s) until the newest record of the app satisfies `until`. */
  async function waitForNewest(until: (d: PublicRecord) => boolean): Promise<PublicRecord> {
    for (let i = 0; i < 300; i++) {
      // Read the store directly: a command would itself run the recovery we are about to test.
      const db = new DatabaseSync(join(home.dir, 'deploy.db'), { readOnly: true });
      const row = db.prepare('SELECT id, status, container_id FROM deployments WHERE app = ? ORDER BY version DESC LIMIT 1').get(app) as { id: string; status: string; container_id: string | null } | undefined;
      db.close();
      if (row && until({ id: row.id, status: row.status, containerId: row.container_id } as unknown as PublicRecord)) return { id: row.id, status: row.status, containerId: row.container_id } as unknown as PublicRecord;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the deployment never reached the expected state');
  }

  beforeAll(async () => {
    port = await freePort();
    repo.commit('good', webApp('good', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/', timeout: '60s' } } }));
    v1 = (await run('deploy', '--json')).json<PublicRecord>();
    expect(v1.status).toBe('running');
  });
  afterAll(() => {
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  it('during the build: the next command marks it interrupted; the previous deployment never stopped serving', async ({ task }) => {
    const report = fault(task, 'record marked interrupted by the next command; v1 keeps serving; store intact');
    repo.commit('slow build', { Dockerfile: 'FROM busybox:1.36\nRUN sleep 5\nWORKDIR /www\nCOPY index.html start.sh ./\nCMD ["sh", "/www/start.sh"]\n' });
    const child = startDeploy(repo.dir, home.dir);
    const building = await waitForNewest((d) => d.status === 'building');
    await kill(child);
    expect(await fetchText(port)).toBe('good');

    const ls = await run('ls', '--app', app, '--json');
    expect(ls.code).toBe(0);
    expect(ls.stderr).toContain('interrupted: its process died while it was building');
    const record = ls.json<PublicRecord[]>().find((d) => d.id === building.id);
    expect(record).toMatchObject({ status: 'interrupted', error: { code: 'interrupted' } });
    expect(await fetchText(port)).toBe('good');
    expect(integrity(home.dir)).toBe('ok');
    report(`marked ${record?.status}; v1 answered throughout; integrity_check ok`);
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('after the new container is created (beside the old one): the next command removes it; v1 never stopped', async ({ task }) => {
    const report = fault(task, 'orphaned container removed, record interrupted; v1 never stopped serving');
    const other = await freePort();
    repo.commit('slow start', { 'start.sh': 'sleep 30\nexec httpd -f -p 8080 -h /www\n' });
    const child = startDeploy(repo.dir, home.dir, ['--port', `127.0.0.1:${other}:8080`]);
    const starting = await waitForNewest((d) => d.status === 'starting' && Boolean(d.containerId));
    await kill(child);
    expect(containersOf(app).length).toBe(2);
    expect(await fetchText(port)).toBe('good');

    const r = await run('ls', '--app', app, '--json');
    expect(r.stderr).toMatch(/Recovered .*removed the container .* \(its logs are kept\)/);
    expect(r.json<PublicRecord[]>().find((d) => d.id === starting.id)).toMatchObject({ status: 'interrupted', containerId: null });
    expect(containersOf(app)).toEqual([{ name: v1.containerName, state: 'running' }]);
    expect(await fetchText(port)).toBe('good');
    expect(integrity(home.dir)).toBe('ok');
    report('container removed by the next command (ls); v1 served throughout');
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('during the health wait, after the old one was stopped to free its port: the next command serves v1 again', async ({ task }) => {
    const report = fault(task, 'v1 (stopped for the switch-over) started again; orphan removed; record interrupted');
    repo.commit('slow start, same port', { 'start.sh': 'sleep 30\nexec httpd -f -p 8080 -h /www\n' });
    const child = startDeploy(repo.dir, home.dir);
    const starting = await waitForNewest((d) => d.status === 'starting' && Boolean(d.containerId));
    // Give it the moment it takes to stop v1 (stop-first: they share the port).
    for (let i = 0; i < 50 && (await fetchText(port)) !== null; i++) await new Promise((r) => setTimeout(r, 100));
    await kill(child);
    expect(await fetchText(port)).toBeNull();

    const r = await run('ls', '--app', app, '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/started .* again: the interrupted switch-over had stopped it/);
    expect(r.json<PublicRecord[]>().find((d) => d.id === starting.id)).toMatchObject({ status: 'interrupted' });
    expect(await fetchText(port)).toBe('good');
    expect(containersOf(app)).toEqual([{ name: v1.containerName, state: 'running' }]);
    expect(integrity(home.dir)).toBe('ok');

    // And the app deploys normally afterwards: the dead holder's lock is taken over.
    repo.git('revert', '--no-edit', 'HEAD');
    repo.commit('after', { 'index.html': 'after\n' });
    const next = await run('deploy', '--json');
    expect(next.code).toBe(0);
    expect(await fetchText(port)).toBe('after');
    report('v1 serving again after the next command; the next deploy went through');
  });

  /** Sends Ctrl-C's signal to a running deploy; resolves with its exit code and what it said on stderr. */
  async function interrupt(child: ChildProcess, stderr: () => string): Promise<{ code: number | null; stderr: string }> {
    const gone = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    return { code: await gone, stderr: stderr() };
  }

  function startWatched(): { child: ChildProcess; stderr: () => string } {
    const child = spawn(process.execPath, [BIN, 'deploy', '--json'], { cwd: repo.dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, DEPLOY_HOME: home.dir, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    return { child, stderr: () => err };
  }

  it('Ctrl-C during the build: exit 130, recorded interrupted by the process itself; what served still serves', async ({ task }) => {
    const report = fault(task, 'exit 130; record interrupted before exit; previous deployment never stopped');
    const serving = (await run('ls', '--app', app, '--json')).json<PublicRecord[]>().find((d) => d.status === 'running');
    repo.commit('slow build again', { Dockerfile: 'FROM busybox:1.36\nRUN sleep 5\nWORKDIR /www\nCOPY index.html start.sh ./\nCMD ["sh", "/www/start.sh"]\n' });
    const { child, stderr } = startWatched();
    const building = await waitForNewest((d) => d.status === 'building');
    const r = await interrupt(child, stderr);
    expect(r.code, r.stderr).toBe(130);
    // No later command ran: the interrupted process recorded it on its way out.
    expect(await waitForNewest((d) => d.id === building.id)).toMatchObject({ status: 'interrupted' });
    expect(await fetchText(port)).toBe('after');
    expect(containersOf(app)).toEqual([{ name: serving?.containerName, state: 'running' }]);
    expect(integrity(home.dir)).toBe('ok');
    report(`exit ${r.code}; record interrupted; previous deployment served throughout`);
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('Ctrl-C during the health wait, after the old one was stopped: the old one is started again before exit 130', async ({ task }) => {
    const report = fault(task, 'exit 130; old deployment started again by the process itself; new container removed');
    const serving = (await run('ls', '--app', app, '--json')).json<PublicRecord[]>().find((d) => d.status === 'running');
    repo.commit('slow start, same port, again', { 'start.sh': 'sleep 30\nexec httpd -f -p 8080 -h /www\n' });
    const { child, stderr } = startWatched();
    const starting = await waitForNewest((d) => d.status === 'starting' && Boolean(d.containerId));
    for (let i = 0; i < 50 && (await fetchText(port)) !== null; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await fetchText(port), 'the switch-over stopped the old one').toBeNull();
    const r = await interrupt(child, stderr);
    expect(r.code, r.stderr).toBe(130);
    expect(await waitForNewest((d) => d.id === starting.id)).toMatchObject({ status: 'interrupted' });
    // Restored by the interrupted process, not by a later command.
    expect(await fetchText(port)).toBe('after');
    expect(containersOf(app)).toEqual([{ name: serving?.containerName, state: 'running' }]);
    expect(integrity(home.dir)).toBe('ok');
    report(`exit ${r.code}; old deployment serving again; no container left behind`);
    repo.git('revert', '--no-edit', 'HEAD');
  });
});

describe('killed (kill -9) at the slow steps of a switch-over', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('kill9');
  let port = 0;
  const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } });

  async function newest(until: (row: { id: string; status: string; events: string[] }) => boolean): Promise<{ id: string; status: string }> {
    for (let i = 0; i < 300; i++) {
      const db = new DatabaseSync(join(home.dir, 'deploy.db'), { readOnly: true });
      const row = db.prepare('SELECT id, status FROM deployments WHERE app = ? ORDER BY version DESC LIMIT 1').get(app) as { id: string; status: string } | undefined;
      const events = row ? (db.prepare('SELECT type FROM events WHERE deployment_id = ?').all(row.id) as Array<{ type: string }>).map((e) => e.type) : [];
      db.close();
      if (row && until({ ...row, events })) return row;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the deployment never reached the expected state');
  }

  beforeAll(async () => {
    port = await freePort();
    // An app that ignores SIGTERM: every stop of it takes the whole stop timeout (10 s).
    repo.commit('one', webApp('one', { start: "trap '' TERM\nexec httpd -f -p 8080 -h /www\n", deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }));
    expect((await run('deploy', '--json')).code).toBe(0);
  });
  afterAll(() => {
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  it('while a stop-first switch waits for the old container to stop: the next command waits for that stop, then serves the old one', async ({ task }) => {
    const report = fault(task, 'the next command waits out the stop in flight and starts v1 again; one container, v1 running');
    repo.commit('two', { 'index.html': 'two\n' });
    const child = startDeploy(repo.dir, home.dir);
    await newest((d) => d.events.includes('stopping-old'));
    await kill(child);
    const r = await run('ls', '--app', app, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/once the engine had finished stopping it/);
    expect(await fetchText(port)).toBe('one');
    const rows = r.json<PublicRecord[]>();
    expect(rows.map((d) => d.status)).toEqual(['interrupted', 'running']);
    expect(containersOf(app).map((c) => c.state)).toEqual(['running']);
    report('v1 serving again after the stop in flight ended; the interrupted v2 left nothing behind');
  });

  it('while the replaced container is being retired: the next command finishes the retiring; never two running', async ({ task }) => {
    const report = fault(task, 'the old one retired by the next command (superseded, container gone); starting it is refused');
    const other = await freePort();
    repo.commit('three', { 'index.html': 'three\n' });
    // Another port: start-first, so the new one serves while the old one takes its 10 s to stop.
    const child = startDeploy(repo.dir, home.dir, ['--port', `127.0.0.1:${other}:8080`]);
    const fresh = await newest((d) => d.status === 'running');
    await kill(child);
    const r = await run('ls', '--app', app, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/retired .* had replaced when its process died/);
    const rows = r.json<PublicRecord[]>();
    expect(rows.filter((d) => d.status === 'running').map((d) => d.id)).toEqual([fresh.id]);
    expect(containersOf(app)).toHaveLength(1);
    expect(await fetchText(other)).toBe('three');
    const old = rows.find((d) => d.version === 1) as PublicRecord;
    expect(old.status).toBe('superseded');
    const start = await run('start', old.id, '--yes');
    expect(start.code).toBe(2);
    expect(await fetchText(port)).toBeNull();
    report('v1 superseded and removed by the next command; v3 the only one running; start v1 refused (exit 2)');
  });

  it("killed before its gate passed: another store's sync imports its container as interrupted, never as what serves", async ({ task }) => {
    const report = fault(task, 'a fresh store after sync: the orphan is interrupted, the old one current and running');
    const other = await freePort();
    repo.commit('four, slow', { 'index.html': 'four\n', 'start.sh': 'sleep 30\nexec httpd -f -p 8080 -h /www\n' });
    const child = startDeploy(repo.dir, home.dir, ['--port', `127.0.0.1:${other}:8080`]);
    const orphan = await newest((d) => d.status === 'starting' && d.events.includes('started'));
    await kill(child);
    // The container is there, running, not yet proven.
    expect(containersOf(app).some((c) => c.name.endsWith('.starting') && c.state === 'running')).toBe(true);
    const fresh = tempHome();
    try {
      const env = { DEPLOY_HOME: fresh.dir };
      const sync = await cli(['sync', '--all', '--json'], { env });
      expect(sync.code, sync.stderr).toBe(0);
      const rows = (await cli(['ls', '--app', app, '--json'], { env })).json<PublicRecord[]>();
      expect(rows.find((d) => d.id === orphan.id)).toMatchObject({ status: 'interrupted', readyAt: null });
      const serving = rows.find((d) => d.status === 'running');
      expect(serving?.version).toBe(3);
      const inspect = await cli(['inspect', app, '--json'], { env });
      expect(inspect.json<PublicRecord>().version).toBe(3);
      report('imported as interrupted; v3 stays the current, running deployment');
    } finally {
      fresh.remove();
    }
    // The next change from the first store cleans it up (its process died).
    const r = await run('ls', '--app', app, '--json');
    expect(r.json<PublicRecord[]>().find((d) => d.id === orphan.id)?.status).toBe('interrupted');
    expect(containersOf(app).some((c) => c.name.endsWith('.starting'))).toBe(false);
  });
});
