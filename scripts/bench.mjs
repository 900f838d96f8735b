#!/usr/bin/env node
// `npm run bench`: the benchmark of deploy, run against the real Docker Engine this machine talks to.
//
// For each figure it prints the median of several runs after a warm-up; ratios compare two sides measured
// side by side (interleaved A, B, A, B ...) in the same run, so drift of the machine hits both alike.
// It writes the figures as JSON (bench-results/bench-<time>.json and bench-results/latest.json) and a short
// table to the terminal, and says for each budget of the issue whether it holds. The exit code is 0 even
// when a budget fails (this is a report); it is 1 only when the bench itself could not run.
//
//   npm run bench                         everything
//   npm run bench -- --quick              fewer runs (for iterating; the figures are noisier)
//   npm run bench -- store                one scenario by name (or several: cli store; or --only cli,store)
//   npm run bench -- --help               the scenarios, one line each
//   npm run bench -- --make-store 100000 /tmp/h   only make a DEPLOY_HOME with that many generated records
//                                                 (the store the bench measures), and keep it, to profile:
//                                                 DEPLOY_HOME=/tmp/h node --cpu-prof bin/deploy.js stats
//
// The code: scripts/bench/runner.mjs (options, the run, the report), scripts/bench/scenarios/NAME.mjs (one
// scenario each: cli, store, deploy, ship, memory, switch, transfer; a new scenario is a new file and its name in the runner's
// list), scripts/bench/measure.mjs (running and timing processes, medians, interleaved sides, figures, the
// table), scripts/bench/workspace.mjs (what the bench makes and removes, the CLI, docker, git, repositories)
// and scripts/bench/store-generator.mjs (stores of many records).
//
// Everything runs in its own DEPLOY_HOME, temp Git repositories and app names `bench-<random>-…`. Everything
// the bench makes on the engine is removed at the end, pass or fail (also on Ctrl-C): the containers labelled
// dev.deploy.app=<one of its apps> and images tagged deploy/<app>, and the containers and images of the
// docker-CLI baselines (tracked by name and by the label dev.deploy.bench=<run id>). Nothing else is touched;
// nothing is pruned. All traffic goes to 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The project's Node (>= 22.13, for node:sqlite and the CLI itself). `npm run` puts node_modules/.bin first
// on PATH; run directly with an older system Node, the bench starts itself again with the project's. The
// bench's modules are loaded only after this check: they need that Node.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  const local = join(dirname(dirname(fileURLToPath(import.meta.url))), 'node_modules', '.bin', 'node');
  if (!existsSync(local)) {
    console.error(`bench: needs Node >= 22.13 (this is ${process.version}); run scripts/setup.sh first`);
    process.exit(1);
  }
  const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { main } = await import('./bench/runner.mjs');
await main(process.argv.slice(2));
