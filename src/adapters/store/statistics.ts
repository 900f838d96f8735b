import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { ALL, type AppCounts, type RawStatistics, type Summary } from '../../core/stats.js';

/**
 * The aggregate queries behind `deploy stats`. Everything is computed in SQL over indexed columns (counts,
 * medians and 95th percentiles included), so the cost does not grow with what is loaded into memory.
 */

export interface StatsFilter {
  app?: string | undefined;
  since: number;
  until: number;
}

const FAILED = "('failed', 'interrupted')";
const PENDING = "('queued', 'building', 'starting')";

type Row = Record<string, unknown>;

export function queryStatistics(db: DatabaseSync, f: StatsFilter): RawStatistics {
  const params: Record<string, SQLInputValue> = { since: f.since, until: f.until };
  let appClause = '';
  if (f.app !== undefined) {
    params.app = f.app;
    appClause = 'AND app = :app';
  }
  // node:sqlite refuses parameters a statement does not use: pass each only what it names.
  const all = (sql: string) => db.prepare(sql).all(Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`:${k}`)))) as Row[];
  const pct = (column: string, p: number) => `percentile(${column}, ${p})`;

  // Counts in the window, per app; what is running and stopped now, whenever it was deployed.
  const windowed = all(`
    SELECT app, COUNT(*) AS total,
      SUM(status IN ${PENDING}) AS pending,
      SUM(ready_at IS NOT NULL) AS successful,
      SUM(status IN ${FAILED}) AS failed
    FROM deployments WHERE created_at >= :since AND created_at < :until ${appClause} GROUP BY app`);
  const live = all(`
    SELECT app, SUM(status = 'running') AS running, SUM(status = 'stopped') AS stopped
    FROM deployments WHERE status IN ('running', 'stopped') ${appClause} GROUP BY app`);
  const byApp = new Map<string, AppCounts>();
  const entry = (app: string) => {
    let e = byApp.get(app);
    if (!e) byApp.set(app, (e = { app, total: 0, pending: 0, successful: 0, failed: 0, running: 0, stopped: 0 }));
    return e;
  };
  for (const r of windowed) Object.assign(entry(r.app as string), { total: r.total, pending: r.pending, successful: r.successful, failed: r.failed });
  for (const r of live) Object.assign(entry(r.app as string), { running: r.running, stopped: r.stopped });

  // Median and p95 of a duration, per app and for all apps together.
  const summarize = (valueSql: string, where: string, from = 'deployments'): Record<string, Summary> => {
    const sql = (group: boolean) => `
      SELECT ${group ? 'app' : `'${ALL}'`} AS app, COUNT(v) AS n, ${pct('v', 50)} AS median, ${pct('v', 95)} AS p95
      FROM (SELECT app, ${valueSql} AS v FROM ${from} WHERE ${where} ${appClause}) WHERE v IS NOT NULL
      ${group ? 'GROUP BY app' : ''}`;
    const out: Record<string, Summary> = {};
    for (const r of [...all(sql(true)), ...all(sql(false))]) out[r.app as string] = { n: r.n as number, median: round(r.median), p95: round(r.p95) };
    return out;
  };
  const successfulInWindow = 'ready_at IS NOT NULL AND created_at >= :since AND created_at < :until';
  const durations = {
    build: summarize('build_finished_at - build_started_at', `${successfulInWindow} AND build_started_at IS NOT NULL AND build_finished_at IS NOT NULL`),
    startToReady: summarize('ready_at - started_at', `${successfulInWindow} AND started_at IS NOT NULL`),
    total: summarize('COALESCE(finished_at, ready_at) - created_at', successfulInWindow),
  };

  // Lead time for changes: a commit's time to its first healthy deployment.
  const leadTime = summarize(
    'first_ready - commit_time',
    'first_ready >= :since AND first_ready < :until',
    `(SELECT app, commit_time, MIN(ready_at) AS first_ready FROM deployments
      WHERE kind = 'deploy' AND ready_at IS NOT NULL AND commit_time IS NOT NULL ${appClause} GROUP BY app, commit_sha)`,
  );

  // Change failure rate: deploys and redeploys that failed, or that served and were then rolled back.
  const changeRows = all(`
    SELECT d.app AS app, COUNT(*) AS changes,
      SUM(d.status IN ${FAILED}) AS failed,
      SUM(d.ready_at IS NOT NULL AND r.kind = 'rollback') AS rolled_back
    FROM deployments d LEFT JOIN deployments r ON r.id = d.superseded_by
    WHERE d.kind IN ('deploy', 'redeploy') AND d.status NOT IN ${PENDING}
      AND d.created_at >= :since AND d.created_at < :until ${appClause.replace('app', 'd.app')}
    GROUP BY d.app`);
  const changes: RawStatistics['changes'] = {};
  const total = { changes: 0, failed: 0, rolledBack: 0 };
  for (const r of changeRows) {
    const c = { changes: r.changes as number, failed: r.failed as number, rolledBack: (r.rolled_back as number) ?? 0 };
    changes[r.app as string] = c;
    total.changes += c.changes;
    total.failed += c.failed;
    total.rolledBack += c.rolledBack;
  }
  changes[ALL] = total;

  // Time to restore: from a failed deployment's end, or a rolled-back one's going live, to the next healthy one.
  const incidents = `
    SELECT f.app AS app, f.finished_at AS started,
      (SELECT MIN(n.ready_at) FROM deployments n WHERE n.app = f.app AND n.created_at > f.created_at AND n.ready_at IS NOT NULL) AS restored
    FROM deployments f WHERE f.status IN ${FAILED} AND f.created_at >= :since AND f.created_at < :until ${appClause.replace('app', 'f.app')}
    UNION ALL
    SELECT d.app, d.ready_at, r.ready_at
    FROM deployments d JOIN deployments r ON r.id = d.superseded_by
    WHERE r.kind = 'rollback' AND d.ready_at IS NOT NULL AND d.created_at >= :since AND d.created_at < :until ${appClause.replace('app', 'd.app')}`;
  const restoreSummary = summarize('restored - started', '1 = 1', `(${incidents})`);
  const unrestored = all(`SELECT app, COUNT(*) AS n FROM (${incidents}) WHERE restored IS NULL GROUP BY app`);
  const restore: RawStatistics['restore'] = {};
  for (const [app, s] of Object.entries(restoreSummary)) restore[app] = { ...s, unrestored: 0 };
  let unrestoredAll = 0;
  for (const r of unrestored) {
    const app = r.app as string;
    restore[app] ??= { n: 0, median: null, p95: null, unrestored: 0 };
    restore[app].unrestored = r.n as number;
    unrestoredAll += r.n as number;
  }
  restore[ALL] ??= { n: 0, median: null, p95: null, unrestored: 0 };
  restore[ALL].unrestored = unrestoredAll;

  const perDay = all(`
    SELECT created_at / 86400000 AS day, SUM(ready_at IS NOT NULL) AS successful, SUM(status IN ${FAILED}) AS failed
    FROM deployments WHERE created_at >= :since AND created_at < :until ${appClause} GROUP BY day ORDER BY day`).map((r) => ({
    day: r.day as number,
    successful: r.successful as number,
    failed: r.failed as number,
  }));

  return { counts: [...byApp.values()].sort((a, b) => (a.app < b.app ? -1 : 1)), durations, leadTime, changes, restore, perDay };
}

function round(v: unknown): number | null {
  return typeof v === 'number' ? Math.round(v) : null;
}
