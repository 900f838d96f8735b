import { formatBytes, type UsageRow } from '../core/usage.js';
import type { Colors } from './colors.js';
import { plainTable, visibleLength } from './table.js';

const HEADERS = ['name', 'cpu %', 'mem usage', 'net i/o'];

/** A name cut in its middle to `max` characters (its start says the release, its end the slot and node). */
function cut(name: string, max: number): string {
  if (name.length <= max) return name;
  const head = Math.ceil((max - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (max - 1 - head))}`;
}

/**
 * `deploy stats --now` for a person: one line per container or task (CPU, memory, network in/out), and under a row
 * that has no figures, why (a task on a node out of reach). Fits `width`: the names are cut in their middle.
 */
export function renderUsage(rows: readonly UsageRow[], colors: Colors, width: number): string {
  const cells = rows.map((r) =>
    r.usage
      ? [
          r.name,
          `${r.usage.cpuPercent.toFixed(2)}%`,
          formatBytes(r.usage.memoryBytes, true),
          `${formatBytes(r.usage.netInBytes, false)} / ${formatBytes(r.usage.netOutBytes, false)}`,
        ]
      : [r.name, '-', '-', '-'],
  );
  const others = HEADERS.slice(1).map((h, i) => Math.max(h.length, ...cells.map((c) => visibleLength(c[i + 1] ?? ''))));
  const room = Math.max(12, width - others.reduce((a, b) => a + b, 0) - 2 * others.length);
  const lines = plainTable(
    HEADERS,
    cells.map((c) => [cut(c[0] ?? '', room), ...c.slice(1)]),
  ).split('\n');
  const out = [lines[0] ?? ''];
  rows.forEach((r, i) => {
    out.push(lines[i + 1] ?? '');
    if (r.note) out.push(colors.dim(cut(`  ${r.note}`, width)));
  });
  return out.join('\n');
}
