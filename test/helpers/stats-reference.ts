import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { ALL, changesPerApp, type AppCounts, type RawStatistics, type Summary } from '../../src/core/stats.js';

// deploy stats as it was computed before the rollups (migration 10): every record of the window read through
// covering indexes, and the medians and 95th percentiles by sorting. Kept as the reference the
// rollups' figures are compared with (test/integration/stats-rollups.test.ts); not used by the tool.

/**
 * The queries behind `deploy stats`, built to stay fast at 100,000 records. No record is read: everything comes
 * from covering indexes (migration 5), never from rows with their ~1 KB of configuration, and is aggregated in
 * SQL per app. The series medians and 95th percentiles are taken from come back as one JSON array per app
 * (json_group_array), so 100,000 values cost one string per app instead of one JS row each; the percentiles are
 * then found by selection (SQLite's percentile() sorts afresh for each percentile asked, and Node 22 lacks it).
 */

export interface StatsFilter {
  app?: string | undefined;
  since: number;
  until: number;
}

type Row = Record<string, unknown>;

/**
 * Median and 95th percentile by linear interpolation between the closest ranks (what SQLite's percentile()
 * computes), by the definition: sort, then read the ranks. The tool selects instead of sorting (core/stats.ts); this
 * plain form is what its figures are checked against.
 */
function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { n: 0, median: null, p95: null };
  const at = (p: number) => {
    const pos = ((n - 1) * p) / 100;
    const lo = Math.floor(pos);
    const low = sorted[lo] as number;
    const high = pos > lo ? (sorted[lo + 1] as number) : low;
    return Math.round(low + (high - low) * (pos - lo));
  };
  return { n, median: at(50), p95: at(95) };
}

/** Numbers gathered per key (an app), for summarize(). */
class Samples {
  private readonly data = new Map<string, number[]>();

  addAll(key: string, values: readonly number[]): void {
    if (values.length === 0) return;
    const list = this.data.get(key);
    if (list) list.push(...values);
    else this.data.set(key, [...values]);
  }

  /** A summary per key, and one of every value together under ALL. */
  summaries(): Record<string, Summary> {
    const out: Record<string, Summary> = {};
    for (const [key, list] of this.data) out[key] = summarize(list);
    out[ALL] = summarize([...this.data.values()].flat());
    return out;
  }
}

const numbers = (json: unknown): number[] => JSON.parse((json as string | null) ?? '[]') as number[];

/** Adds up runs of equal days (an app's come in index order, so mostly in runs): one add per run, not per record. */
function countDays(days: readonly number[], add: (day: number, n: number) => void): void {
  let run = 0;
  let current = NaN;
  for (const d of days) {
    if (d === current) {
      run++;
      continue;
    }
    if (run > 0) add(current, run);
    current = d;
    run = 1;
  }
  if (run > 0) add(current, run);
}

export function queryStatistics(db: DatabaseSync, f: StatsFilter): RawStatistics {
  const params: Record<string, SQLInputValue> = { since: f.since, until: f.until };
  const appWhere = (column = 'app') => (f.app === undefined ? '' : `AND ${column} = :app`);
  if (f.app !== undefined) params.app = f.app;
  // node:sqlite refuses parameters a statement does not use: pass each only what it names.
  const all = (sql: string) =>
    db.prepare(sql).all(Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`:${k}`)))) as Row[];
  const windowOf = (alias = '') => `${alias}created_at >= :since AND ${alias}created_at < :until`;

  const byApp = new Map<string, AppCounts>();
  const entry = (app: string) => {
    let e = byApp.get(app);
    if (!e) byApp.set(app, (e = { app, total: 0, pending: 0, successful: 0, failed: 0, running: 0, stopped: 0 }));
    return e;
  };
  const build = new Samples();
  const startToReady = new Samples();
  const total = new Samples();
  const perDay = new Map<number, { day: number; successful: number; failed: number }>();
  const day = (d: number) => {
    let e = perDay.get(d);
    if (!e) perDay.set(d, (e = { day: d, successful: 0, failed: 0 }));
    return e;
  };

  // One pass over the window, per app: counts, and the series for durations and successful days. Only what every
  // record needs is computed here (each aggregate costs its share of 100,000 steps); what concerns the few failed,
  // pending or rolled-back records comes from their own small indexes below.
  const rollbacks = new Map<string, number>();
  for (const r of all(`
    SELECT app, COUNT(*) AS total, COUNT(ready_at) AS successful, COUNT(*) FILTER (WHERE kind = 'rollback') AS rollbacks,
      json_group_array(build_finished_at - build_started_at) FILTER (WHERE ready_at IS NOT NULL AND build_started_at IS NOT NULL AND build_finished_at IS NOT NULL) AS build,
      json_group_array(ready_at - started_at) FILTER (WHERE ready_at IS NOT NULL AND started_at IS NOT NULL) AS start_to_ready,
      json_group_array(COALESCE(finished_at, ready_at) - created_at) FILTER (WHERE ready_at IS NOT NULL AND started_at IS NOT NULL) AS whole,
      json_group_array(created_at / 86400000) FILTER (WHERE ready_at IS NOT NULL) AS ok_days
    FROM deployments INDEXED BY deployments_for_stats WHERE ${windowOf()} ${appWhere()} GROUP BY app`)) {
    const app = r.app as string;
    Object.assign(entry(app), { total: r.total, successful: r.successful });
    rollbacks.set(app, r.rollbacks as number);
    build.addAll(app, numbers(r.build));
    startToReady.addAll(app, numbers(r.start_to_ready));
    total.addAll(app, numbers(r.whole));
    countDays(numbers(r.ok_days), (d, n) => (day(d).successful += n));
  }

  // A change is a deploy or redeploy that is no longer in progress: those of the window, less the few pending.
  const pendingChanges = new Map<string, number>();
  for (const r of all(`
    SELECT app, COUNT(*) AS n FROM deployments INDEXED BY deployments_by_status
    WHERE status IN ('queued', 'building', 'starting') AND kind IN ('deploy', 'redeploy') AND ${windowOf()} ${appWhere()} GROUP BY app`)) {
    pendingChanges.set(r.app as string, r.n as number);
  }

  // Failed ones (failed or interrupted), and how long until each app had a healthy deployment again: from a
  // failure's end, or a rolled-back release's going live, to the app's next healthy deployment (the one that
  // replaced it; one the store does not hold leaves it out of the times, as one that never became healthy counts
  // as not restored).
  const restored = new Samples();
  const unrestored = new Map<string, number>();
  const failures = new Map<string, { failed: number; changes: number }>();
  for (const r of all(`
    SELECT app, COUNT(*) AS failed, COUNT(*) FILTER (WHERE kind IN ('deploy', 'redeploy')) AS changes,
      json_group_array(created_at / 86400000) AS days,
      json_group_array(restored - started) FILTER (WHERE restored IS NOT NULL AND started IS NOT NULL) AS times,
      SUM(restored IS NULL OR started IS NULL) AS unrestored
    FROM (SELECT f.app AS app, f.kind AS kind, f.created_at AS created_at, f.finished_at AS started,
            (SELECT MIN(n.ready_at) FROM deployments n INDEXED BY deployments_by_ready
             WHERE n.app = f.app AND n.ready_at IS NOT NULL AND n.ready_at > f.created_at) AS restored
          FROM deployments f INDEXED BY deployments_failures WHERE f.status IN ('failed', 'interrupted') AND ${windowOf('f.')} ${appWhere('f.app')})
    GROUP BY app`)) {
    const app = r.app as string;
    failures.set(app, { failed: r.failed as number, changes: r.changes as number });
    countDays(numbers(r.days), (d, n) => (day(d).failed += n));
    restored.addAll(app, numbers(r.times));
    if ((r.unrestored as number) > 0) unrestored.set(app, r.unrestored as number);
  }
  const rolledBack = new Map<string, number>();
  for (const r of all(`
    SELECT d.app AS app, COUNT(*) FILTER (WHERE d.kind IN ('deploy', 'redeploy') AND d.status NOT IN ('queued', 'building', 'starting')) AS changes,
      json_group_array(r.ready_at - d.ready_at) FILTER (WHERE r.ready_at IS NOT NULL) AS times,
      SUM(r.id IS NOT NULL AND r.ready_at IS NULL) AS unrestored
    FROM deployments d INDEXED BY deployments_rolled_back LEFT JOIN deployments r INDEXED BY deployments_ready_by_id ON r.id = d.superseded_by
    WHERE d.rolled_back = 1 AND d.ready_at IS NOT NULL AND ${windowOf('d.')} ${appWhere('d.app')} GROUP BY d.app`)) {
    const app = r.app as string;
    rolledBack.set(app, r.changes as number);
    restored.addAll(app, numbers(r.times));
    if ((r.unrestored as number) > 0) unrestored.set(app, (unrestored.get(app) ?? 0) + (r.unrestored as number));
  }

  const changes = changesPerApp(byApp.values(), { rollbacks, pendingChanges, failures, rolledBack });

  // What runs and what is stopped now, whenever it was deployed. A current deployment whose container exited
  // unasked does not run either: it counts with the stopped ones.
  for (const r of all(`SELECT app, SUM(status = 'running') AS running, SUM(status IN ('stopped', 'exited')) AS stopped
                       FROM deployments WHERE status IN ('running', 'stopped', 'exited') ${appWhere()} GROUP BY app`)) {
    Object.assign(entry(r.app as string), { running: r.running, stopped: r.stopped });
  }

  // Lead time for changes: a commit's time to its first healthy deployment.
  const lead = new Samples();
  for (const r of all(`
    SELECT app, json_group_array(ready_at - commit_time) AS leads FROM deployments INDEXED BY deployments_for_leads
    WHERE first_ready = 1 AND ready_at >= :since AND ready_at < :until ${appWhere()} GROUP BY app`)) {
    lead.addAll(r.app as string, numbers(r.leads));
  }

  const restore: RawStatistics['restore'] = {};
  for (const [app, s] of Object.entries(restored.summaries()))
    restore[app] = { ...s, unrestored: unrestored.get(app) ?? 0 };
  for (const [app, n] of unrestored) restore[app] ??= { n: 0, median: null, p95: null, unrestored: n };
  (restore[ALL] as { unrestored: number }).unrestored = [...unrestored.values()].reduce((a, b) => a + b, 0);

  return {
    counts: [...byApp.values()].sort((a, b) => (a.app < b.app ? -1 : 1)),
    durations: { build: build.summaries(), startToReady: startToReady.summaries(), total: total.summaries() },
    leadTime: lead.summaries(),
    changes,
    restore,
    perDay: [...perDay.values()].sort((a, b) => a.day - b.day),
  };
}
