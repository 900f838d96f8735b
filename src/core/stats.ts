/** What the store's aggregate queries give back (see adapters/store/statistics.ts). */
export interface Summary {
  n: number;
  median: number | null;
  p95: number | null;
}

export interface AppCounts {
  app: string;
  total: number;
  pending: number;
  successful: number;
  failed: number;
  running: number;
  stopped: number;
}

export interface RawStatistics {
  counts: AppCounts[];
  durations: Record<'build' | 'startToReady' | 'total', Record<string, Summary>>;
  leadTime: Record<string, Summary>;
  changes: Record<string, { changes: number; failed: number; rolledBack: number }>;
  restore: Record<string, Summary & { unrestored: number }>;
  perDay: Array<{ day: number; successful: number; failed: number }>;
}

/** The key under which figures for all apps together are kept. */
export const ALL = '*';

/** Moves the k-th smallest value of a[lo..hi] to a[k] (quickselect, in place, O(n) on average). */
function select(a: Float64Array, k: number, lo = 0, hi = a.length - 1): number {
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k] as number;
}

/**
 * Median and 95th percentile by linear interpolation between the closest ranks (what SQLite's percentile()
 * computes), by selection rather than a full sort. Reorders `values` in place.
 */
function summarize(values: Float64Array): Summary {
  const n = values.length;
  if (n === 0) return { n: 0, median: null, p95: null };
  const at = (p: number) => {
    const pos = ((n - 1) * p) / 100;
    const lo = Math.floor(pos);
    const low = select(values, lo);
    // After selecting lo, everything above it is >= a[lo]: the next rank is the smallest of that part.
    let high = low;
    if (pos > lo) {
      high = Infinity;
      for (let i = lo + 1; i < n; i++) if ((values[i] as number) < high) high = values[i] as number;
    }
    return Math.round(low + (high - low) * (pos - lo));
  };
  return { n, median: at(50), p95: at(95) };
}

/** What the store counted per app, for changesPerApp(). */
export interface ChangeTallies {
  /** Rollback deployments per app (they are not changes). */
  rollbacks: ReadonlyMap<string, number>;
  /** Deploys and redeploys still in progress per app. */
  pendingChanges: ReadonlyMap<string, number>;
  /** Failed or interrupted deployments per app, and how many of them were changes. */
  failures: ReadonlyMap<string, { failed: number; changes: number }>;
  /** Changes that went live and were rolled back away from, per app. */
  rolledBack: ReadonlyMap<string, number>;
}

/**
 * Completes each app's counts (failed, and pending: every deployment is pending, failed, or has been healthy) and
 * returns the changes behind the change failure rate, per app and for all apps together under ALL.
 */
export function changesPerApp(counts: Iterable<AppCounts>, t: ChangeTallies): RawStatistics['changes'] {
  const changes: RawStatistics['changes'] = {};
  const all = { changes: 0, failed: 0, rolledBack: 0 };
  for (const e of counts) {
    const f = t.failures.get(e.app) ?? { failed: 0, changes: 0 };
    e.failed = f.failed;
    e.pending = e.total - e.successful - e.failed;
    const c = {
      changes: e.total - (t.rollbacks.get(e.app) ?? 0) - (t.pendingChanges.get(e.app) ?? 0),
      failed: f.changes,
      rolledBack: t.rolledBack.get(e.app) ?? 0,
    };
    changes[e.app] = c;
    all.changes += c.changes;
    all.failed += c.failed;
    all.rolledBack += c.rolledBack;
  }
  changes[ALL] = all;
  return changes;
}

/** Numbers gathered per key (an app), as the arrays they arrive in, for summarize(). */
export class Samples {
  private readonly data = new Map<string, Array<ArrayLike<number>>>();

  /** Adds many values at once (a day's sorted series from the rollups, or a JSON array SQLite built). */
  addAll(key: string, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    const chunks = this.data.get(key);
    if (chunks) chunks.push(values);
    else this.data.set(key, [values]);
  }

  add(key: string, value: number): void {
    this.addAll(key, [value]);
  }

  /** A summary per key, and one of every value together under ALL. */
  summaries(): Record<string, Summary> {
    const out: Record<string, Summary> = {};
    let size = 0;
    for (const chunks of this.data.values()) for (const c of chunks) size += c.length;
    const every = new Float64Array(size);
    let at = 0;
    for (const [key, chunks] of this.data) {
      const start = at;
      for (const c of chunks) {
        every.set(c, at);
        at += c.length;
      }
      // summarize() reorders the key's own part in place: ALL's order statistics do not depend on the order, so
      // no copy is needed (at 100,000 values, copies were a good part of deploy stats' time and garbage).
      out[key] = summarize(every.subarray(start, at));
    }
    out[ALL] = summarize(every);
    return out;
  }
}

const DAY = 86_400_000;

export interface DurationFigures {
  n: number;
  medianMs: number | null;
  p95Ms: number | null;
}

export interface Delivery {
  deploymentFrequency: { successful: number; perDay: number; perWeek: number };
  leadTime: DurationFigures;
  changeFailureRate: { rate: number | null; changes: number; failed: number; rolledBack: number };
  timeToRestore: DurationFigures & { unrestored: number };
}

export interface AppStats extends Omit<AppCounts, 'app'> {
  app: string;
  durations: Record<'build' | 'startToReady' | 'total', DurationFigures>;
  delivery: Delivery;
}

export interface Stats extends Omit<AppCounts, 'app'> {
  window: { since: string; until: string; days: number };
  app: string | null;
  apps: AppStats[];
  durations: Record<'build' | 'startToReady' | 'total', DurationFigures>;
  delivery: Delivery;
  perDay: Array<{ date: string; successful: number; failed: number }>;
}

const figures = (s: Summary | undefined): DurationFigures => ({
  n: s?.n ?? 0,
  medianMs: s?.median ?? null,
  p95Ms: s?.p95 ?? null,
});

function delivery(raw: RawStatistics, key: string, successful: number, days: number): Delivery {
  const ch = raw.changes[key] ?? { changes: 0, failed: 0, rolledBack: 0 };
  const restore = raw.restore[key];
  return {
    deploymentFrequency: { successful, perDay: round2(successful / days), perWeek: round2((successful / days) * 7) },
    leadTime: figures(raw.leadTime[key]),
    changeFailureRate: { rate: ch.changes === 0 ? null : round2((ch.failed + ch.rolledBack) / ch.changes), ...ch },
    timeToRestore: { ...figures(restore), unrestored: restore?.unrestored ?? 0 },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Turns the store's aggregates into the figures `deploy stats` shows and prints as JSON. */
export function assembleStats(raw: RawStatistics, window: { since: number; until: number }, app: string | null): Stats {
  const days = Math.max(1, Math.round((window.until - window.since) / DAY));
  const totals: Omit<AppCounts, 'app'> = { total: 0, pending: 0, successful: 0, failed: 0, running: 0, stopped: 0 };
  for (const c of raw.counts) for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += c[k];
  const durationsOf = (key: string) => ({
    build: figures(raw.durations.build[key]),
    startToReady: figures(raw.durations.startToReady[key]),
    total: figures(raw.durations.total[key]),
  });
  const byDay = new Map(raw.perDay.map((d) => [d.day, d]));
  const perDay: Stats['perDay'] = [];
  const first = Math.floor(window.since / DAY);
  const last = Math.floor((window.until - 1) / DAY);
  for (let day = first; day <= last; day++) {
    const d = byDay.get(day);
    perDay.push({
      date: new Date(day * DAY).toISOString().slice(0, 10),
      successful: d?.successful ?? 0,
      failed: d?.failed ?? 0,
    });
  }
  return {
    window: { since: new Date(window.since).toISOString(), until: new Date(window.until).toISOString(), days },
    app,
    ...totals,
    apps: raw.counts.map((c) => ({
      ...c,
      durations: durationsOf(c.app),
      delivery: delivery(raw, c.app, c.successful, days),
    })),
    durations: durationsOf(ALL),
    delivery: delivery(raw, ALL, totals.successful, days),
    perDay,
  };
}

const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * Bars of `height` rows, one column per value, in eighths of a row: rows come back top first. Zero stays
 * blank; any non-zero value shows at least the lowest block.
 */
export function bars(values: readonly number[], height: number, max = Math.max(0, ...values)): string[] {
  const rows: string[] = [];
  for (let row = height - 1; row >= 0; row--) {
    let line = '';
    for (const v of values) {
      const eighths = max === 0 || v === 0 ? 0 : Math.max(1, Math.round((v / max) * height * 8));
      const here = Math.min(8, Math.max(0, eighths - row * 8));
      line += BLOCKS[here];
    }
    rows.push(line);
  }
  return rows;
}

/** Sums values into at most `columns` buckets of whole days, so a long window still fits a line. */
export function bucket<T extends { successful: number; failed: number }>(
  days: readonly T[],
  columns: number,
): Array<{ successful: number; failed: number; first: number; size: number }> {
  const size = Math.max(1, Math.ceil(days.length / Math.max(1, columns)));
  const out: Array<{ successful: number; failed: number; first: number; size: number }> = [];
  for (let i = 0; i < days.length; i += size) {
    const slice = days.slice(i, i + size);
    out.push({
      successful: slice.reduce((a, d) => a + d.successful, 0),
      failed: slice.reduce((a, d) => a + d.failed, 0),
      first: i,
      size: slice.length,
    });
  }
  return out;
}
