import { formatDuration } from '../core/duration.js';
import { bars, bucket, type DurationFigures, type Stats } from '../core/stats.js';
import type { Colors } from './colors.js';

const ms = (v: number | null) => (v === null ? '-' : formatDuration(v));
const pct = (r: number | null) => (r === null ? '-' : `${Math.round(r * 100)}%`);

function median(f: DurationFigures): string {
  return f.n === 0 ? '-' : ms(f.medianMs);
}

/** The counts table: one row per app, then all apps together. */
export function countsTable(s: Stats): { headers: string[]; rows: string[][] } {
  const headers = ['APP', 'TOTAL', 'PENDING', 'SUCCESSFUL', 'FAILED', 'RUNNING', 'STOPPED', 'BUILD p50', 'LEAD TIME p50', 'CFR'];
  const row = (name: string, x: Stats | Stats['apps'][number]) => [
    name,
    String(x.total),
    String(x.pending),
    String(x.successful),
    String(x.failed),
    String(x.running),
    String(x.stopped),
    median(x.durations.build),
    median(x.delivery.leadTime),
    pct(x.delivery.changeFailureRate.rate),
  ];
  const rows = s.apps.map((a) => row(a.app, a));
  if (s.apps.length !== 1) rows.push(row('all apps', s));
  return { headers, rows };
}

/** Durations, delivery metrics and the per-day chart, below the table. */
export function renderDetails(s: Stats, c: Colors, width: number): string {
  const out: string[] = [];
  const line = (label: string, value: string) => out.push(`  ${label.padEnd(24)}${value}`);
  const summary = (f: DurationFigures) => (f.n === 0 ? c.dim('no data') : `median ${ms(f.medianMs)} · p95 ${ms(f.p95Ms)} ${c.dim(`(${f.n})`)}`);

  out.push('', c.bold('Durations of successful deployments'));
  line('build', summary(s.durations.build));
  line('start → ready', summary(s.durations.startToReady));
  line('whole deploy', summary(s.durations.total));

  const d = s.delivery;
  out.push('', c.bold('Delivery'));
  line('deployment frequency', `${d.deploymentFrequency.perDay} a day · ${d.deploymentFrequency.perWeek} a week ${c.dim(`(${d.deploymentFrequency.successful} successful)`)}`);
  line('lead time for changes', d.leadTime.n === 0 ? c.dim('no data') : `${summary(d.leadTime)} ${c.dim('commit → ready')}`);
  const cfr = d.changeFailureRate;
  line('change failure rate', cfr.rate === null ? c.dim('no data') : `${pct(cfr.rate)} ${c.dim(`(${cfr.failed} failed + ${cfr.rolledBack} rolled back, of ${cfr.changes})`)}`);
  const ttr = d.timeToRestore;
  line('time to restore', ttr.n === 0 && ttr.unrestored === 0 ? c.dim('no incidents') : `${summary(ttr)}${ttr.unrestored ? c.yellow(` · ${ttr.unrestored} not restored`) : ''}`);

  const columns = Math.max(10, Math.min(s.perDay.length, width - 14));
  const buckets = bucket(s.perDay, columns);
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.successful, b.failed)));
  const per = buckets[0]?.size === 1 ? 'day' : `${buckets[0]?.size ?? 1} days`;
  out.push('', `${c.bold(`Deployments per ${per}`)} ${c.dim(`(UTC; the tallest bar is ${max})`)}`);
  const ok = bars(buckets.map((b) => b.successful), 3, max);
  const bad = bars(buckets.map((b) => b.failed), 2, max);
  ok.forEach((r, i) => out.push(`  ${(i === ok.length - 1 ? 'successful' : '').padStart(10)} ${c.green(r)}`));
  out.push(`  ${''.padStart(10)} ${c.dim('─'.repeat(buckets.length))}`);
  bad.forEach((r, i) => out.push(`  ${(i === bad.length - 1 ? 'failed' : '').padStart(10)} ${c.red(r)}`));
  const first = s.perDay[0]?.date.slice(5) ?? '';
  const last = s.perDay[s.perDay.length - 1]?.date.slice(5) ?? '';
  out.push(`  ${''.padStart(10)} ${c.dim(first + last.padStart(Math.max(last.length, buckets.length - first.length)))}`);
  return out.join('\n');
}
