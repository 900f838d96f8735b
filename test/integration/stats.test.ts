import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import type { Stats } from '../../src/core/stats.js';
import type { Deployment } from '../../src/core/types.js';
import { cli, tempHome } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/unit.js';
import { newDeployment } from '../helpers/new-deployment.js';

const T = (iso: string) => Date.parse(iso);
const NOW = T('2026-11-22T12:00:00Z');

/** A store holding deployments with fixed times, so every figure is known in advance. */
function seed(path: string): void {
  const store = Store.open(path);
  const add = (d: Partial<Deployment>) => {
    const { version: _v, supersededBy, ...rest } = makeDeployment(d);
    store.createDeployment(rest);
    if (supersededBy) store.updateDeployment(rest.id, { supersededBy, rolledBack: supersededBy.startsWith('web4') });
    // As release() does when a deployment becomes healthy.
    if (rest.readyAt !== null) store.markFirstReady(rest.id);
  };
  // Outside the 30-day window.
  add({
    id: 'old0aaaa',
    app: 'web',
    status: 'superseded',
    createdAt: T('2026-09-01T10:00:00Z'),
    commitTime: T('2026-09-01T09:00:00Z'),
    buildStartedAt: T('2026-09-01T10:00:01Z'),
    buildFinishedAt: T('2026-09-01T10:00:02Z'),
    startedAt: T('2026-09-01T10:00:03Z'),
    readyAt: T('2026-09-01T10:00:04Z'),
    finishedAt: T('2026-09-01T10:00:05Z'),
    commit: 'c0',
  });
  // web: deployed, then a second deploy that gets rolled back after a failed third one.
  add({
    id: 'web1aaaa',
    app: 'web',
    status: 'superseded',
    supersededBy: 'web2aaaa',
    commit: 'c1',
    createdAt: T('2026-11-10T10:00:00Z'),
    commitTime: T('2026-11-10T09:00:00Z'),
    buildStartedAt: T('2026-11-10T10:00:01Z'),
    buildFinishedAt: T('2026-11-10T10:00:31Z'),
    startedAt: T('2026-11-10T10:00:32Z'),
    readyAt: T('2026-11-10T10:00:35Z'),
    finishedAt: T('2026-11-10T10:00:36Z'),
  });
  add({
    id: 'web2aaaa',
    app: 'web',
    status: 'superseded',
    supersededBy: 'web4aaaa',
    commit: 'c2',
    createdAt: T('2026-11-11T10:00:00Z'),
    commitTime: T('2026-11-11T09:30:00Z'),
    buildStartedAt: T('2026-11-11T10:00:01Z'),
    buildFinishedAt: T('2026-11-11T10:00:21Z'),
    startedAt: T('2026-11-11T10:00:22Z'),
    readyAt: T('2026-11-11T10:00:24Z'),
    finishedAt: T('2026-11-11T10:00:25Z'),
  });
  add({
    id: 'web3aaaa',
    app: 'web',
    status: 'failed',
    commit: 'c3',
    createdAt: T('2026-11-12T10:00:00Z'),
    commitTime: T('2026-11-12T09:00:00Z'),
    buildStartedAt: T('2026-11-12T10:00:01Z'),
    buildFinishedAt: T('2026-11-12T10:00:11Z'),
    startedAt: T('2026-11-12T10:00:12Z'),
    readyAt: null,
    finishedAt: T('2026-11-12T10:01:12Z'),
    error: { code: 'health_failed', message: 'x' },
  });
  add({
    id: 'web4aaaa',
    app: 'web',
    kind: 'rollback',
    parentId: 'web1aaaa',
    status: 'running',
    commit: 'c1',
    createdAt: T('2026-11-12T11:00:00Z'),
    commitTime: T('2026-11-10T09:00:00Z'),
    buildStartedAt: null,
    buildFinishedAt: null,
    startedAt: T('2026-11-12T11:00:01Z'),
    readyAt: T('2026-11-12T11:00:05Z'),
    finishedAt: T('2026-11-12T11:00:06Z'),
  });
  // api: one deployed and since stopped, one still building.
  add({
    id: 'api1aaaa',
    app: 'api',
    status: 'stopped',
    commit: 'a1',
    createdAt: T('2026-11-20T08:00:00Z'),
    commitTime: T('2026-11-20T07:00:00Z'),
    buildStartedAt: T('2026-11-20T08:00:01Z'),
    buildFinishedAt: T('2026-11-20T08:00:41Z'),
    startedAt: T('2026-11-20T08:00:42Z'),
    readyAt: T('2026-11-20T08:00:43Z'),
    finishedAt: T('2026-11-20T08:00:44Z'),
  });
  add({
    id: 'api2aaaa',
    app: 'api',
    status: 'building',
    commit: 'a2',
    createdAt: T('2026-11-21T08:00:00Z'),
    commitTime: T('2026-11-21T07:00:00Z'),
    buildStartedAt: T('2026-11-21T08:00:01Z'),
    buildFinishedAt: null,
    startedAt: null,
    readyAt: null,
    finishedAt: null,
  });
  store.close();
}

describe('deploy stats over a store with known deployments', () => {
  const home = tempHome();
  beforeAll(() => seed(join(home.dir, 'deploy.db')));
  afterAll(() => home.remove());

  it('gives the exact counts, durations and delivery metrics', async () => {
    const fixed = await statsAt(home.dir, NOW);
    expect(fixed).toMatchObject({
      window: { since: '2026-10-23T12:00:00.000Z', until: '2026-11-22T12:00:00.000Z', days: 30 },
      total: 6,
      pending: 1,
      successful: 4,
      failed: 1,
      running: 1,
      stopped: 1,
      durations: {
        build: { n: 3, medianMs: 30_000, p95Ms: 39_000 },
        startToReady: { n: 4, medianMs: 2_500, p95Ms: 3_850 },
        total: { n: 4, medianMs: 30_500, p95Ms: 42_800 },
      },
      delivery: {
        deploymentFrequency: { successful: 4, perDay: 0.13, perWeek: 0.93 },
        leadTime: { n: 3, medianMs: 3_635_000, p95Ms: 3_642_200 },
        changeFailureRate: { rate: 0.5, changes: 4, failed: 1, rolledBack: 1 },
        timeToRestore: { n: 2, medianMs: 46_757_000, p95Ms: 85_658_600, unrestored: 0 },
      },
    });
    expect(
      fixed.apps.map((a) => [
        a.app,
        a.total,
        a.pending,
        a.successful,
        a.failed,
        a.running,
        a.stopped,
        a.delivery.changeFailureRate.rate,
      ]),
    ).toEqual([
      ['api', 2, 1, 1, 0, 0, 1, 0],
      ['web', 4, 0, 3, 1, 1, 0, 0.67],
    ]);
    expect(fixed.perDay).toHaveLength(31);
    expect(fixed.perDay.filter((d) => d.successful + d.failed > 0)).toEqual([
      { date: '2026-11-10', successful: 1, failed: 0 },
      { date: '2026-11-11', successful: 1, failed: 0 },
      { date: '2026-11-12', successful: 1, failed: 1 },
      { date: '2026-11-20', successful: 1, failed: 0 },
    ]);
  });

  it('narrows to one app and to a window', async () => {
    const web = await statsAt(home.dir, NOW, ['--app', 'web', '--since', '2026-11-11']);
    expect(web).toMatchObject({
      app: 'web',
      total: 3,
      successful: 2,
      failed: 1,
      delivery: { changeFailureRate: { changes: 2, failed: 1, rolledBack: 1 } },
    });
    const none = await statsAt(home.dir, NOW, ['--since', '1h']);
    expect(none).toMatchObject({ total: 0, successful: 0, running: 1, stopped: 1 });
  });

  it('prints a table, the metrics and a chart a person reads at a glance', async () => {
    const r = await cli(['stats', '--since', '2026-11-08'], { env: { DEPLOY_HOME: home.dir }, now: () => NOW });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^APP\s+TOTAL\s+PENDING\s+SUCCESSFUL\s+FAILED\s+RUNNING\s+STOPPED/);
    expect(r.stdout).toMatch(/^web\s+4\s+0\s+3\s+1\s+1\s+0\s+25s\s+45m30s\s+67%$/m);
    expect(r.stdout).toMatch(/^all apps\s+6\s+1\s+4\s+1\s+1\s+1/m);
    expect(lines[0]).toBe('All apps: deployments since 2026-11-08 (15 days)');
    expect(r.stdout).toContain('change failure rate     50% (1 failed + 1 rolled back, of 4 changes)');
    const chart = lines.slice(lines.findIndex((l) => l.startsWith('Deployments per day')) + 1);
    const columns = (row: string | undefined) => (row ?? '').slice(13);
    // One column per day from 11-08: successes on 11-10, 11-11, 11-12 and 11-20, a failure on 11-12, each
    // as tall as the tallest bar (1): three rows of successes, and the failure as tall below the rule.
    expect(columns(chart[2])).toMatch(/^ {2}███ {7}█/);
    expect(chart[3]).toMatch(/^ {13}─+$/);
    expect(chart.slice(4, 7).map((l) => columns(l)[4])).toEqual(['█', '█', '█']);
    expect(chart[4]).toMatch(/^ {6}failed /);
    expect(r.stdout).not.toContain('\u001b[');
  });
});

/** Runs `deploy stats --json` with the clock fixed at `now`. */
async function statsAt(dir: string, now: number, args: string[] = []): Promise<Stats> {
  const r = await cli(['stats', '--json', ...args], { env: { DEPLOY_HOME: dir }, now: () => now });
  expect(r.code).toBe(0);
  return r.json<Stats>();
}

describe('deploy stats with records that deploy sync rebuilt from images', () => {
  const home = tempHome();
  beforeAll(() => {
    const store = Store.open(join(home.dir, 'deploy.db'));
    const base = { app: 'web', status: 'superseded' as const, commitTime: T('2026-11-20T09:00:00Z') };
    // Made here: every time is known.
    const made = makeDeployment({
      ...base,
      id: 'made1aaa',
      commit: 'm1',
      createdAt: T('2026-11-20T10:00:00Z'),
      buildStartedAt: T('2026-11-20T10:00:01Z'),
      buildFinishedAt: T('2026-11-20T10:00:11Z'),
      startedAt: T('2026-11-20T10:00:12Z'),
      readyAt: T('2026-11-20T10:00:14Z'),
      finishedAt: T('2026-11-20T10:00:15Z'),
    });
    // Rebuilt from its image's record label: it served, but when it started and became ready is not known.
    const synced = makeDeployment({
      ...base,
      id: 'sync1aaa',
      commit: 'm2',
      createdAt: T('2026-11-21T10:00:00Z'),
      buildStartedAt: T('2026-11-21T10:00:01Z'),
      buildFinishedAt: null,
      startedAt: null,
      readyAt: T('2026-11-21T10:00:00Z'),
      finishedAt: T('2026-11-21T10:00:00Z'),
    });
    for (const d of [made, synced]) store.createDeployment(newDeployment(d));
    store.close();
  });
  afterAll(() => home.remove());

  it('counts them as successful but leaves them out of the deploy durations', async () => {
    const s = await statsAt(home.dir, NOW);
    expect(s.successful).toBe(2);
    expect(s.durations.total).toMatchObject({ n: 1, medianMs: 15_000 });
    expect(s.durations.startToReady).toMatchObject({ n: 1, medianMs: 2_000 });
  });
});
