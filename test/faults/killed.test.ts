import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest, homeForTest, type AppFixture } from '../helpers/app-fixture.js';
import { cli } from '../helpers/cli.js';
import { containersOf, fetchText, freePort } from '../helpers/docker.js';
import { storePath } from '../helpers/store.js';
import { fault } from './fault.js';

const SLOW_BUILD =
  'FROM busybox:1.36\nRUN sleep 5\nWORKDIR /www\nCOPY index.html start.sh ./\nCMD ["sh", "/www/start.sh"]\n';
const SLOW_START = 'sleep 30\nexec httpd -f -p 8080 -h /www\n';

function integrity(home: string): string {
  // Raw SQL on purpose: the database's own check of its file, which no store method offers.
  const db = new DatabaseSync(storePath(home), { readOnly: true });
  try {
    return (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

/** v1 serves, alone (its container the app's only one, running), and the store's file is intact. */
async function expectOnlyV1(f: AppFixture, v1: PublicRecord): Promise<void> {
  expect(await fetchText(f.port)).toBe('good');
  expect(containersOf(f.app)).toEqual([{ name: v1.containerName, state: 'running' }]);
  expect(integrity(f.home.dir)).toBe('ok');
}

/** Starts `deploy deploy --json ARGS` as its own process, so that it can be killed. */
function startDeploy(f: AppFixture, args: string[] = [], quiet = true) {
  return f.startBin(['deploy', '--json', ...args], { quiet });
}

/** The app's deployments as `ls --json` has them (running ls is the "next command" that recovers). */
async function ls(f: AppFixture, env: Record<string, string> = f.env) {
  const r = await cli(['ls', '--app', f.app, '--json'], { env });
  return { ...r, rows: r.code === 0 ? r.json<PublicRecord[]>() : [] };
}

/**
 * Waits until the new deployment's container has started and its gate waits (the old one's stop-first stop is over
 * by then). Its container being made is not enough: with stop-first, it is made while the old one still stops, and a
 * signal then lands in that stop, not in the health wait.
 */
function inHealthWait(f: AppFixture) {
  return f.waitForNewest(
    (d) => d.status === 'starting' && Boolean(d.containerId) && d.events.includes('started'),
    'started, in its health wait',
  );
}

/** Waits (bounded) until nothing answers on the port: a stop-first switch has stopped the old one. */
async function untilSilent(port: number): Promise<void> {
  for (let i = 0; i < 50 && (await fetchText(port)) !== null; i++) await new Promise((r) => setTimeout(r, 100));
}

describe('killed (kill -9) or interrupted (Ctrl-C) mid-way', () => {
  /** A web app answering 'good', deployed once (v1) in a home of its own. */
  async function serving() {
    const f = await appForTest({
      prefix: 'kill',
      body: 'good',
      deployJson: { healthCheck: { path: '/', timeout: '60s' } },
    });
    return { f, v1: await f.deploy() };
  }

  /** v1 serves, and a deploy of a slow build, started as its own process, is building. */
  async function whileBuilding(quiet = true) {
    const { f, v1 } = await serving();
    f.repo.commit('slow build', { Dockerfile: SLOW_BUILD });
    const { child, done } = startDeploy(f, [], quiet);
    const building = await f.waitForNewest((d) => d.status === 'building', 'building');
    return { f, v1, child, done, building };
  }

  /**
   * v1 serves, and a deploy of a slow-starting release on the same port, started as its own process, waits for its
   * health gate: the stop-first switch has stopped v1.
   */
  async function inStopFirstHealthWait(quiet = true) {
    const { f, v1 } = await serving();
    f.repo.commit('slow start, same port', { 'start.sh': SLOW_START });
    const { child, done } = startDeploy(f, [], quiet);
    const starting = await inHealthWait(f);
    await untilSilent(f.port);
    return { f, v1, child, done, starting };
  }

  it('during the build: the next command marks it interrupted; the previous deployment never stopped serving', async ({
    task,
  }) => {
    const report = fault(task, 'record marked interrupted by the next command; v1 keeps serving; store intact');
    const { f, child, done, building } = await whileBuilding();
    child.kill('SIGKILL');
    await done;
    expect(await fetchText(f.port)).toBe('good');

    const next = await ls(f);
    expect(next.code).toBe(0);
    expect(next.stderr).toContain('interrupted: its process died while it was building');
    const record = next.rows.find((d) => d.id === building.id);
    expect(record).toMatchObject({ status: 'interrupted', error: { code: 'interrupted' } });
    expect(await fetchText(f.port)).toBe('good');
    expect(integrity(f.home.dir)).toBe('ok');
    report(`marked ${record?.status}; v1 answered throughout; integrity_check ok`);
  });

  it('after the new container is created (beside the old one): the next command removes it; v1 never stopped', async ({
    task,
  }) => {
    const report = fault(task, 'orphaned container removed, record interrupted; v1 never stopped serving');
    const { f, v1 } = await serving();
    const other = await freePort();
    f.repo.commit('slow start', { 'start.sh': SLOW_START });
    const { child, done } = startDeploy(f, ['--port', `127.0.0.1:${other}:8080`]);
    const starting = await f.waitForNewest(
      (d) => d.status === 'starting' && Boolean(d.containerId),
      'starting, its container made',
    );
    child.kill('SIGKILL');
    await done;
    expect(containersOf(f.app).length).toBe(2);
    expect(await fetchText(f.port)).toBe('good');

    const next = await ls(f);
    expect(next.stderr).toMatch(/Recovered .*removed the container .* \(its logs are kept\)/);
    expect(next.rows.find((d) => d.id === starting.id)).toMatchObject({ status: 'interrupted', containerId: null });
    await expectOnlyV1(f, v1);
    report('container removed by the next command (ls); v1 served throughout');
  });

  it('during the health wait, after the old one was stopped to free its port: the next command serves v1 again', async ({
    task,
  }) => {
    const report = fault(task, 'v1 (stopped for the switch-over) started again; orphan removed; record interrupted');
    const { f, v1, child, done, starting } = await inStopFirstHealthWait();
    child.kill('SIGKILL');
    await done;
    expect(await fetchText(f.port)).toBeNull();

    const next = await ls(f);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/started .* again: the interrupted switch-over had stopped it/);
    expect(next.rows.find((d) => d.id === starting.id)).toMatchObject({ status: 'interrupted' });
    await expectOnlyV1(f, v1);

    // And the app deploys normally afterwards: the dead holder's lock is taken over.
    f.repo.git('revert', '--no-edit', 'HEAD');
    f.repo.commit('after', { 'index.html': 'after\n' });
    const after = await f.cli(['deploy', '--json']);
    expect(after.code).toBe(0);
    expect(await fetchText(f.port)).toBe('after');
    report('v1 serving again after the next command; the next deploy went through');
  });

  it('Ctrl-C during the build: exit 130, recorded interrupted by the process itself; what served still serves', async ({
    task,
  }) => {
    const report = fault(task, 'exit 130; record interrupted before exit; previous deployment never stopped');
    const { f, v1, child, done, building } = await whileBuilding(false);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    // No later command ran: the interrupted process recorded it on its way out.
    expect(await f.waitForNewest((d) => d.id === building.id)).toMatchObject({ status: 'interrupted' });
    await expectOnlyV1(f, v1);
    report(`exit ${r.code}; record interrupted; previous deployment served throughout`);
  });

  it('Ctrl-C during the health wait, after the old one was stopped: the old one is started again before exit 130', async ({
    task,
  }) => {
    const report = fault(task, 'exit 130; old deployment started again by the process itself; new container removed');
    const { f, v1, child, done, starting } = await inStopFirstHealthWait(false);
    expect(await fetchText(f.port), 'the switch-over stopped the old one').toBeNull();
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(await f.waitForNewest((d) => d.id === starting.id)).toMatchObject({ status: 'interrupted' });
    // Restored by the interrupted process, not by a later command.
    await expectOnlyV1(f, v1);
    report(`exit ${r.code}; old deployment serving again; no container left behind`);
  });
});

describe('killed (kill -9) at the slow steps of a switch-over', () => {
  /** An app that ignores SIGTERM (every stop of it takes the whole stop timeout, 10 s), deployed once (v1). */
  async function stubborn() {
    const f = await appForTest({
      prefix: 'kill9',
      body: 'one',
      start: "trap '' TERM\nexec httpd -f -p 8080 -h /www\n",
    });
    return { f, v1: await f.deploy() };
  }

  it('while a stop-first switch waits for the old container to stop: the next command waits for that stop, then serves the old one', async ({
    task,
  }) => {
    const report = fault(
      task,
      'the next command waits out the stop in flight and starts v1 again; one container, v1 running',
    );
    const { f } = await stubborn();
    f.repo.commit('two', { 'index.html': 'two\n' });
    const { child, done } = startDeploy(f);
    await f.waitForNewest((d) => d.events.includes('stopping-old'), 'stopping the old one');
    child.kill('SIGKILL');
    await done;
    const next = await ls(f);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/once the engine had finished stopping it/);
    expect(await fetchText(f.port)).toBe('one');
    expect(next.rows.map((d) => d.status)).toEqual(['interrupted', 'running']);
    expect(containersOf(f.app).map((c) => c.state)).toEqual(['running']);
    report('v1 serving again after the stop in flight ended; the interrupted v2 left nothing behind');
  });

  it('while the replaced container is being retired: the next command finishes the retiring; never two running', async ({
    task,
  }) => {
    const report = fault(
      task,
      'the old one retired by the next command (superseded, container gone); starting it is refused',
    );
    const { f, v1 } = await stubborn();
    const other = await freePort();
    f.repo.commit('two', { 'index.html': 'two\n' });
    // Another port: start-first, so the new one serves while the old one takes its 10 s to stop.
    const { child, done } = startDeploy(f, ['--port', `127.0.0.1:${other}:8080`]);
    const fresh = await f.waitForNewest((d) => d.id !== v1.id && d.status === 'running', 'the new one running');
    child.kill('SIGKILL');
    await done;
    const next = await ls(f);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/retired .* had replaced when its process died/);
    expect(next.rows.filter((d) => d.status === 'running').map((d) => d.id)).toEqual([fresh.id]);
    expect(containersOf(f.app)).toHaveLength(1);
    expect(await fetchText(other)).toBe('two');
    const old = next.rows.find((d) => d.id === v1.id) as PublicRecord;
    expect(old.status).toBe('superseded');
    const start = await f.cli(['start', old.id, '--yes']);
    expect(start.code).toBe(2);
    expect(await fetchText(f.port)).toBeNull();
    report('v1 superseded and removed by the next command; v2 the only one running; start v1 refused (exit 2)');
  });

  it("killed before its gate passed: another store's sync imports its container as interrupted, never as what serves", async ({
    task,
  }) => {
    const report = fault(task, 'a fresh store after sync: the orphan is interrupted, the old one current and running');
    const { f, v1 } = await stubborn();
    const other = await freePort();
    f.repo.commit('two, slow', { 'index.html': 'two\n', 'start.sh': SLOW_START });
    const { child, done } = startDeploy(f, ['--port', `127.0.0.1:${other}:8080`]);
    const orphan = await f.waitForNewest(
      (d) => d.status === 'starting' && d.events.includes('started'),
      'started, not yet proven',
    );
    child.kill('SIGKILL');
    await done;
    // The container is there, running, not yet proven.
    expect(containersOf(f.app).some((c) => c.name.endsWith('.starting') && c.state === 'running')).toBe(true);
    const env = { DEPLOY_HOME: homeForTest() };
    const sync = await cli(['sync', '--all', '--json'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    const { rows } = await ls(f, env);
    expect(rows.find((d) => d.id === orphan.id)).toMatchObject({ status: 'interrupted', readyAt: null });
    const serving = rows.find((d) => d.status === 'running');
    expect(serving?.version).toBe(v1.version);
    const inspect = await cli(['inspect', f.app, '--json'], { env });
    expect(inspect.json<PublicRecord>().version).toBe(v1.version);
    report(`imported as interrupted; v${v1.version} stays the current, running deployment`);
    // The next change from the first store cleans it up (its process died).
    expect((await ls(f)).rows.find((d) => d.id === orphan.id)?.status).toBe('interrupted');
    expect(containersOf(f.app).some((c) => c.name.endsWith('.starting'))).toBe(false);
  });
});
