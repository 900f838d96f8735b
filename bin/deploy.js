#!/usr/bin/env node
// The entry point: checks the Node version, answers --version without loading anything, runs main(),
// and is the only place that exits the process.
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { NODE_RANGE, satisfies } from './node-range.js';

if (!satisfies(process.versions.node)) {
  // A system Node deploy does not support (Node 20 on these machines): use the one the project's setup installed.
  const { existsSync, realpathSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const local = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  // (Not when that is this Node: an install whose own Node is unsupported must not start itself forever.)
  if (existsSync(local) && realpathSync(local) !== process.execPath) {
    const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(r.status ?? (r.signal ? 128 + 2 : 1));
  }
  process.stderr.write(
    `deploy needs Node.js ${NODE_RANGE.replaceAll('||', 'or')}; this is ${process.version}.\nInstall one, or run scripts/setup.sh in the deploy checkout to get one.\n`,
  );
  process.exit(1);
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

module.enableCompileCache?.();
// The build is a bundle: stack traces (shown under --verbose) point at src/ through its source maps.
if (argv.includes('--verbose') || argv.includes('-v')) process.setSourceMapsEnabled(true);

const controller = new AbortController();

// Results piped into something that stops reading (| head) end the command quietly, as in any Unix tool.
// Progress whose reader went away stops the work cleanly instead: a deploy half done is undone, not abandoned.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});
process.stderr.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  controller.abort(new Error('EPIPE'));
});
let interrupts = 0;
const onSignal = (signal) => {
  interrupts++;
  if (interrupts > 1) process.exit(130);
  controller.abort(new Error(signal));
  // Whatever the command waits on (an engine that does not answer, a stop in flight), it ends within 2 s: what
  // can be undone in that time is undone, and the next command's recovery sees to the rest.
  setTimeout(() => process.exit(130), 2000).unref();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const { main } = await import('../dist/main.js');
const code = await main(argv, {}, { signal: controller.signal });
const flush = (stream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);
