// A store of 100,000 records: `ls --limit 50`, `ls --json`, `stats` (its first run apart), `ls --json --all`.
import { alone, CLI_TIMEOUT_MS, log, SLOW_MS, unlessTimedOut } from '../measure.mjs';
import { storeWith } from '../store-generator.mjs';
import { deployCli } from '../workspace.mjs';

/** One line for --help. */
export const summary = '`deploy ls --limit 50`, `ls --json`, `stats` on a store of 100,000 records';

export default async function benchStore({ ws, report, runs }) {
  log('store: ls and stats on 100,000 records');
  const { home, info } = await storeWith(ws, 100_000);
  // deploy stats reads per-day rollups. The first stats after records were written computes those of every day
  // they touched: once (a store's first stats after its upgrade to schema 10, or this generated one's), here in
  // one run of its own; the stats figures below are what it costs from then on (after a deploy, a day or two of
  // its app are recomputed).
  const first = deployCli(['stats'], { home, timeoutMs: 4 * CLI_TIMEOUT_MS });
  report.figure({
    scenario: 'store',
    name: 'deploy stats, first run: rollups made (100k)',
    command: 'deploy stats',
    value: { median: first.wall, min: first.wall, max: first.wall, mean: first.wall, samples: [first.wall] },
  });
  const cases = [
    { name: 'deploy ls --limit 50 (100k)', args: ['ls', '--limit', '50'], budget: { max: 300 }, fast: true },
    { name: 'deploy ls --json --limit 50 (100k)', args: ['ls', '--json', '--limit', '50'], fast: true },
    { name: 'deploy stats (100k)', args: ['stats'], budget: { max: 300 }, fast: true },
    { name: 'deploy stats --json (100k)', args: ['stats', '--json'], fast: true },
    { name: 'deploy ls --json --all (100k)', args: ['ls', '--json', '--all'], fast: false, stdout: 'file' },
  ];
  for (const c of cases) {
    let out = null;
    const limit = c.fast ? CLI_TIMEOUT_MS : 2 * CLI_TIMEOUT_MS;
    const figure = { scenario: 'store', name: c.name, command: `deploy ${c.args.join(' ')}`, budget: c.budget };
    const value = await unlessTimedOut(report, { figure, limit }, () =>
      alone(
        () => {
          out = deployCli(c.args, { home, stdout: c.stdout ?? 'pipe', timeoutMs: limit });
          return out.wall;
        },
        {
          ...(c.fast ? { warm: runs.fastWarm, runs: runs.fast } : { warm: runs.slowWarm, runs: runs.slow }),
          slowMs: SLOW_MS,
        },
      ),
    );
    if (value === null) continue;
    if (value.reduced) report.note(`${c.name}: one run only (a run takes more than ${SLOW_MS / 1000} s)`);
    report.figure({ ...figure, value, outputBytes: out.outBytes });
  }
  return { store: info };
}
