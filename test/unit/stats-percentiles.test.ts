import { describe, expect, it } from 'vitest';
import { ALL, Samples, type Summary } from '../../src/core/stats.js';
import { mulberry32 as random } from '../helpers/random.js';

/** The definition: sort everything, interpolate linearly between the closest ranks, round (as SQLite's percentile()). */
function bySorting(values: readonly number[]): Summary {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  if (n === 0) return { n: 0, median: null, p95: null };
  const at = (p: number) => {
    const pos = ((n - 1) * p) / 100;
    const lo = Math.floor(pos);
    const low = v[lo] as number;
    const high = pos > lo ? (v[lo + 1] as number) : low;
    return Math.round(low + (high - low) * (pos - lo));
  };
  return { n, median: at(50), p95: at(95) };
}

const sortedRun = (values: number[]) => Float64Array.from(values).sort();

describe('medians and 95th percentiles of the series stats gathers', () => {
  it('Samples gives each key and ALL exactly the figures of sorting everything (series in sorted runs, as the rollups give them, int32 and float64)', () => {
    const rand = random(11);
    for (let round = 0; round < 40; round++) {
      const samples = new Samples();
      const byKey = new Map<string, number[]>();
      const keys = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < keys; k++) {
        const days = Math.floor(rand() * 8);
        for (let d = 0; d < days; d++) {
          const spread = rand() < 0.2 ? 3 : 100_000;
          const values = Array.from({ length: Math.floor(rand() * 60) }, () =>
            rand() < 0.1 ? -Math.floor(rand() * 50) : Math.floor(rand() * spread),
          );
          // The rollups' runs are sorted; JSON arrays from SQLite (the partial days) are sorted before too.
          const run = sortedRun(values);
          samples.addAll(`app${k}`, rand() < 0.5 ? Int32Array.from(run) : run);
          byKey.set(`app${k}`, [...(byKey.get(`app${k}`) ?? []), ...values]);
        }
      }
      const expected: Record<string, Summary> = {};
      for (const [key, values] of byKey) if (values.length > 0) expected[key] = bySorting(values);
      expected[ALL] = bySorting([...byKey.values()].flat());
      expect(samples.summaries()).toEqual(expected);
    }
  });

  it('no values: ALL is empty; one value: it is the median and the 95th percentile; unsorted chunks are still right', () => {
    expect(new Samples().summaries()).toEqual({ [ALL]: { n: 0, median: null, p95: null } });
    const one = new Samples();
    one.add('web', 1234);
    expect(one.summaries()).toEqual({
      web: { n: 1, median: 1234, p95: 1234 },
      [ALL]: { n: 1, median: 1234, p95: 1234 },
    });
    const unsorted = new Samples();
    unsorted.addAll('web', [9, 1, 5, 3]);
    unsorted.addAll('api', [2, 8, 2]);
    expect(unsorted.summaries()).toEqual({
      web: bySorting([9, 1, 5, 3]),
      api: bySorting([2, 8, 2]),
      [ALL]: bySorting([9, 1, 5, 3, 2, 8, 2]),
    });
  });
});
