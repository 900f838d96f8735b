import { durationInProse, formatDuration } from '../core/duration.js';
import { bars, bucket, type AppStats, type DurationFigures, type Stats } from '../core/stats.js';
import type { Colors } from './colors.js';
import { terminalTable, visibleLength } from './table.js';
import { plural, truncate, wrapText } from './text.js';

const ms = (v: number | null) => (v === null ? '-' : formatDuration(v));
const prose = (v: number | null) => (v === null ? '-' : durationInProse(v));
const pct = (r: number | null) => (r === null ? '-' : `${Math.round(r * 100)}%`);

function median(f: DurationFigures): string {
  return f.n === 0 ? '-' : ms(f.medianMs);
}

type Figures = Stats | AppStats;

/** A column of the counts table: its header in full and short, and what a short header means. */
interface Column {
  long: string;
  short: string;
  /** Said under the table when the short header is shown and does not speak for itself. */
  legend?: string;
  cell(x: Figures): string;
}

const COLUMNS: Record<string, Column> = {
  total: { long: 'TOTAL', short: 'TOTAL', cell: (x) => String(x.total) },
  successful: {
    long: 'SUCCESSFUL',
    short: 'OK',
    legend: 'OK: passed the health gate',
    cell: (x) => String(x.successful),
  },
  failed: { long: 'FAILED', short: 'FAILED', cell: (x) => String(x.failed) },
  pending: { long: 'PENDING', short: 'PEND', legend: 'PEND: in progress', cell: (x) => String(x.pending) },
  running: { long: 'RUNNING', short: 'RUN', cell: (x) => String(x.running) },
  stopped: { long: 'STOPPED', short: 'STOP', cell: (x) => String(x.stopped) },
  build: {
    long: 'BUILD p50',
    short: 'BUILD',
    legend: 'BUILD, LEAD (time): medians',
    cell: (x) => median(x.durations.build),
  },
  lead: {
    long: 'LEAD TIME p50',
    short: 'LEAD',
    legend: 'BUILD, LEAD (time): medians',
    cell: (x) => median(x.delivery.leadTime),
  },
  cfr: {
    long: 'CHANGE FAILURE RATE',
    short: 'CFR',
    legend: 'CFR: change failure rate, the share of changes that failed or were rolled back',
    cell: (x) => pct(x.delivery.changeFailureRate.rate),
  },
};

const ORDER = ['total', 'pending', 'successful', 'failed', 'running', 'stopped', 'build', 'lead', 'cfr'] as const;
/** Dropped one by one, least telling first, until the table fits the terminal. */
const DROP_ORDER = ['pending', 'stopped', 'running', 'lead', 'build', 'total'] as const;

export interface CountsTable {
  headers: string[];
  rows: string[][];
  /** Short headers explained, for the line under the table ('' when the headers are the full ones). */
  legend: string;
}

/**
 * The counts table: one row per app, then all apps together. `drop` columns are left out; `short` uses the
 * short headers (explained by `legend`); app names are cut to `appWidth`.
 */
export function countsTable(
  s: Stats,
  options: { short?: boolean; drop?: readonly string[]; appWidth?: number } = {},
): CountsTable {
  const keys = ORDER.filter((k) => !options.drop?.includes(k));
  const columns = keys.map((k) => COLUMNS[k] as Column);
  const headers = ['APP', ...columns.map((c) => (options.short ? c.short : c.long))];
  const name = (n: string) => (options.appWidth ? truncate(n, options.appWidth) : n);
  const row = (n: string, x: Figures) => [name(n), ...columns.map((c) => c.cell(x))];
  const rows = s.apps.map((a) => row(a.app, a));
  if (s.apps.length !== 1) rows.push(row('all apps', s));
  const legend = options.short
    ? [...new Set(columns.map((c) => c.legend).filter((l): l is string => Boolean(l)))].join(' · ')
    : '';
  return { headers, rows, legend };
}

/**
 * The table layouts to try, widest first: full headers, then short ones, then fewer columns, and last with
 * app names cut. The caller renders each and keeps the first that fits the terminal.
 */
export function tableLayouts(s: Stats, columns: number): CountsTable[] {
  const out: CountsTable[] = [countsTable(s), countsTable(s, { short: true })];
  for (let n = 1; n <= DROP_ORDER.length; n++) out.push(countsTable(s, { short: true, drop: DROP_ORDER.slice(0, n) }));
  // Cut long app names to what is left once the narrowest table's other columns are in.
  out.push(countsTable(s, { short: true, drop: DROP_ORDER, appWidth: Math.max(8, columns - 24) }));
  return out;
}

/**
 * The counts table for a terminal `width` columns wide: the widest layout that fits (full headers, then short
 * ones explained under the table, then fewer columns), so no line wraps.
 */
export async function renderCountsTable(s: Stats, c: Colors, width: number): Promise<string> {
  let table = '';
  let legend = '';
  for (const layout of tableLayouts(s, width)) {
    table = await terminalTable(layout.headers, layout.rows, c, layout.headers.map((_, i) => i).slice(1));
    legend = layout.legend;
    if (Math.max(...table.split('\n').map(visibleLength)) <= width) break;
  }
  return legend ? [table, ...wrapText(legend, width).map(c.dim)].join('\n') : table;
}

/** The heading: the window and which apps, on two lines when one does not fit. */
export function renderTitle(s: Stats, c: Colors, width: number): string {
  const who = s.app ?? 'All apps';
  const when = `deployments since ${s.window.since.slice(0, 10)} (${plural(s.window.days, 'day')})`;
  const one = `${who}: ${when}`;
  return visibleLength(one) <= width ? c.bold(one) : `${c.bold(`${who}:`)}\n${c.bold(when)}`;
}

/** Durations, delivery metrics and the per-day chart, below the table, in `width` columns. */
export function renderDetails(s: Stats, c: Colors, width: number): string {
  const out: string[] = [];
  const entries: Array<[string, string] | string> = [];
  const line = (label: string, value: string) => entries.push([label, value]);
  const head = (title: string) => entries.push('', c.bold(title));
  const summary = (f: DurationFigures) =>
    f.n === 0 ? c.dim('no data') : `median ${prose(f.medianMs)} · p95 ${prose(f.p95Ms)} ${c.dim(`(${f.n})`)}`;

  head('Durations of successful deployments');
  line('build', summary(s.durations.build));
  line('start → ready', summary(s.durations.startToReady));
  line('whole deploy', summary(s.durations.total));

  const d = s.delivery;
  head('Delivery');
  line(
    'deployment frequency',
    `${d.deploymentFrequency.perDay} a day · ${d.deploymentFrequency.perWeek} a week ${c.dim(`(${d.deploymentFrequency.successful} successful)`)}`,
  );
  line(
    'lead time for changes',
    d.leadTime.n === 0 ? c.dim('no data') : `${summary(d.leadTime)} ${c.dim('commit → ready')}`,
  );
  const cfr = d.changeFailureRate;
  line(
    'change failure rate',
    cfr.rate === null
      ? c.dim('no data')
      : `${pct(cfr.rate)} ${c.dim(`(${cfr.failed} failed + ${cfr.rolledBack} rolled back, of ${plural(cfr.changes, 'change')})`)}`,
  );
  const ttr = d.timeToRestore;
  line(
    'time to restore',
    ttr.n === 0 && ttr.unrestored === 0
      ? c.dim('no incidents')
      : `${summary(ttr)}${ttr.unrestored ? c.yellow(` · ${ttr.unrestored} not restored`) : ''}`,
  );

  // Labels and values side by side when every line fits; else each value under its label, all alike.
  const sideBySide = ([label, value]: [string, string]) => `  ${label.padEnd(24)}${value}`;
  const stacked = entries.some((e) => typeof e !== 'string' && visibleLength(sideBySide(e)) > width);
  for (const e of entries) {
    if (typeof e === 'string') out.push(e);
    else if (!stacked) out.push(sideBySide(e));
    else out.push(`  ${e[0]}`, ...wrapText(e[1], width - 4).map((l) => `    ${l}`));
  }

  out.push('', ...renderChart(s, c, width));
  return out.join('\n');
}

const HEIGHT = 3;
const GUTTER = 13; // two spaces, a label of ten, a space

/**
 * Deployments per day (or per few days, to fit): successes above the rule, failures below it, both on one
 * scale, so a failure bar as tall as a success bar means as many deployments.
 */
export function renderChart(s: Stats, c: Colors, width: number): string[] {
  const out: string[] = [];
  const columns = Math.max(10, Math.min(s.perDay.length, width - GUTTER - 1));
  const buckets = bucket(s.perDay, columns);
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.successful, b.failed)));
  const size = buckets[0]?.size ?? 1;
  const per = size === 1 ? 'day' : `${size} days`;
  const title = `${c.bold(`Deployments per ${per}`)} ${c.dim(`(UTC; the tallest bar is ${max})`)}`;
  out.push(
    ...(visibleLength(title) <= width
      ? [title]
      : [c.bold(`Deployments per ${per}`), c.dim(`(UTC; the tallest bar is ${max})`)]),
  );
  const ok = bars(
    buckets.map((b) => b.successful),
    HEIGHT,
    max,
  );
  // Same height and scale as the successes; rows above the tallest failure are left out, one row always shown.
  const allBad = bars(
    buckets.map((b) => b.failed),
    HEIGHT,
    max,
  );
  const firstUsed = allBad.findIndex((r) => r.trim() !== '');
  const bad = firstUsed === -1 ? allBad.slice(-1) : allBad.slice(firstUsed);
  const label = (text: string) => `  ${text.padStart(GUTTER - 3)} `;
  ok.forEach((r, i) => out.push(`${label(i === ok.length - 1 ? 'successful' : '')}${c.green(r)}`.trimEnd()));
  out.push(`${label('')}${c.dim('─'.repeat(buckets.length))}`);
  bad.forEach((r, i) => out.push(`${label(i === 0 ? 'failed' : '')}${c.red(r)}`.trimEnd()));
  const first = s.perDay[0]?.date.slice(5) ?? '';
  const last = s.perDay[s.perDay.length - 1]?.date.slice(5) ?? '';
  out.push(`${label('')}${c.dim(first + last.padStart(Math.max(last.length, buckets.length - first.length)))}`);
  return out;
}
