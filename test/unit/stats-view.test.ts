import { describe, expect, it } from 'vitest';
import { assembleStats, type RawStatistics, type Stats } from '../../src/core/stats.js';
import { makeColors } from '../../src/ui/colors.js';
import { renderChart, renderCountsTable, renderDetails, renderTitle } from '../../src/ui/stats-view.js';
import { visibleLength } from '../../src/ui/table.js';

const DAY = 86_400_000;
const UNTIL = Date.parse('2026-11-22T12:00:00Z');
const SINCE = UNTIL - 30 * DAY;
const plain = makeColors(false);
const colored = makeColors(true);

const summary = (n: number, median: number, p95: number) => ({ n, median, p95 });

/** Figures as the store's queries give them: two apps, one with a long name, failures and rollbacks. */
function stats(app: string | null = null, perDay: RawStatistics['perDay'] = []): Stats {
  const names = ['web', 'payments-gateway-eu'];
  const raw: RawStatistics = {
    counts: names.map((n, i) => ({
      app: n,
      total: 120 + i,
      pending: 1,
      successful: 100 + i,
      failed: 12,
      running: 1,
      stopped: 0,
    })),
    durations: {
      build: Object.fromEntries([...names, '*'].map((n) => [n, summary(40, 93_000, 512_000)])),
      startToReady: Object.fromEntries([...names, '*'].map((n) => [n, summary(40, 4_000, 9_000)])),
      total: Object.fromEntries([...names, '*'].map((n) => [n, summary(40, 99_000, 600_000)])),
    },
    leadTime: Object.fromEntries([...names, '*'].map((n) => [n, summary(40, 8 * DAY + 23 * 3_600_000, 12 * DAY)])),
    changes: Object.fromEntries([...names, '*'].map((n) => [n, { changes: 100, failed: 12, rolledBack: 3 }])),
    restore: Object.fromEntries([...names, '*'].map((n) => [n, { ...summary(3, 493_000, 900_000), unrestored: 1 }])),
    perDay,
  };
  return assembleStats(raw, { since: SINCE, until: UNTIL }, app);
}

/** Every line of `deploy stats` on a terminal of this width. */
async function screen(s: Stats, width: number): Promise<string[]> {
  const text = [
    renderTitle(s, colored, width),
    await renderCountsTable(s, colored, width),
    renderDetails(s, colored, width),
  ].join('\n');
  return text.split('\n');
}

describe('deploy stats on a terminal', () => {
  for (const width of [120, 80, 60, 50, 40]) {
    it(`fits ${width} columns: no line is wider, colours or not`, async () => {
      for (const lines of [await screen(stats(), width), await screen(stats('payments-gateway-eu'), width)]) {
        const widest = lines.reduce((a, l) => (visibleLength(l) > visibleLength(a) ? l : a), '');
        expect(visibleLength(widest), widest).toBeLessThanOrEqual(width);
      }
    });
  }

  it('spells the change failure rate out, or explains CFR under the table', async () => {
    const wide = (await renderCountsTable(stats(), plain, 200)).split('\n');
    expect(wide[0]).toMatch(
      /^APP\s+TOTAL\s+PENDING\s+SUCCESSFUL\s+FAILED\s+RUNNING\s+STOPPED\s+BUILD p50\s+LEAD TIME p50\s+CHANGE FAILURE RATE$/,
    );
    expect(wide).toHaveLength(5); // headers, rule, two apps, all apps: no legend needed
    const narrow = await renderCountsTable(stats(), plain, 80);
    expect(narrow.split('\n')[0]).toMatch(/\bCFR$/);
    expect(narrow).toContain('CFR: change failure rate, the share of changes that failed or were rolled back');
  });

  it('keeps the app, its counts and its failure rate at 50 columns, dropping the least telling columns', async () => {
    const lines = (await renderCountsTable(stats(), plain, 50)).split('\n');
    expect(lines[0]).toMatch(/^APP\s+/);
    expect(lines[0]).not.toMatch(/PEND|STOP|RUN/);
    expect(lines[0]).toMatch(/\bOK\s+FAILED\b.*\bCFR$/);
    expect(lines.find((l) => l.startsWith('payments-gateway-eu'))).toMatch(/\b101\s+12\b.*\b15%$/);
  });

  it('draws the header rule as wide as the table, not wider', async () => {
    const lines = (await renderCountsTable(stats(), colored, 80)).split('\n');
    const rule = lines[1] as string;
    expect(rule.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/^─+$/); // eslint-disable-line no-control-regex
    expect(visibleLength(rule)).toBe(
      Math.max(
        ...lines
          .slice(0, 5)
          .filter((l) => l !== rule)
          .map(visibleLength),
      ),
    );
  });

  it('says "1 day", not "1 days"', () => {
    const one = assembleStats({ ...rawEmpty() }, { since: UNTIL - DAY, until: UNTIL }, null);
    expect(renderTitle(one, plain, 80)).toBe('All apps: deployments since 2026-11-21 (1 day)');
  });
});

describe('the per-day chart', () => {
  it('draws failures on the scale of successes: as many failures make as tall a bar', () => {
    const day = Math.floor(SINCE / DAY) + 3;
    const s = stats(null, [
      { day, successful: 2, failed: 2 },
      { day: day + 1, successful: 4, failed: 1 },
    ]);
    const lines = renderChart(s, plain, 80);
    const rule = lines.findIndex((l) => l.includes('─'));
    const column = (rows: string[], n: number) => rows.map((r) => r.slice(13)[n] ?? ' ').join('');
    const above = lines.slice(1, rule);
    const below = lines.slice(rule + 1, -1);
    // 4 is three full rows: 2 is a row and a half, above and below alike; 1 is three quarters of a row.
    expect(column(above, 3)).toBe(' ▄█');
    expect(column(above, 4)).toBe('███');
    expect(column(below, 3)).toBe('▄█'); // the top row of three is left out: nothing reaches it
    expect(column(below, 4)).toBe(' ▆');
    expect(below[0]).toMatch(/^ {6}failed /);
  });

  it('shows one blank failure row when nothing failed', () => {
    const lines = renderChart(stats(null, [{ day: Math.floor(SINCE / DAY) + 1, successful: 3, failed: 0 }]), plain, 80);
    const rule = lines.findIndex((l) => l.includes('─'));
    expect(lines.slice(rule + 1)).toHaveLength(2); // the failed row, then the dates
    expect(lines[rule + 1]).toBe('      failed');
  });
});

function rawEmpty(): RawStatistics {
  return {
    counts: [],
    durations: { build: {}, startToReady: {}, total: {} },
    leadTime: {},
    changes: {},
    restore: {},
    perDay: [],
  };
}
