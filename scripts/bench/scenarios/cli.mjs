// The CLI's start-up: `deploy --version`, `--help`, `ls` and `ls --all` on a store of 10,000 records, against
// `node -e 0`.
import { CLI_TIMEOUT_MS, describe, log, run, sideBySide, SLOW_MS, unlessTimedOut } from '../measure.mjs';
import { storeWith } from '../store-generator.mjs';
import { deployCli, NODE } from '../workspace.mjs';

/** One line for --help. */
export const summary = '`deploy --version`, `--help` and `ls` (store of 10,000 records) against `node -e 0`';

export default async function benchCli({ ws, report, runs }) {
  log('cli: deploy --version, --help and ls (10,000 records) against node -e 0');
  const { home, info } = await storeWith(ws, 10_000);
  const nodeE0 = () => run(NODE, ['-e', '0'], { env: { DEPLOY_HOME: home, NO_COLOR: '1' } }).wall;
  const cases = [
    { name: 'deploy --version', args: ['--version'], budget: { ratio: 1.5 } },
    { name: 'deploy --help', args: ['--help'], budget: { ratio: 2 } },
    // `deploy ls` shows the newest 20 (the view a person asks for); --all prints every one of the 10,000 rows.
    { name: 'deploy ls (10k records)', args: ['ls'], budget: { ratio: 2.5 }, expectRows: 20 },
    { name: 'deploy ls --all (10k records, every row)', args: ['ls', '--all'], expectRows: info.records },
  ];
  for (const c of cases) {
    let lastOut = null;
    const figure = { scenario: 'cli', name: c.name, command: `deploy ${c.args.join(' ')}`, budget: c.budget };
    const timedOutBaseline = () => ({ name: 'node -e 0', ...describe([nodeE0()]) });
    const side = await unlessTimedOut(report, { figure, limit: CLI_TIMEOUT_MS, timedOutBaseline }, () =>
      sideBySide(
        () => {
          const r = deployCli(c.args, { home, timeoutMs: CLI_TIMEOUT_MS });
          lastOut = r;
          return r.wall;
        },
        nodeE0,
        { warm: runs.fastWarm, runs: runs.fast, slowMs: SLOW_MS },
      ),
    );
    if (side === null) continue;
    if (c.expectRows !== undefined) {
      const lines = lastOut.stdout.trimEnd().split('\n').length - 1; // minus the header
      if (lines !== c.expectRows) report.note(`${c.name} printed ${lines} rows, expected ${c.expectRows}`);
    }
    report.figure({
      ...figure,
      value: side.a,
      baseline: { name: 'node -e 0', ...side.b },
      pairRatios: side.pairRatios,
      outputBytes: lastOut.outBytes,
    });
  }
  return { store: info };
}
