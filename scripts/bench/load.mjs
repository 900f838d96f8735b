#!/usr/bin/env node
// Bounded keep-alive load on one loopback port, run as its own process (the bench's CLI runs are synchronous):
//   node scripts/bench/load.mjs PORT CLIENTS MAX_SECONDS [RATE] [SAMPLES] [HOST]
// Each client sends its next request as soon as the last one ended, or, with RATE (requests a second per client),
// no sooner than 1/RATE s after the last one was sent (paced: the load leaves the machine room for the work that
// is measured under it). It sends requests until it reads a line on stdin (or MAX_SECONDS pass), then prints one
// JSON line:
// { ok, failed, errors: {reason: n}, seconds, latencies: {p50, p99, max} (ms) }, and with SAMPLES=1 also
// `samples`: [sent at (ms since the epoch), latency (ms)] of each answered request, to look at a window of time.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [port, clients, maxSeconds, rate = 0, keepSamples = 0] = process.argv.slice(2, 7).map(Number);
// 127.0.0.1 unless given: the bench's own test hosts only (a swarm node's address in a namespace it made).
const host = process.argv[7] ?? '127.0.0.1';
const gapMs = rate > 0 ? 1000 / rate : 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const latencies = [];
const samples = [];
const errors = {};
let ok = 0;
let failed = 0;
let stopped = false;
const started = performance.now();
const stop = () => (stopped = true);
process.stdin.on('data', stop);
process.stdin.on('end', stop);
setTimeout(stop, maxSeconds * 1000).unref();

function once() {
  return new Promise((resolve) => {
    const sent = performance.now();
    const fail = (why) => {
      failed++;
      errors[why] = (errors[why] ?? 0) + 1;
      // A refused connection comes back at once: wait a little, as a client would, rather than spin.
      setTimeout(resolve, 20);
    };
    const req = http.get({ host, port, path: '/', agent, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
        ok++;
        latencies.push(performance.now() - sent);
        if (keepSamples) samples.push([Math.round(performance.timeOrigin + sent), latencies.at(-1)]);
        resolve();
      });
      res.on('error', (e) => fail(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => fail(e.code ?? e.message));
  });
}

await Promise.all(
  Array.from({ length: clients }, async (_, i) => {
    // Paced clients start spread over one gap, not all at once.
    if (gapMs > 0) await new Promise((r) => setTimeout(r, (gapMs * i) / clients));
    while (!stopped) {
      const sent = performance.now();
      await once();
      const wait = sent + gapMs - performance.now();
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait));
    }
  }),
);
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : null;
const seconds = (performance.now() - started) / 1000;
// Exits once the line is written: a pipe takes a long one (the samples) in several writes, and exit would cut it.
process.stdout.write(
  `${JSON.stringify({ ok, failed, errors, seconds, latencies: { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? null }, ...(keepSamples ? { samples } : {}) })}\n`,
  () => process.exit(0),
);
