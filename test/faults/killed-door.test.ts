import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DOOR_NAMES } from '../../src/core/door.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest } from '../helpers/app-fixture.js';
import { cli } from '../helpers/cli.js';
import { containersOf, doorCleanup, fetchText } from '../helpers/docker.js';
import { load } from '../helpers/load.js';
import { fault } from './fault.js';

/**
 * The twins of killed.test's cases for an app behind the front door. The door gates a release inside a `docker
 * exec` that outlives the process that sent it: a deploy killed at its gate leaves the door still gating, and
 * routing to that release if its gate passes afterwards. The next command must leave exactly the previous release
 * serving, with no request failing meanwhile.
 */

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** Whether the door runs a `deploy` command now (an exec of `node /proxy.js deploy ...`): a gate in flight. */
function doorGating(): boolean {
  return /proxy\.js deploy/.test(docker('top', DOOR_NAMES.container, '-o', 'pid,args'));
}

/** The door's events for an app, from its status command. */
function doorEvents(app: string): Array<{ kind: string; detail: string }> {
  const out = docker('exec', DOOR_NAMES.container, 'node', '/proxy.js', 'status', JSON.stringify({ app }));
  return (JSON.parse(out) as { result: { events: Array<{ kind: string; detail: string }> } }).result.events;
}

const serveAfter = (seconds: number) => `sleep ${seconds}\nexec httpd -f -p 8080 -h /www\n`;

describe('killed (kill -9) at the front door gate', () => {
  // The deploys below start the engine's door when none runs: it goes again afterwards; one that ran is left.
  afterAll(doorCleanup());

  /**
   * An app behind the door serving 'one' (v1), and a deploy of 'two' that starts serving after `seconds`, sent
   * `signal` at its gate.
   */
  async function killedAtGate(prefix: string, seconds: number, signal: NodeJS.Signals = 'SIGKILL') {
    const f = await appForTest({
      prefix,
      body: 'one',
      deployJson: { proxy: true, bakeWindow: '0s', healthCheck: { path: '/', timeout: '60s' } },
    });
    const v1 = await f.deploy();
    f.repo.commit('two, slow to serve', { 'index.html': 'two\n', 'start.sh': serveAfter(seconds) });
    const { child, done } = f.startBin(['deploy', '--json'], { quiet: signal === 'SIGKILL' });
    const v2 = await f.waitForNewest((d) => d.id !== v1.id && d.events.includes('started'), 'v2 started');
    await until(doorGating, 'the door gating v2');
    const traffic = load(f.port, { clients: 4 });
    child.kill(signal);
    const exit = await done;
    return { f, v1, v2, exit, traffic };
  }

  it('whose gate passes after the death: the next command sends the door back to v1, then removes v2', async ({
    task,
  }) => {
    const report = fault(task, 'door routed back to v1 before v2 was removed; no request failed; v2 interrupted');
    const { f, v1, v2, traffic } = await killedAtGate('kdoor', 3);
    // The door, on its own, finished the dead process's route.
    await until(async () => (await fetchText(f.port)) === 'two', 'the door routing to v2 after the death');
    const next = await cli(['ls', '--app', f.app, '--json'], { env: f.env });
    await sleep(300);
    const outcomes = await traffic.stop();
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/the front door routes it to v1 \(\w+\) again/);
    const failed = outcomes.filter((o) => o.error !== null);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(await fetchText(f.port)).toBe('one');
    const rows = next.json<PublicRecord[]>();
    expect(rows.find((d) => d.id === v2.id)).toMatchObject({ status: 'interrupted', containerId: null });
    expect(rows.find((d) => d.id === v1.id)).toMatchObject({ status: 'running' });
    expect(containersOf(f.app)).toEqual([{ name: v1.containerName, state: 'running' }]);
    report(`v1 routed again, then v2 removed; ${outcomes.length} requests during the recovery, 0 failed`);
  });

  it('still at its gate when the next command runs: the gate is overtaken at once, v1 serves throughout', async ({
    task,
  }) => {
    const report = fault(task, 'gate in flight cancelled by the next command; v1 served throughout; v2 removed');
    const { f, v1, v2, traffic } = await killedAtGate('kdoor2', 120);
    const next = await cli(['ls', '--app', f.app, '--json'], { env: f.env });
    const outcomes = await traffic.stop();
    expect(next.code, next.stderr).toBe(0);
    // The dead process's gate did not hold the next command for its two minutes: the door dropped it.
    expect(doorGating()).toBe(false);
    const events = doorEvents(f.app);
    expect(events.filter((e) => e.kind === 'deploy-failed').map((e) => e.detail)).toEqual([
      `${f.app}-${v2.id}:8080: cancelled`,
    ]);
    expect(outcomes.filter((o) => o.error !== null || o.body !== 'one')).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(await fetchText(f.port)).toBe('one');
    expect(next.json<PublicRecord[]>().find((d) => d.id === v2.id)).toMatchObject({ status: 'interrupted' });
    expect(containersOf(f.app)).toEqual([{ name: v1.containerName, state: 'running' }]);
    report(`the door's gate of v2 overtaken; ${outcomes.length} requests, all answered by v1`);
  });

  it('Ctrl-C at the gate: exit 130, and the door drops the gate before the process exits; v1 serves throughout', async ({
    task,
  }) => {
    const report = fault(task, 'exit 130; the gate in the door cancelled by the process itself; v2 removed');
    const { f, v1, v2, exit, traffic } = await killedAtGate('kdoor3', 120, 'SIGINT');
    const outcomes = await traffic.stop();
    expect(exit.code, exit.stderr).toBe(130);
    // No later command ran: the interrupted process cancelled its gate in the door on its way out.
    expect(doorGating(), `${exit.stderr}\n${docker('top', DOOR_NAMES.container, '-o', 'pid,args')}`).toBe(false);
    expect(
      doorEvents(f.app)
        .filter((e) => e.kind === 'deploy-failed')
        .map((e) => e.detail),
    ).toEqual([`${f.app}-${v2.id}:8080: cancelled`]);
    expect(outcomes.filter((o) => o.error !== null || o.body !== 'one')).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(await f.waitForNewest((d) => d.id === v2.id)).toMatchObject({ status: 'interrupted' });
    expect(containersOf(f.app)).toEqual([{ name: v1.containerName, state: 'running' }]);
    report(`exit ${exit.code}; the door's gate of v2 cancelled by the process; ${outcomes.length} requests, all v1`);
  });
});
