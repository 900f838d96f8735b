import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { ALL, changesPerApp, Samples, type AppCounts, type RawStatistics } from '../../core/stats.js';

/**
 * The queries behind `deploy stats`, built to stay fast at 100,000 records: it reads rollups, not records.
 *
 * stats_days (migration 10) holds per app and UTC day what the figures are made of: counts, and each series the
 * medians and 95th percentiles are taken from as a sorted blob of int32 (float64 for a day with a value that does
 * not fit): no JSON to parse, no row per value, and read added up per app in SQL (rollupsOf).
 * Triggers on deployments mark in stats_stale the days a write makes out of date, whichever code writes; the
 * marked days are recomputed from their records (figuresFromRecords) by refreshRollups, which deploy stats runs
 * first when anything is marked (a day or two after a deploy). A window rarely starts and ends at midnight: its
 * two partial days are computed from their records, each app's through its index, and only the whole days in
 * between come from the rollups. Days still marked when the figures are read (a read-only store, or a write in
 * between) are computed from their records too, so the answer never depends on how fresh the rollups are.
 */

export interface StatsFilter {
  app?: string | undefined;
  since: number;
  until: number;
}

type Row = Record<string, unknown>;

const DAY = 86_400_000;

/** What one app's records of one UTC day add to the figures (the rollup row of stats_days). */
export interface DayFigures {
  app: string;
  day: number;
  total: number;
  successful: number;
  rollbacks: number;
  failed: number;
  /** Failed deploys and redeploys (rollbacks are not changes). */
  failedChanges: number;
  /** Deploys and redeploys, no longer in progress, that a rollback replaced. */
  rolledBackChanges: number;
  /** Failures and rolled-back releases that nothing healthy has replaced yet. */
  unrestored: number;
  build: ArrayLike<number>;
  startToReady: ArrayLike<number>;
  whole: ArrayLike<number>;
  restore: ArrayLike<number>;
  /** Lead times of the commits whose first healthy deployment was on this day (by ready time, not creation). */
  leads: ArrayLike<number>;
}

const SERIES = ['build', 'startToReady', 'whole', 'restore', 'leads'] as const;
type Series = (typeof SERIES)[number];
const COLUMN: Record<Series, string> = {
  build: 'build',
  startToReady: 'start_to_ready',
  whole: 'whole',
  restore: 'restore',
  leads: 'leads',
};

const EMPTY = new Float64Array(0);

/** A day's counts before anything is counted (and those of a day's float64 part, which counts nothing). */
const NO_COUNTS = {
  total: 0,
  successful: 0,
  rollbacks: 0,
  failed: 0,
  failedChanges: 0,
  rolledBackChanges: 0,
  unrestored: 0,
} as const satisfies Partial<DayFigures>;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A day's series as stored, little-endian: int32 values when every one is a whole number that fits (durations
 * in ms under 24 days: half the bytes to read), else float64 in the `_wide` column. NULL when there are none.
 */
function toBlobs(values: ArrayLike<number>): { narrow: Uint8Array | null; wide: Uint8Array | null } {
  if (values.length === 0) return { narrow: null, wide: null };
  const all = Array.from(values);
  const fits = all.every((v) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff);
  const out = new Uint8Array(all.length * (fits ? 4 : 8));
  const view = new DataView(out.buffer);
  all.forEach((v, i) => (fits ? view.setInt32(i * 4, v, true) : view.setFloat64(i * 8, v, true)));
  return fits ? { narrow: out, wide: null } : { narrow: null, wide: out };
}

function fromBlob(blob: unknown, wide: boolean): ArrayLike<number> {
  const size = wide ? 8 : 4;
  if (!(blob instanceof Uint8Array) || blob.byteLength < size) return EMPTY;
  const length = Math.floor(blob.byteLength / size);
  if (LITTLE_ENDIAN) {
    const bytes = blob.byteOffset % size === 0 ? blob : blob.slice();
    return wide
      ? new Float64Array(bytes.buffer, bytes.byteOffset, length)
      : new Int32Array(bytes.buffer, bytes.byteOffset, length);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return Float64Array.from({ length }, (_, i) => (wide ? view.getFloat64(i * 8, true) : view.getInt32(i * 4, true)));
}

/** A JSON array SQLite built, sorted (a null, as from a missing commit time, counts as 0, as it always has). */
const sorted = (json: unknown): Float64Array =>
  json == null ? EMPTY : Float64Array.from(JSON.parse(json as string) as number[]).sort();

const all = (db: DatabaseSync, sql: string, params: Record<string, SQLInputValue>) =>
  // node:sqlite refuses parameters a statement does not use: pass each only what it names.
  db.prepare(sql).all(Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`:${k}`)))) as Row[];

/**
 * The figures of each app's days, from its records created in [from, to) (lead times: of commits first healthy
 * in [from, to)). With no app, of every app the rollups know of (each record marks its app's day as it is
 * written), each through its own index range, so a partial day costs that day's records, not the history.
 */
export function figuresFromRecords(db: DatabaseSync, range: { app?: string; from: number; to: number }): DayFigures[] {
  const params: Record<string, SQLInputValue> = { from: range.from, to: range.to };
  if (range.app !== undefined) params.app = range.app;
  const appIs = (column: string) =>
    range.app === undefined
      ? `${column} IN (SELECT app FROM stats_days UNION SELECT app FROM stats_stale)`
      : `${column} = :app`;
  const days = new Map<string, DayFigures>();
  const entry = (app: string, day: number) => {
    const key = `${day} ${app}`;
    let e = days.get(key);
    if (!e) {
      e = {
        app,
        day,
        ...NO_COUNTS,
        build: EMPTY,
        startToReady: EMPTY,
        whole: EMPTY,
        restore: EMPTY,
        leads: EMPTY,
      };
      days.set(key, e);
    }
    return e;
  };

  for (const r of all(
    db,
    `SELECT app, created_at / 86400000 AS day, COUNT(*) AS total, COUNT(ready_at) AS successful,
      COUNT(*) FILTER (WHERE kind = 'rollback') AS rollbacks,
      json_group_array(build_finished_at - build_started_at) FILTER (WHERE ready_at IS NOT NULL AND build_started_at IS NOT NULL AND build_finished_at IS NOT NULL) AS build,
      json_group_array(ready_at - started_at) FILTER (WHERE ready_at IS NOT NULL AND started_at IS NOT NULL) AS start_to_ready,
      json_group_array(COALESCE(finished_at, ready_at) - created_at) FILTER (WHERE ready_at IS NOT NULL AND started_at IS NOT NULL) AS whole
    FROM deployments INDEXED BY deployments_for_stats
    WHERE ${appIs('app')} AND created_at >= :from AND created_at < :to GROUP BY app, day`,
    params,
  )) {
    Object.assign(entry(r.app as string, r.day as number), {
      total: r.total,
      successful: r.successful,
      rollbacks: r.rollbacks,
      build: sorted(r.build),
      startToReady: sorted(r.start_to_ready),
      whole: sorted(r.whole),
    });
  }

  // Failed ones (failed or interrupted), and how long until each app had a healthy deployment again: from a
  // failure's end, or a rolled-back release's going live, to the app's next healthy deployment (the one that
  // replaced it; one the store does not hold leaves it out of the times, as one that never became healthy counts
  // as not restored).
  const restore = new Map<DayFigures, number[]>();
  for (const r of all(
    db,
    `SELECT app, day, COUNT(*) AS failed, COUNT(*) FILTER (WHERE kind IN ('deploy', 'redeploy')) AS changes,
      json_group_array(restored - started) FILTER (WHERE restored IS NOT NULL AND started IS NOT NULL) AS times,
      SUM(restored IS NULL OR started IS NULL) AS unrestored
    FROM (SELECT f.app AS app, f.created_at / 86400000 AS day, f.kind AS kind, f.finished_at AS started,
            (SELECT MIN(n.ready_at) FROM deployments n INDEXED BY deployments_by_ready
             WHERE n.app = f.app AND n.ready_at IS NOT NULL AND n.ready_at > f.created_at) AS restored
          FROM deployments f INDEXED BY deployments_failures
          WHERE f.status IN ('failed', 'interrupted') AND f.created_at >= :from AND f.created_at < :to
            ${range.app === undefined ? '' : 'AND f.app = :app'})
    GROUP BY app, day`,
    params,
  )) {
    const e = entry(r.app as string, r.day as number);
    e.failed = r.failed as number;
    e.failedChanges = r.changes as number;
    e.unrestored += r.unrestored as number;
    restore.set(e, JSON.parse(r.times as string) as number[]);
  }
  for (const r of all(
    db,
    `SELECT d.app AS app, d.created_at / 86400000 AS day,
      COUNT(*) FILTER (WHERE d.kind IN ('deploy', 'redeploy') AND d.status NOT IN ('queued', 'building', 'starting')) AS changes,
      json_group_array(r.ready_at - d.ready_at) FILTER (WHERE r.ready_at IS NOT NULL) AS times,
      SUM(r.id IS NOT NULL AND r.ready_at IS NULL) AS unrestored
    FROM deployments d INDEXED BY deployments_rolled_back LEFT JOIN deployments r INDEXED BY deployments_ready_by_id ON r.id = d.superseded_by
    WHERE d.rolled_back = 1 AND d.ready_at IS NOT NULL AND d.created_at >= :from AND d.created_at < :to
      ${range.app === undefined ? '' : 'AND d.app = :app'}
    GROUP BY d.app, day`,
    params,
  )) {
    const e = entry(r.app as string, r.day as number);
    e.rolledBackChanges = r.changes as number;
    e.unrestored += r.unrestored as number;
    const times = JSON.parse(r.times as string) as number[];
    restore.set(e, [...(restore.get(e) ?? []), ...times]);
  }
  for (const [e, times] of restore) e.restore = Float64Array.from(times).sort();

  // Lead time for changes: a commit's time to its first healthy deployment, on the day that was.
  for (const r of all(
    db,
    `SELECT app, ready_at / 86400000 AS day, json_group_array(ready_at - commit_time) AS leads
    FROM deployments INDEXED BY deployments_for_leads
    WHERE first_ready = 1 AND ${appIs('app')} AND ready_at >= :from AND ready_at < :to GROUP BY app, day`,
    params,
  )) {
    entry(r.app as string, r.day as number).leads = sorted(r.leads);
  }
  return [...days.values()];
}

/** The days each app has marked out of date, as [first, last] day ranges. */
function staleDays(db: DatabaseSync, app: string | undefined): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  const rows = all(
    db,
    `SELECT app, first_day, last_day FROM stats_stale ${app === undefined ? '' : 'WHERE app = :app'} ORDER BY app, first_day`,
    app === undefined ? {} : { app },
  );
  for (const r of rows) {
    const ranges = out.get(r.app as string) ?? [];
    const first = r.first_day as number;
    const last = r.last_day as number;
    const prev = ranges.at(-1);
    // Merged as they come, in order of first day: overlapping or adjacent ranges are recomputed once.
    if (prev && first <= prev[1] + 1) prev[1] = Math.max(prev[1], last);
    else ranges.push([first, last]);
    out.set(r.app as string, ranges);
  }
  return out;
}

/** Whether any day is marked out of date (a cheap look before taking the write lock to refresh). */
export function hasStaleDays(db: DatabaseSync): boolean {
  return db.prepare('SELECT 1 FROM stats_stale LIMIT 1').get() !== undefined;
}

/**
 * Recomputes the days marked out of date from their records and unmarks them. Run inside a write transaction:
 * the marks read are then all the marks there are.
 */
/** With more apps than this marked, the rollups are recomputed for every app over the marked span at once. */
const MANY_APPS = 8;

export function refreshRollups(db: DatabaseSync): void {
  const remove = db.prepare('DELETE FROM stats_days WHERE app = :app AND day >= :first AND day <= :last');
  const insert = db.prepare(`INSERT INTO stats_days (app, day, total, successful, rollbacks, failed, failed_changes,
      rolled_back_changes, unrestored, ${SERIES.map((s) => `${COLUMN[s]}, ${COLUMN[s]}_wide`).join(', ')})
    VALUES (:app, :day, :total, :successful, :rollbacks, :failed, :failedChanges, :rolledBackChanges, :unrestored,
      ${SERIES.map((s) => `:${s}, :${s}_wide`).join(', ')})`);
  const keep = (d: DayFigures) => {
    const series: Record<string, Uint8Array | null> = {};
    for (const s of SERIES) {
      const { narrow, wide } = toBlobs(d[s]);
      series[s] = narrow;
      series[`${s}_wide`] = wide;
    }
    insert.run({
      ...series,
      app: d.app,
      day: d.day,
      total: d.total,
      successful: d.successful,
      rollbacks: d.rollbacks,
      failed: d.failed,
      failedChanges: d.failedChanges,
      rolledBackChanges: d.rolledBackChanges,
      unrestored: d.unrestored,
    });
  };
  const stale = staleDays(db, undefined);
  const ranges = [...stale.values()].flat();
  if (stale.size > MANY_APPS) {
    // Most of the history (an upgraded store, a sync): every app's days over the whole span in one pass each,
    // computed before their rows go (the apps to compute are read from them).
    const first = Math.min(...ranges.map(([f]) => f));
    const last = Math.max(...ranges.map(([, l]) => l));
    const figures = figuresFromRecords(db, { from: first * DAY, to: (last + 1) * DAY });
    db.prepare('DELETE FROM stats_days WHERE day >= :first AND day <= :last').run({ first, last });
    figures.forEach(keep);
  } else {
    for (const [app, appRanges] of stale) {
      for (const [first, last] of appRanges) {
        remove.run({ app, first, last });
        figuresFromRecords(db, { app, from: first * DAY, to: (last + 1) * DAY }).forEach(keep);
      }
    }
  }
  db.exec('DELETE FROM stats_stale');
}

/**
 * The rollups of whole days [first, end), added up per app in SQL: few rows come back (a row per app and one per
 * day, not one per app and day; each row costs node:sqlite far more than its bytes), and each series as one blob
 * per app (read in the order of the app index: grouping in any other order would copy every blob through a sort),
 * the days' sorted runs one after the other (group_concat joins blobs byte for byte: a blob read as text
 * and text cast back to a blob keep their bytes, in the database's encoding whatever it is). Days marked out of
 * date are left out here and computed from their records.
 */
function rollupsOf(
  db: DatabaseSync,
  app: string | undefined,
  first: number,
  end: number,
  stale: Map<string, Array<[number, number]>>,
): { apps: DayFigures[]; days: Array<{ day: number; successful: number; failed: number }>; fresh: DayFigures[] } {
  const params: Record<string, SQLInputValue> = { first, end };
  if (app !== undefined) params.app = app;
  const where = `day >= :first AND day < :end ${app === undefined ? '' : 'AND app = :app'}
    AND NOT EXISTS (SELECT 1 FROM stats_stale s WHERE s.app = stats_days.app AND stats_days.day BETWEEN s.first_day AND s.last_day)`;
  const apps = all(
    db,
    `SELECT app, SUM(total) AS total, SUM(successful) AS successful, SUM(rollbacks) AS rollbacks, SUM(failed) AS failed,
      SUM(failed_changes) AS failed_changes, SUM(rolled_back_changes) AS rolled_back_changes, SUM(unrestored) AS unrestored,
      ${SERIES.map((s) => `CAST(group_concat(${COLUMN[s]}, '') AS BLOB) AS ${COLUMN[s]}, CAST(group_concat(${COLUMN[s]}_wide, '') AS BLOB) AS ${COLUMN[s]}_wide`).join(', ')}
    FROM stats_days INDEXED BY stats_days_by_app WHERE ${where} GROUP BY app`,
    params,
  ).flatMap((r) => {
    const d = {
      app: r.app as string,
      day: NaN,
      total: r.total as number,
      successful: r.successful as number,
      rollbacks: r.rollbacks as number,
      failed: r.failed as number,
      failedChanges: r.failed_changes as number,
      rolledBackChanges: r.rolled_back_changes as number,
      unrestored: r.unrestored as number,
    } as DayFigures;
    // The values that needed float64 come as a second part that counts nothing.
    const wide = { ...d, ...NO_COUNTS };
    for (const s of SERIES) {
      d[s] = fromBlob(r[COLUMN[s]], false);
      wide[s] = fromBlob(r[`${COLUMN[s]}_wide`], true);
    }
    return SERIES.some((s) => wide[s].length > 0) ? [d, wide] : [d];
  });
  const days = all(
    db,
    `SELECT day, SUM(successful) AS successful, SUM(failed) AS failed FROM stats_days INDEXED BY stats_days_by_day
    WHERE ${where} GROUP BY day`,
    params,
  ) as Array<{ day: number; successful: number; failed: number }>;
  const fresh: DayFigures[] = [];
  for (const [a, ranges] of stale) {
    for (const [f, l] of ranges) {
      const from = Math.max(f, first);
      const to = Math.min(l + 1, end);
      if (from < to) fresh.push(...figuresFromRecords(db, { app: a, from: from * DAY, to: to * DAY }));
    }
  }
  return { apps, days, fresh };
}

/** A window's figures: per app (summed over days, or of one day), and the successful and failed of each day. */
interface WindowFigures {
  parts: DayFigures[];
  days: Array<{ day: number; successful: number; failed: number }>;
}

/** The figures of a window: the rollups of its whole days, and its partial days from their records. */
function figuresOf(db: DatabaseSync, f: StatsFilter): WindowFigures {
  const first = Math.ceil(f.since / DAY);
  const end = Math.floor(f.until / DAY);
  const parts: DayFigures[] = [];
  let days: WindowFigures['days'] = [];
  if (first >= end) {
    if (f.since < f.until) parts.push(...figuresFromRecords(db, { app: f.app, from: f.since, to: f.until }));
  } else {
    const rollups = rollupsOf(db, f.app, first, end, staleDays(db, f.app));
    parts.push(...rollups.apps, ...rollups.fresh);
    days = rollups.days;
    if (f.since < first * DAY) parts.push(...figuresFromRecords(db, { app: f.app, from: f.since, to: first * DAY }));
    if (end * DAY < f.until) parts.push(...figuresFromRecords(db, { app: f.app, from: end * DAY, to: f.until }));
  }
  // Each day's own figures (the partial ones and those computed apart) go in the chart too.
  for (const d of parts)
    if (!Number.isNaN(d.day)) days.push({ day: d.day, successful: d.successful, failed: d.failed });
  return { parts, days };
}

export function queryStatistics(db: DatabaseSync, f: StatsFilter): RawStatistics {
  // One snapshot: the rollups, the marks and the records read together (a deploy finishing meanwhile is in all
  // of them or in none).
  const own = !db.isTransaction;
  if (own) db.exec('BEGIN');
  try {
    return assemble(db, f, figuresOf(db, f));
  } finally {
    if (own && db.isTransaction) db.exec('COMMIT');
  }
}

function assemble(db: DatabaseSync, f: StatsFilter, figures: WindowFigures): RawStatistics {
  const params: Record<string, SQLInputValue> = { since: f.since, until: f.until };
  const appWhere = f.app === undefined ? '' : 'AND app = :app';
  if (f.app !== undefined) params.app = f.app;

  const byApp = new Map<string, AppCounts>();
  const entry = (app: string) => {
    let e = byApp.get(app);
    if (!e) byApp.set(app, (e = { app, total: 0, pending: 0, successful: 0, failed: 0, running: 0, stopped: 0 }));
    return e;
  };
  const samples: Record<Series, Samples> = {
    build: new Samples(),
    startToReady: new Samples(),
    whole: new Samples(),
    restore: new Samples(),
    leads: new Samples(),
  };
  const rollbacks = new Map<string, number>();
  const failures = new Map<string, { failed: number; changes: number }>();
  const rolledBack = new Map<string, number>();
  const unrestored = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  for (const d of figures.parts) {
    // Apps with records in the window (a day can hold only the lead times of records made the day before).
    if (d.total > 0) {
      const e = entry(d.app);
      e.total += d.total;
      e.successful += d.successful;
      add(rollbacks, d.app, d.rollbacks);
    }
    if (d.failed > 0) {
      const fl = failures.get(d.app) ?? { failed: 0, changes: 0 };
      fl.failed += d.failed;
      fl.changes += d.failedChanges;
      failures.set(d.app, fl);
    }
    if (d.rolledBackChanges > 0) add(rolledBack, d.app, d.rolledBackChanges);
    if (d.unrestored > 0) add(unrestored, d.app, d.unrestored);
    for (const s of SERIES) samples[s].addAll(d.app, d[s]);
  }
  const perDay = new Map<number, { day: number; successful: number; failed: number }>();
  for (const d of figures.days) {
    if (d.successful === 0 && d.failed === 0) continue;
    const p = perDay.get(d.day) ?? { day: d.day, successful: 0, failed: 0 };
    p.successful += d.successful;
    p.failed += d.failed;
    perDay.set(d.day, p);
  }

  // A change is a deploy or redeploy that is no longer in progress: those of the window, less the few pending.
  const pendingChanges = new Map<string, number>();
  for (const r of all(
    db,
    `SELECT app, COUNT(*) AS n FROM deployments INDEXED BY deployments_by_status
    WHERE status IN ('queued', 'building', 'starting') AND kind IN ('deploy', 'redeploy') AND created_at >= :since AND created_at < :until ${appWhere} GROUP BY app`,
    params,
  )) {
    pendingChanges.set(r.app as string, r.n as number);
  }

  const changes = changesPerApp(byApp.values(), { rollbacks, pendingChanges, failures, rolledBack });

  // What runs and what is stopped now, whenever it was deployed. A current deployment whose container exited
  // unasked does not run either: it counts with the stopped ones.
  for (const r of all(
    db,
    `SELECT app, SUM(status = 'running') AS running, SUM(status IN ('stopped', 'exited')) AS stopped
     FROM deployments WHERE status IN ('running', 'stopped', 'exited') ${appWhere} GROUP BY app`,
    params,
  )) {
    Object.assign(entry(r.app as string), { running: r.running, stopped: r.stopped });
  }

  const restore: RawStatistics['restore'] = {};
  for (const [app, s] of Object.entries(samples.restore.summaries()))
    restore[app] = { ...s, unrestored: unrestored.get(app) ?? 0 };
  for (const [app, n] of unrestored) restore[app] ??= { n: 0, median: null, p95: null, unrestored: n };
  (restore[ALL] as { unrestored: number }).unrestored = [...unrestored.values()].reduce((a, b) => a + b, 0);

  return {
    counts: [...byApp.values()].sort((a, b) => (a.app < b.app ? -1 : 1)),
    durations: {
      build: samples.build.summaries(),
      startToReady: samples.startToReady.summaries(),
      total: samples.whole.summaries(),
    },
    leadTime: samples.leads.summaries(),
    changes,
    restore,
    perDay: [...perDay.values()].sort((a, b) => a.day - b.day),
  };
}
