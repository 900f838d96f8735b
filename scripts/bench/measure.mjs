// What every scenario of the bench measures with: running a process to its end and timing it, medians and
// spreads, two sides timed interleaved, the figures with their budgets, and the printed table.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root: where processes run unless told otherwise. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

export const ms = (ns) => Number(ns) / 1e6;

/** A process the bench started ran past its time limit (and was killed). */
export class TimedOut extends Error {}

/** No process the bench starts runs longer than this (unless told otherwise): every wait is bounded. */
export const RUN_TIMEOUT_MS = 10 * 60_000;
/** A fast CLI figure's run is stopped (and the figure marked timed out) after this long. */
export const CLI_TIMEOUT_MS = 60_000;
/** A figure whose runs take longer than this is measured once, not runs.fast times. */
export const SLOW_MS = 5_000;

/**
 * Runs a command to its end; returns its wall time (from spawn to exit, in ms) and output. stdout may be
 * 'pipe' (kept), 'file' (written to a temp file, for outputs of hundreds of MB) or 'ignore'.
 */
export function run(
  cmd,
  args,
  { env = {}, cwd = ROOT, stdout = 'pipe', input, check = true, timeoutMs = RUN_TIMEOUT_MS } = {},
) {
  let fd = null;
  let outDir = null;
  let outFile = null;
  if (stdout === 'file') {
    outDir = mkdtempSync(join(os.tmpdir(), 'deploy-bench-out-'));
    outFile = join(outDir, 'stdout');
    fd = openSync(outFile, 'w');
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', fd ?? (stdout === 'ignore' ? 'ignore' : 'pipe'), 'pipe'],
    maxBuffer: 1 << 30,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  const wall = ms(process.hrtime.bigint() - t0);
  if (fd !== null) closeSync(fd);
  const res = {
    wall,
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    outBytes: outFile ? statSync(outFile).size : (r.stdout ?? '').length,
  };
  if (outDir) rmSync(outDir, { recursive: true, force: true });
  if (r.error?.code === 'ETIMEDOUT' || (r.signal === 'SIGKILL' && wall >= timeoutMs)) {
    throw new TimedOut(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s (killed)`);
  }
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (check && r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${(res.stderr || res.stdout).trim().split('\n').slice(-15).join('\n')}`,
    );
  }
  return res;
}

// --- statistics ------------------------------------------------------------------------------------

export function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function describe(samples) {
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    samples,
  };
}

/**
 * Times `a` against `b`, interleaved: warm-up rounds (discarded), then rounds of a then b. Returns both
 * sides' samples and the per-round ratios. When a run of `a` takes longer than slowMs, one measured round
 * is all it gets (noted as reduced).
 */
export async function sideBySide(a, b, { warm, runs, slowMs = Infinity }) {
  const as = [];
  const bs = [];
  let reduced = false;
  for (let i = 0; as.length < runs; i++) {
    const x = await a();
    const y = b ? await b() : null;
    if (i >= warm) {
      as.push(x);
      bs.push(y);
    }
    if (x > slowMs && !reduced) {
      reduced = true;
      warm = Math.min(warm, i + 1);
      runs = 1;
    }
  }
  const out = {
    a: { ...describe(as), ...(reduced ? { reduced: true } : {}) },
    b: b ? describe(bs) : null,
    pairRatios: b ? as.map((x, i) => x / bs[i]) : null,
  };
  return out;
}

export async function alone(fn, o) {
  return (await sideBySide(fn, null, o)).a;
}

/** A figure's value when its command had to be killed: the time limit, as a lower bound. */
export function timedOutValue(limit) {
  return { median: limit, min: limit, max: limit, mean: limit, samples: [], timedOut: true };
}

/**
 * Measures one figure with `measure` (sideBySide, alone) and returns what it returns; when one of its runs is
 * killed past `limit` (ms), records the figure as timed out instead — a note, the limit as its value (a lower
 * bound), `timedOutBaseline()` as its baseline when given — and returns null, for the scenario to go on.
 */
export async function unlessTimedOut(report, { figure, limit, timedOutBaseline }, measure) {
  try {
    return await measure();
  } catch (error) {
    if (!(error instanceof TimedOut)) throw error;
    report.note(error.message);
    report.figure({
      ...figure,
      value: timedOutValue(limit),
      ...(timedOutBaseline ? { baseline: timedOutBaseline() } : {}),
    });
    return null;
  }
}

// --- figures and the report --------------------------------------------------------------------------

/** The figures and notes of one run of the bench, in the order the scenarios made them. */
export class Report {
  figures = [];
  notes = [];

  note(text) {
    this.notes.push(text);
  }

  /**
   * Records a figure. budget: { ratio: x } (median ≤ x × the baseline's median) or { max: v } (median ≤ v).
   */
  figure(f) {
    const entry = { unit: 'ms', ...f };
    if (entry.baseline) {
      entry.ratio = entry.value.median / entry.baseline.median;
      if (entry.pairRatios) entry.pairRatioMedian = median(entry.pairRatios);
    }
    if (entry.budget) {
      const limit = entry.budget.ratio ?? entry.budget.max;
      const measured = entry.budget.ratio !== undefined ? entry.ratio : entry.value.median;
      entry.holds = measured <= limit;
    }
    this.figures.push(entry);
    const v =
      entry.unit === 'ms' ? `${entry.value.median.toFixed(1)} ms` : `${entry.value.median.toFixed(1)} ${entry.unit}`;
    log(
      `  ${entry.name}: ${v}${entry.baseline ? ` vs ${entry.baseline.median.toFixed(1)} (${entry.ratio.toFixed(2)}×)` : ''}${entry.budget ? (entry.holds ? ' — holds' : ' — FAILS') : ''}`,
    );
    return entry;
  }

  /** The table printed at the end: each figure, its baseline and ratio, its budget and whether it holds. */
  table() {
    const head = ['figure', 'median', 'baseline', 'ratio', 'budget', 'holds'];
    const rows = this.figures.map((f) => [
      f.name,
      fmt(f.value.median, f.unit, f.value.timedOut),
      f.baseline ? fmt(f.baseline.median, f.unit) : '-',
      f.ratio !== undefined ? `${f.value.timedOut ? '> ' : ''}${f.ratio.toFixed(2)}×` : '-',
      f.budget ? (f.budget.ratio !== undefined ? `≤ ${f.budget.ratio}×` : `≤ ${f.budget.max} ms`) : '-',
      f.budget ? (f.holds ? 'yes' : 'NO') : '',
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r) =>
      r
        .map((c, i) => pad(c, widths[i]))
        .join('  ')
        .trimEnd();
    return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  }
}

function pad(s, n) {
  const t = String(s);
  return t.length >= n ? t : t + ' '.repeat(n - t.length);
}

function fmt(v, unit, timedOut = false) {
  if (v === null || v === undefined) return '-';
  if (timedOut) return `> ${v / 1000} s (killed)`;
  return unit === 'ms' ? (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`) : `${v.toFixed(1)} ${unit}`;
}
