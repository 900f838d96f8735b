import type { Colors } from './colors.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(s: string): number {
  // Most cells are plain ASCII: count them without a regex or a spread.
  // eslint-disable-next-line no-control-regex
  if (!/[\x1b\u0080-\uffff]/.test(s)) return s.length;
  return [...s.replace(ANSI, '')].length;
}

/** Columns separated by two spaces, header in capitals: what `docker ps` prints, and what scripts can cut. */
export function plainTable(headers: readonly string[], rows: readonly string[][]): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

/** How wide terminalTable() draws these cells: each column as wide as its widest cell, two spaces between. */
export function tableWidth(headers: readonly string[], rows: readonly string[][]): number {
  const widths = headers.map((h, i) => {
    let w = visibleLength(h);
    for (const r of rows) w = Math.max(w, visibleLength(r[i] ?? ''));
    return w;
  });
  return widths.reduce((a, w) => a + w, 0) + 2 * Math.max(0, widths.length - 1);
}

/** A cli-table3 table for a person at a terminal: a rule under the header, no vertical borders. */
export async function terminalTable(
  headers: readonly string[],
  rows: readonly string[][],
  colors: Colors,
  rightAligned: readonly number[] = [],
): Promise<string> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: headers.map((h) => colors.bold(h)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: colors.dim('─'),
      'mid-mid': colors.dim('─'),
      right: '',
      'right-mid': '',
      middle: '',
    },
  });
  table.push(
    ...rows.map((r) =>
      r.map((content, i) => (rightAligned.includes(i) ? { content, hAlign: 'right' as const } : content)),
    ),
  );
  // cli-table3 draws the header rule only (compact mode), across every column's padding: it is drawn again
  // as long as the widest line, so it never reaches further than the table (and never wraps where it fits).
  const lines = table
    .toString()
    .split('\n')
    .map((l) => l.trimEnd());
  const isRule = (l: string) => l.replace(ANSI, '').replace(/─/g, '') === '' && l.includes('─');
  const widest = Math.max(0, ...lines.filter((l) => !isRule(l)).map(visibleLength));
  return lines.map((l) => (isRule(l) ? colors.dim('─'.repeat(widest)) : l)).join('\n');
}
