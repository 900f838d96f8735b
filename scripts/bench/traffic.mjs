// Load on an app while the bench changes it: the load generator (scripts/bench/load.mjs) as its own process, so the
// bench's synchronous CLI runs do not hold it up, and the p99 of a set of latencies.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './measure.mjs';

/** Keep-alive clients of the load generator. */
export const CLIENTS = 16;

/**
 * Starts the load generator on a port (of 127.0.0.1, or `host`); `stop()` resolves with its figures. `rate`:
 * requests a second per client (0: each client sends its next request as soon as the last one ended);
 * `samples`: keep each request's time and latency.
 */
export function startLoad(port, { rate = 0, maxSeconds = 600, samples = false, host = '127.0.0.1' } = {}) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'scripts', 'bench', 'load.mjs'),
      String(port),
      String(CLIENTS),
      String(maxSeconds),
      String(rate),
      samples ? '1' : '0',
      host,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const done = new Promise((resolve, reject) => {
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`the load generator gave no figures: ${out}`));
      }
    });
  });
  return {
    stop: () => {
      child.stdin.end('stop\n');
      return done;
    },
  };
}

export function p99(xs) {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(0.99 * v.length))];
}
