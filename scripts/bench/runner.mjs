// The runner of `npm run bench`: reads the options, runs the chosen scenarios (scripts/bench/scenarios/NAME.mjs)
// in order, cleans up what they made, writes the figures as JSON and prints the table and the budgets.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { log, Report, ROOT, run } from './measure.mjs';
import { makeStore } from './store-generator.mjs';
import { docker, Workspace } from './workspace.mjs';

/** The scenarios, in the order they run: each is scenarios/NAME.mjs (a default export, run with the context). */
export const SCENARIOS = ['cli', 'store', 'deploy', 'ship', 'memory', 'switch', 'swarm', 'transfer'];

const scenario = (name) => import(`./scenarios/${name}.mjs`);

/** Warm-up and measured runs per kind of figure. */
function runsFor(quick) {
  return quick
    ? { fastWarm: 1, fast: 5, slowWarm: 1, slow: 2, deployWarm: 1, deploy: 2, memory: 1 }
    : { fastWarm: 3, fast: 21, slowWarm: 1, slow: 5, deployWarm: 1, deploy: 5, memory: 3 };
}

const usage = (err) => {
  console.error(err);
  process.exit(2);
};

async function parse(argv) {
  const opts = { quick: false, only: new Set(), makeStore: null };
  const pick = (names, how) => {
    const bad = names.filter((n) => !SCENARIOS.includes(n));
    if (names.length === 0 || bad.length > 0)
      usage(`bench: ${how} ${SCENARIOS.join(', ')}${bad.length ? ` (not ${bad.join(', ')})` : ''}`);
    for (const n of names) opts.only.add(n);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const list = a === '--only' ? argv[++i] : a.slice('--only='.length);
      pick(
        (list ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        '--only takes a comma-separated list of:',
      );
    } else if (a === '--make-store') {
      const n = Number(argv[++i]);
      const dir = argv[++i];
      if (!Number.isInteger(n) || n < 1 || !dir) usage('bench: --make-store takes a number of records and a directory');
      opts.makeStore = { n, dir };
    } else if (a === '--help' || a === '-h') {
      const lines = [
        `usage: npm run bench -- [--quick] [SCENARIO ...]       (or --only ${SCENARIOS.join(',')})`,
        '       npm run bench -- --make-store N DIR   (a DEPLOY_HOME with N generated records, kept, for profiling)',
        '',
        'scenarios (all of them when none is named):',
      ];
      const width = Math.max(...SCENARIOS.map((n) => n.length)) + 2;
      for (const name of SCENARIOS) lines.push(`  ${name.padEnd(width)}${(await scenario(name)).summary}`);
      console.log(lines.join('\n'));
      process.exit(0);
    } else if (!a.startsWith('-')) pick([a], 'a scenario is one of:');
    else usage(`bench: unknown argument ${JSON.stringify(a)} (try --help)`);
  }
  if (opts.only.size === 0) opts.only = new Set(SCENARIOS);
  return opts;
}

function machine() {
  const tryRun = (cmd, args) => {
    try {
      return run(cmd, args, { check: false }).stdout.trim() || null;
    } catch {
      return null;
    }
  };
  const head = tryRun('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin', 'package.json']);
  return {
    node: process.version,
    docker: tryRun('docker', [
      'version',
      '--format',
      '{{.Server.Version}} (API {{.Server.APIVersion}}, client {{.Client.Version}})',
    ]),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? null,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    project: head ? `${head}${dirty ? ' (src changed)' : ''}` : null,
    loadAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    buildCache: tryRun('docker', [
      'system',
      'df',
      '--format',
      '{{if eq .Type "Build Cache"}}{{.TotalCount}} entries, {{.Size}}{{end}}',
    ]),
  };
}

async function bench(opts, ws) {
  const runs = runsFor(opts.quick);
  const report = new Report();
  const started = new Date();
  const m = machine();
  console.log(`deploy bench · ${started.toISOString()}${opts.quick ? ' · --quick' : ''}`);
  console.log(
    `node ${m.node} · docker ${m.docker ?? '?'} · ${m.nproc} CPUs (${m.cpu ?? '?'}) · ${m.memory} · ${m.os} · deploy ${m.project ?? '?'}`,
  );
  console.log(
    `load average ${m.loadAtStart.join(' ')}${m.loadAtStart[0] > m.nproc / 2 ? ' — the machine is busy: figures will be noisy' : ''}`,
  );
  // BuildKit slows down as its cache grows (a build of the example took ~130 ms with an empty cache and ~350 ms
  // with 3 GB of old contexts); the bench prunes nothing, so it says so.
  const cacheEntries = Number(/^(\d+) entries/.exec(m.buildCache ?? '')?.[1] ?? 0);
  if (cacheEntries > 200)
    console.log(
      `build cache: ${m.buildCache} — builds are slower with a large cache; for comparable figures, run docker builder prune first`,
    );
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  const built = statSync(join(ROOT, 'dist', 'main.js')).mtimeMs;
  const newer = readdirSync(join(ROOT, 'src'), { recursive: true }).filter(
    (f) => String(f).endsWith('.ts') && statSync(join(ROOT, 'src', String(f))).mtimeMs > built,
  );
  if (newer.length > 0)
    console.log(
      `warning: dist/ is older than ${newer.length} file(s) of src/ (${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ', …' : ''}): the bench measures dist/; run npm run build first`,
    );
  if (docker(['info', '--format', '{{.ServerVersion}}'], { check: false }).code !== 0)
    throw new Error('the Docker Engine is not reachable');

  const details = {};
  const errors = {};
  for (const name of SCENARIOS) {
    if (!opts.only.has(name)) continue;
    try {
      const { default: measure } = await scenario(name);
      details[name] = (await measure({ ws, report, runs })) ?? {};
    } catch (error) {
      errors[name] = error.message;
      log(`${name}: FAILED: ${error.message}`);
    }
  }
  ws.cleanup();

  const { figures, notes } = report;
  const budgets = figures.filter((f) => f.budget);
  const holding = budgets.filter((f) => f.holds);
  const result = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    loadAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))),
    options: { quick: opts.quick, only: [...opts.only], runs },
    machine: m,
    figures,
    details,
    notes,
    errors,
    budgets: {
      holding: holding.length,
      total: budgets.length,
      failing: budgets.filter((f) => !f.holds).map((f) => f.name),
    },
  };
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);

  console.log('');
  console.log(report.table());
  console.log('');
  for (const note of notes) console.log(`note: ${note}`);
  for (const [name, message] of Object.entries(errors))
    console.log(`error: ${name} did not finish: ${message.split('\n')[0]}`);
  console.log(`figures: ${file.replace(`${ROOT}/`, '')} (and bench-results/latest.json)`);
  console.log(
    `${holding.length} of ${budgets.length} budgets hold${Object.keys(errors).length ? ` (${Object.keys(errors).join(', ')} did not finish)` : ''}`,
  );
}

/** The whole run: the exit code is 0 even when a budget fails (this is a report); 1 when the bench could not run. */
export async function main(argv) {
  const opts = await parse(argv);
  const ws = new Workspace();
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      log(`${signal}: cleaning up`);
      ws.cleanup();
      process.exit(130);
    });
  }
  try {
    if (opts.makeStore) console.log(JSON.stringify(await makeStore(opts.makeStore.n, opts.makeStore.dir), null, 2));
    else await bench(opts, ws);
  } catch (error) {
    log(`failed: ${error.message}`);
    ws.cleanup();
    process.exitCode = 1;
  }
}
