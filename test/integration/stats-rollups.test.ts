import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import type { StatsFilter } from '../../src/adapters/store/statistics.js';
import { assembleStats } from '../../src/core/stats.js';
import type { Deployment } from '../../src/core/types.js';
import { tempHome } from '../helpers/cli.js';
import { queryStatistics as reference } from '../helpers/stats-reference.js';
import { mulberry32 as random } from '../helpers/random.js';
import { makeDeployment } from '../helpers/unit.js';
import { newDeployment } from '../helpers/new-deployment.js';

// deploy stats reads per-day rollups (migration 10) and computes the window's partial days from their records.
// Every figure must be what the queries that read every record (test/helpers/stats-reference.ts, the code before
// the rollups) give for the same store and window: each case below compares the two on real SQLite files.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-11-22T12:34:56.789Z');

let serial = 0;
/** Ids as the tool makes them (8 characters of [a-z2-9]), unique: the serial in octal, written with a to h. */
const nextId = () =>
  `s${(serial++)
    .toString(8)
    .padStart(7, '0')
    .replace(/[0-7]/g, (c) => 'abcdefgh'[Number(c)] as string)}`;

/** Writes deployments through the store, as the tool's commands do (created, then moved through their states). */
class History {
  private readonly current = new Map<string, string>();
  constructor(readonly store: Store) {}

  add(d: Partial<Deployment> & { app: string; createdAt: number }): Deployment {
    const full = makeDeployment({ id: nextId(), ...d });
    this.store.createDeployment(newDeployment(full));
    if (full.readyAt !== null) {
      // What release() does when a deployment goes live: the one it replaces is superseded (and marked when a
      // rollback replaced it), and the first healthy deployment of a commit is marked.
      const before = this.current.get(full.app);
      if (before) {
        this.store.updateDeployment(before, { status: 'superseded', supersededBy: full.id });
        if (full.kind === 'rollback') this.store.markRolledBack(full.app, [before]);
      }
      this.current.set(full.app, full.id);
      this.store.markFirstReady(full.id);
    }
    if (full.supersededBy) {
      this.store.updateDeployment(full.id, { supersededBy: full.supersededBy, rolledBack: full.rolledBack });
    }
    return full;
  }

  /** A deploy that failed: never ready, finished `tookMs` after it was created. */
  addFailure(app: string, createdAt: number, tookMs: number): Deployment {
    return this.add({ app, createdAt, status: 'failed', readyAt: null, finishedAt: createdAt + tookMs });
  }
}

/** Several apps over ~40 days: healthy deploys, failures (some never recovered), rollbacks, pending, synced. */
function generate(store: Store, seed: number, apps: string[], from: number, to: number): void {
  const rand = random(seed);
  const h = new History(store);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  for (const app of apps) {
    let t = from + Math.floor(rand() * 6 * HOUR);
    let commit = 0;
    while (t < to) {
      const build = Math.floor(rand() * 90_000) + 500;
      const start = Math.floor(rand() * 8_000) + 100;
      const roll = rand();
      const base = {
        app,
        createdAt: t,
        commit: `${app}-${commit}`,
        commitTime: rand() < 0.05 ? null : t - Math.floor(rand() * 5 * DAY),
        buildStartedAt: t + 1_000,
        buildFinishedAt: t + 1_000 + build,
        startedAt: t + 2_000 + build,
      };
      if (roll < 0.12) {
        // A failure: failed or interrupted, some after a build, some before starting.
        h.add({
          ...base,
          status: pick(['failed', 'failed', 'interrupted'] as const),
          kind: pick(['deploy', 'deploy', 'redeploy', 'rollback'] as const),
          readyAt: null,
          finishedAt: rand() < 0.1 ? null : t + 2_000 + build + start + 60_000,
          error: { code: 'health_failed', message: 'x' },
        });
      } else if (roll < 0.16) {
        // A rollback that goes live: the release it replaces is marked rolled back.
        h.add({
          ...base,
          kind: 'rollback',
          status: 'running',
          buildStartedAt: null,
          buildFinishedAt: null,
          readyAt: t + 2_000 + start,
          finishedAt: t + 2_100 + start,
        });
      } else if (roll < 0.18) {
        // Synced from an image: it served, its start is not known.
        h.add({ ...base, status: 'running', startedAt: null, buildFinishedAt: null, readyAt: t, finishedAt: t });
      } else {
        commit++;
        h.add({
          ...base,
          commit: `${app}-${commit}`,
          kind: rand() < 0.15 ? 'redeploy' : 'deploy',
          status: 'running',
          readyAt: t + 2_000 + build + start,
          finishedAt: rand() < 0.2 ? null : t + 2_500 + build + start,
        });
      }
      t += Math.floor(rand() * 9 * HOUR) + 60_000;
    }
    // Still in progress at the end, and a failure nothing has replaced yet.
    h.add({
      app,
      createdAt: to - 3 * HOUR,
      status: 'building',
      readyAt: null,
      startedAt: null,
      finishedAt: null,
      buildFinishedAt: null,
    });
    if (rand() < 0.7) {
      h.addFailure(app, to - 2 * HOUR, 30_000);
    }
  }
}

/** The windows deploy stats is asked for (--since 1h, 24h, 7d, 30d, a date, everything) and harder ones. */
function windows(now: number): Array<{ since: number; until: number }> {
  const midnight = Math.floor(now / DAY) * DAY;
  return [
    { since: now - HOUR, until: now },
    { since: now - DAY, until: now },
    { since: now - 7 * DAY, until: now },
    { since: now - 30 * DAY, until: now },
    { since: now - 90 * DAY, until: now },
    { since: midnight - 10 * DAY, until: now },
    { since: 0, until: now },
    // Both ends at midnight: whole days only; one day; inside one day; empty.
    { since: midnight - 12 * DAY, until: midnight - 2 * DAY },
    { since: midnight - 5 * DAY, until: midnight - 4 * DAY },
    { since: midnight - 5 * DAY + 3 * HOUR, until: midnight - 5 * DAY + 9 * HOUR },
    { since: now, until: now },
  ];
}

/** The store's answer (rollups) and the reference's (every record) for a filter, on the same file. */
function both(path: string, store: Store, filter: StatsFilter) {
  const fromRollups = store.statistics(filter);
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return { fromRollups, fromRecords: reference(db, filter) };
  } finally {
    db.close();
  }
}

function expectSameEverywhere(path: string, store: Store, apps: Array<string | undefined>, now = NOW): number {
  let compared = 0;
  for (const w of windows(now)) {
    for (const app of apps) {
      const filter = { ...w, app };
      const { fromRollups, fromRecords } = both(path, store, filter);
      expect(fromRollups, JSON.stringify(filter)).toEqual(fromRecords);
      expect(assembleStats(fromRollups, w, app ?? null)).toEqual(assembleStats(fromRecords, w, app ?? null));
      compared++;
    }
  }
  return compared;
}

const staleMarks = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM stats_stale').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('deploy stats from rollups gives the figures of the records themselves (real SQLite)', () => {
  const home = tempHome();
  afterAll(() => home.remove());
  /** A case on a store file of its own in the home, closed when the case ends however it ends. */
  const onStore =
    (name: string, test: (path: string, store: Store) => void): (() => void) =>
    () => {
      const path = join(home.dir, name);
      const store = Store.open(path);
      try {
        test(path, store);
      } finally {
        store.close();
      }
    };

  it(
    'with no deployments at all',
    onStore('empty.db', (path, store) => {
      const { fromRollups, fromRecords } = both(path, store, { since: NOW - 30 * DAY, until: NOW });
      expect(fromRollups).toEqual(fromRecords);
      expect(fromRollups.counts).toEqual([]);
      expect(expectSameEverywhere(path, store, [undefined, 'web'])).toBe(22);
    }),
  );

  it(
    'with only failures, none of them ever recovered',
    onStore('failures.db', (path, store) => {
      const h = new History(store);
      for (let i = 0; i < 12; i++) {
        h.add({
          app: i % 3 === 0 ? 'api' : 'web',
          createdAt: NOW - 20 * DAY + i * 37 * HOUR,
          status: i % 4 === 0 ? 'interrupted' : 'failed',
          readyAt: null,
          finishedAt: i % 5 === 0 ? null : NOW - 20 * DAY + i * 37 * HOUR + 40_000,
        });
      }
      const { fromRollups } = both(path, store, { since: NOW - 30 * DAY, until: NOW });
      expect(fromRollups.counts.map((c) => [c.app, c.total, c.failed, c.successful])).toEqual([
        ['api', 4, 4, 0],
        ['web', 8, 8, 0],
      ]);
      expect(fromRollups.restore['*']).toEqual({ n: 0, median: null, p95: null, unrestored: 12 });
      expectSameEverywhere(path, store, [undefined, 'web', 'api']);
    }),
  );

  it(
    'after each write that moves a figure of an earlier day, that day is recomputed',
    onStore('marks.db', (path, store) => {
      const h = new History(store);
      const midnight = Math.floor(NOW / DAY) * DAY;
      // late: healthy six days ago, a failure four days ago; read (the rollups now hold those days).
      h.add({
        app: 'late',
        createdAt: midnight - 6 * DAY + 10 * HOUR,
        readyAt: midnight - 6 * DAY + 10 * HOUR + 60_000,
      });
      h.addFailure('late', midnight - 4 * DAY + 10 * HOUR, 60_000);
      expectSameEverywhere(path, store, [undefined, 'late']);
      expect(both(path, store, { since: NOW - 30 * DAY, until: NOW }).fromRollups.restore.late).toMatchObject({
        n: 0,
        unrestored: 1,
      });
      // Today's deploy restores it: the day of the failure, written nothing today, must be recomputed.
      h.add({ app: 'late', createdAt: NOW - HOUR, readyAt: NOW - HOUR + 60_000 });
      expect(both(path, store, { since: NOW - 30 * DAY, until: NOW }).fromRollups.restore.late).toMatchObject({
        n: 1,
        unrestored: 0,
      });
      expectSameEverywhere(path, store, [undefined, 'late']);

      // back: a release created just before midnight and live just after, then rolled back from; read.
      h.add({ app: 'back', createdAt: midnight - 2 * DAY - 30_000, readyAt: midnight - 2 * DAY + 20_000 });
      const rollback = h.add({
        app: 'back',
        kind: 'rollback',
        createdAt: midnight - 2 * DAY + HOUR,
        readyAt: midnight - 2 * DAY + HOUR + 60_000,
      });
      expectSameEverywhere(path, store, [undefined, 'back']);
      // The rollback's ready time is corrected: the time to restore of the release it replaced (kept on the
      // day before) changes with it.
      store.updateDeployment(rollback.id, { readyAt: midnight - 2 * DAY + 2 * HOUR });
      expect(both(path, store, { since: NOW - 30 * DAY, until: NOW }).fromRollups.restore.back).toMatchObject({
        n: 1,
        median: 2 * HOUR - 20_000,
      });
      expectSameEverywhere(path, store, [undefined, 'back']);
    }),
  );

  it(
    'while another process holds the store for writing past the busy timeout: answers from the records',
    onStore('busy.db', (path, store) => {
      generate(store, 5, ['web', 'api'], NOW - 5 * DAY, NOW - HOUR);
      const writer = new DatabaseSync(path);
      writer.exec('BEGIN IMMEDIATE');
      try {
        const started = Date.now();
        const { fromRollups, fromRecords } = both(path, store, { since: NOW - 7 * DAY, until: NOW });
        // It waited for the lock (the store's busy timeout), then answered without keeping the rollups.
        expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
        expect(fromRollups).toEqual(fromRecords);
        expect(fromRollups.counts.map((c) => c.app)).toEqual(['api', 'web']);
      } finally {
        writer.exec('ROLLBACK');
        writer.close();
      }
      expect(staleMarks(path)).toBeGreaterThan(0);
      expectSameEverywhere(path, store, [undefined, 'web']);
      expect(staleMarks(path)).toBe(0);
    }),
  );

  describe('a generated history of several apps', () => {
    const path = join(home.dir, 'history.db');
    let store: Store;
    beforeAll(() => {
      store = Store.open(path);
      // Ten apps: their first read recomputes every app's days at once; later ones, those of the apps written.
      generate(
        store,
        13,
        ['web', 'api', 'worker', 'shop', 'docs', 'auth', 'mail', 'cron', 'blog', 'feed'],
        NOW - 40 * DAY,
        NOW - HOUR,
      );
    });
    afterAll(() => store.close());

    it('for every window, for all apps and for each (--app), one unknown included', () => {
      const { fromRollups } = both(path, store, { since: NOW - 30 * DAY, until: NOW });
      // The history holds what the cases are about: failures restored and not, rollbacks, several apps.
      expect(fromRollups.counts.map((c) => c.app)).toEqual([
        'api',
        'auth',
        'blog',
        'cron',
        'docs',
        'feed',
        'mail',
        'shop',
        'web',
        'worker',
      ]);
      expect(fromRollups.restore['*']?.n).toBeGreaterThan(10);
      expect(fromRollups.restore['*']?.unrestored).toBeGreaterThan(0);
      expect(fromRollups.changes['*']?.rolledBack).toBeGreaterThan(0);
      expect(staleMarks(path)).toBe(0);
      expect(expectSameEverywhere(path, store, [undefined, 'web', 'api', 'worker', 'shop', 'nope'])).toBe(66);
    });

    it('after writes that reach back to earlier days: a late recovery, a late rollback mark, a synced old record, a removed app', () => {
      // Today's deploy of web restores the failure it left yesterday (a day the rollups already hold).
      const h = new History(store);
      h.addFailure('web', NOW - 30 * HOUR, 9_000);
      expect(staleMarks(path)).toBeGreaterThan(0);
      expectSameEverywhere(path, store, [undefined, 'web']);
      h.add({
        app: 'web',
        createdAt: NOW - 20 * 60_000,
        status: 'running',
        readyAt: NOW - 10 * 60_000,
        finishedAt: NOW - 9 * 60_000,
      });
      expectSameEverywhere(path, store, [undefined, 'web']);

      // A release of api from twelve days ago marked rolled back now (and its successor's ready time moved).
      const old = store.list({ app: 'api' }).find((d) => d.readyAt !== null && d.createdAt < NOW - 12 * DAY);
      expect(old).toBeDefined();
      store.markRolledBack('api', [old!.id]);
      if (old!.supersededBy) store.updateDeployment(old!.supersededBy, { readyAt: (old!.readyAt ?? 0) + 5 * HOUR });
      expectSameEverywhere(path, store, [undefined, 'api']);

      // deploy sync adds a record of worker from three weeks ago: it restores the failures before it.
      const synced = makeDeployment({
        id: 'syncedaa',
        app: 'worker',
        version: 9_999,
        status: 'superseded',
        createdAt: NOW - 21 * DAY,
        startedAt: null,
        readyAt: NOW - 21 * DAY + 1_000,
        finishedAt: NOW - 21 * DAY + 1_000,
      });
      expect(store.insertDeployment(synced)).toBe(true);
      store.recomputeFirstReady('worker');
      expectSameEverywhere(path, store, [undefined, 'worker']);

      // shop is removed with its records: nothing of it stays in the figures.
      store.forgetApp('shop', true);
      expectSameEverywhere(path, store, [undefined, 'shop']);
      expect(store.statistics({ since: 0, until: NOW }).counts.map((c) => c.app)).not.toContain('shop');
      expect(staleMarks(path)).toBe(0);
    });

    it('on a store opened to be read only: the days still marked are computed for the answer, nothing is written', () => {
      const h = new History(store);
      h.addFailure('api', NOW - 3 * DAY, 5_000);
      const marks = staleMarks(path);
      expect(marks).toBeGreaterThan(0);
      const reader = Store.openToRead(path);
      try {
        expectSameEverywhere(path, reader, [undefined, 'api']);
      } finally {
        reader.close();
      }
      expect(staleMarks(path)).toBe(marks);
    });
  });
});
