import { formatAge } from '../core/duration.js';
import { isCurrent, type TaskCounts, type TaskView } from '../core/tasks.js';
import type { Colors } from './colors.js';
import { sanitize } from './sanitize.js';
import { truncate, wrapText } from './text.js';
import { plainTable } from './table.js';

/** Ended tasks (Swarm's task history) shown under the current ones; --json lists them all. */
const ENDED_SHOWN = 4;

function paintState(c: Colors, t: TaskView): string {
  if (t.state === 'running') return c.green(t.state);
  if (t.state === 'failed' || t.state === 'rejected') return c.red(t.state);
  if (isCurrent(t)) return c.yellow(t.state);
  return c.dim(t.state);
}

/** `N of M tasks running · per node: NODE r/d, ...`: desired against running, for the service and each node. */
export function taskSummary(counts: TaskCounts, c: Colors): string {
  const all = counts.running >= counts.desired ? c.green : c.yellow;
  const nodes = counts.nodes.map((n) => `${sanitize(n.node)} ${n.running}/${n.desired}`).join(', ');
  return `${all(`${counts.running} of ${counts.desired}`)} task${counts.desired === 1 ? '' : 's'} running${nodes ? ` · per node: ${nodes}` : ''}`;
}

/**
 * A service's tasks for a person, within `width` columns: one row each (slot, id, node, state, desired state, how
 * long in that state), a failed one's error (and exit code) on the lines under it; the current tasks, then the
 * last few that ended. Every line starts with `indent`.
 */
export function renderTasks(tasks: readonly TaskView[], c: Colors, now: number, indent = '  ', width = 80): string[] {
  const current = tasks.filter(isCurrent);
  const ended = tasks.filter((t) => !isCurrent(t));
  const shown = [...current, ...ended.slice(0, ENDED_SHOWN)];
  if (shown.length === 0) return [`${indent}${c.dim('no task')}`];
  const nodeWidth = Math.max(8, width - indent.length - 58);
  const rows = shown.map((t) => [
    t.slot === null ? '-' : String(t.slot),
    t.id,
    truncate(sanitize(t.node || '-'), nodeWidth),
    paintState(c, t),
    t.desiredState,
    t.since ? formatAge(Date.parse(t.since), now) : '-',
  ]);
  const table = plainTable(['SLOT', 'TASK', 'NODE', 'STATE', 'DESIRED', 'SINCE'], rows).split('\n');
  const out = [`${indent}${c.dim(table[0] ?? '')}`];
  shown.forEach((t, i) => {
    out.push(`${indent}${table[i + 1] ?? ''}`);
    const said = [t.exitCode !== null && t.exitCode !== 0 ? `exit ${t.exitCode}` : '', sanitize(t.error)].filter(
      Boolean,
    );
    if (said.length > 0) {
      const pad = `${indent}    `;
      for (const line of fitted(said.join(': '), width - pad.length)) out.push(`${pad}${c.red(line)}`);
    }
  });
  if (ended.length > shown.length - current.length)
    out.push(
      `${indent}${c.dim(`(+${ended.length - (shown.length - current.length)} older ended tasks: --json lists them)`)}`,
    );
  return out;
}

/** Text wrapped between words to `width`, a word longer than a line (an image digest) cut where the line ends. */
function fitted(text: string, width: number): string[] {
  const out: string[] = [];
  for (const line of wrapText(text, width))
    for (let i = 0; i < line.length; i += width) out.push(line.slice(i, i + width));
  return out;
}
