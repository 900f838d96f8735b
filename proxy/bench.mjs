#!/usr/bin/env node
// The front door's own benchmark, on loopback only, no Docker: the built bundle (proxy/dist/proxy.js) in its own
// process, two upstream Node servers in another, 16 keep-alive clients in this one.
//
//   node proxy/bench.mjs [--seconds N] [--swaps N] [--json]
//
// It prints: throughput through the front door against a direct connection (the ratio); p99 latency in steady
// state against p99 while 20 switches run under the same load; failed requests during the switches; and the
// switch latency: from the moment the new upstream answered its last passing health check to the first request
// it got through the front door (measured on the upstream's clock), and inside the front door from the passing
// check to the pointer swap.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const here = dirname(fileURLToPath(import.meta.url));

// ---- Upstream mode: `node bench.mjs upstreams` serves apps "a" and "b" and a small admin port. -------------------
if (process.argv[2] === 'upstreams') {
  const apps = {};
  const ports = {};
  for (const name of ['a', 'b']) {
    const app = { lastHealthAt: 0, firstRequestAt: 0, armed: false };
    apps[name] = app;
    const server = http.createServer((req, res) => {
      if (req.url === '/up') {
        app.lastHealthAt = performance.timeOrigin + performance.now();
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
        return;
      }
      if (app.armed && app.firstRequestAt === 0) app.firstRequestAt = performance.timeOrigin + performance.now();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(name);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[name] = server.address().port;
  }
  const admin = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const app = apps[url.searchParams.get('app')];
    if (url.pathname === '/arm') Object.assign(app, { armed: true, firstRequestAt: 0 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(app));
  });
  await new Promise((resolve) => admin.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ ...ports, admin: admin.address().port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  await main();
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function p(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((q / 100) * sorted.length) - 1)];
}

function round(x, digits = 2) {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** CPU time (user + system) a process has used, in ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

function command(socketPath, verb, options) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    socket.on('connect', () => socket.write(`${JSON.stringify({ verb, options })}\n`));
    socket.on('data', (d) => {
      buffer += d;
      if (buffer.includes('\n')) {
        socket.destroy();
        const answer = JSON.parse(buffer);
        if (answer.ok) resolve(answer.result);
        else reject(new Error(answer.error));
      }
    });
    socket.on('error', reject);
  });
}

/** 16 keep-alive clients in a closed loop until `stop()`; latencies per phase. */
function load(port, clients) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: clients, keepAliveTimeout: 60_000, pipelining: 1 });
  let running = true;
  let phase = 'steady';
  const stats = {};
  const bucket = (name) => (stats[name] ??= { ok: 0, failed: 0, latencies: [], errors: new Map() });
  const worker = async () => {
    while (running) {
      const b = bucket(phase);
      const started = performance.now();
      try {
        const answer = await pool.request({ path: '/', method: 'GET' });
        await answer.body.text();
        if (answer.statusCode === 200) {
          b.ok++;
          b.latencies.push(performance.now() - started);
        } else {
          b.failed++;
          b.errors.set(`HTTP ${answer.statusCode}`, (b.errors.get(`HTTP ${answer.statusCode}`) ?? 0) + 1);
        }
      } catch (err) {
        b.failed++;
        const key = err.code ?? err.message;
        b.errors.set(key, (b.errors.get(key) ?? 0) + 1);
      }
    }
  };
  const workers = Array.from({ length: clients }, worker);
  return {
    setPhase: (name) => (phase = name),
    stats,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      await pool.close();
    },
  };
}

async function main() {
  const seconds = arg('seconds', 3);
  const swaps = arg('swaps', 20);
  const clients = 16;
  const json = process.argv.includes('--json');
  const log = (line) => process.stderr.write(`${line}\n`);

  execFileSync(process.execPath, [join(here, 'build.mjs')], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'front-door-bench-'));
  const socketPath = join(dir, 'control.sock');
  const children = [];
  try {
    const upstreams = spawn(process.execPath, [fileURLToPath(import.meta.url), 'upstreams'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(upstreams);
    const ports = await new Promise((resolve) => upstreams.stdout.once('data', (d) => resolve(JSON.parse(String(d)))));
    const listen = await freePort();
    const start = async (mode, env) => {
      const child = spawn(process.execPath, [join(here, 'dist', 'proxy.js'), mode], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      await new Promise((resolve, reject) => {
        let text = '';
        child.stderr.on('data', (d) => {
          text += d;
          if (text.includes('control socket')) resolve();
        });
        child.once('exit', () => reject(new Error(`${mode} exited: ${text}`)));
      });
      return child;
    };
    const proxy = await start('serve', {
      FRONT_DOOR_SOCKET: socketPath,
      FRONT_DOOR_STATE: join(dir, 'state.json'),
      FRONT_DOOR_LISTEN: '127.0.0.1',
    });
    // A second door on unix sockets behind the relay, serving the same upstream on another port.
    const relayed = await freePort();
    const socketsDoor = join(dir, 'door2.sock');
    const relaySocket = join(dir, 'relay.sock');
    await start('serve', {
      FRONT_DOOR_SOCKET: socketsDoor,
      FRONT_DOOR_STATE: join(dir, 'door2', 'state.json'),
      FRONT_DOOR_SOCKETS: join(dir, 'sockets', '1'),
    });
    const relay = await start('relay', {
      FRONT_DOOR_SOCKET: relaySocket,
      FRONT_DOOR_RELAY_STATE: join(dir, 'relay.json'),
      FRONT_DOOR_SOCKETS_ROOT: join(dir, 'sockets'),
    });
    const route = (name) => ({
      app: 'bench',
      target: `127.0.0.1:${ports[name]}`,
      port: listen,
      health: { intervalMs: 100, successes: 2 },
      timing: { bakeMs: 0, drainMs: 5_000 },
    });
    await command(socketPath, 'deploy', route('a'));
    await command(socketsDoor, 'deploy', { ...route('a'), port: relayed });
    await command(relaySocket, 'listen', { generation: 1, bindings: [{ hostIp: '127.0.0.1', hostPort: relayed }] });

    // Throughput: direct, through, direct, through (interleaved, so drift hits both sides).
    log(`throughput: ${clients} keep-alive clients, ${seconds} s per side, twice each`);
    const rates = { direct: [], proxy: [], relay: [] };
    const cpuPerRequest = { upstream: [], frontDoor: [], relay: [] };
    for (let round_ = 0; round_ < 2; round_++) {
      for (const side of ['direct', 'proxy', 'relay']) {
        const run = load({ direct: ports.a, proxy: listen, relay: relayed }[side], clients);
        await new Promise((r) => setTimeout(r, 300));
        const cpuBefore = { upstream: cpuMs(upstreams.pid), frontDoor: cpuMs(proxy.pid), relay: cpuMs(relay.pid) };
        run.setPhase('measure');
        await new Promise((r) => setTimeout(r, seconds * 1000));
        run.setPhase('tail');
        const done = run.stats.measure.ok;
        if (side === 'direct') cpuPerRequest.upstream.push(((cpuMs(upstreams.pid) - cpuBefore.upstream) * 1000) / done);
        else if (side === 'proxy')
          cpuPerRequest.frontDoor.push(((cpuMs(proxy.pid) - cpuBefore.frontDoor) * 1000) / done);
        else cpuPerRequest.relay.push(((cpuMs(relay.pid) - cpuBefore.relay) * 1000) / done);
        await run.stop();
        rates[side].push(done / seconds);
      }
    }
    const direct = Math.max(...rates.direct);
    const through = Math.max(...rates.proxy);
    const throughRelay = Math.max(...rates.relay);

    // Steady state, then switches, under the same load.
    log(`switches: ${swaps} under ${clients} keep-alive clients`);
    const run = load(listen, clients);
    await new Promise((r) => setTimeout(r, 300));
    run.setPhase('steady');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    run.setPhase('swaps');
    const admin = new Pool(`http://127.0.0.1:${ports.admin}`, { connections: 1 });
    const swapMs = [];
    const routedMs = [];
    for (let i = 1; i <= swaps; i++) {
      const name = i % 2 === 1 ? 'b' : 'a';
      await (await admin.request({ path: `/arm?app=${name}`, method: 'GET' })).body.text();
      const result = await command(socketPath, 'deploy', route(name));
      swapMs.push(result.swapMs);
      await new Promise((r) => setTimeout(r, 150));
      const seen = JSON.parse(await (await admin.request({ path: `/report?app=${name}`, method: 'GET' })).body.text());
      if (seen.firstRequestAt > 0) routedMs.push(seen.firstRequestAt - seen.lastHealthAt);
    }
    run.setPhase('after');
    await run.stop();
    await admin.close();

    const steady = run.stats.steady;
    const during = run.stats.swaps;
    const result = {
      throughput: {
        directRps: Math.round(direct),
        proxyRps: Math.round(through),
        ratio: round(through / direct, 3),
        // CPU per request does not depend on how busy the machine is, where requests per second do.
        upstreamCpuUsPerRequest: Math.round(Math.min(...cpuPerRequest.upstream)),
        frontDoorCpuUsPerRequest: Math.round(Math.min(...cpuPerRequest.frontDoor)),
        // Relay and a door on unix sockets against the door alone on TCP.
        relayRps: Math.round(throughRelay),
        relayRatio: round(throughRelay / through, 3),
        relayCpuUsPerRequest: Math.round(Math.min(...cpuPerRequest.relay)),
      },
      latency: {
        steadyP99Ms: round(p(steady.latencies, 99)),
        swapsP99Ms: round(p(during.latencies, 99)),
        addedP99Ms: round(p(during.latencies, 99) - p(steady.latencies, 99)),
      },
      swaps: {
        count: swaps,
        requests: during.ok + during.failed,
        failed: during.failed,
        errors: Object.fromEntries(during.errors),
        healthyToRoutedP99Ms: round(p(routedMs, 99)),
        healthyToRoutedMedianMs: round(p(routedMs, 50)),
        gatePassedToSwapP99Ms: round(p(swapMs, 99), 3),
      },
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      const lines = [
        ['throughput, direct', `${result.throughput.directRps} req/s`],
        [
          'throughput, through the front door',
          `${result.throughput.proxyRps} req/s (ratio ${result.throughput.ratio})`,
        ],
        [
          'throughput, relay + door on unix sockets',
          `${result.throughput.relayRps} req/s (ratio to the door alone ${result.throughput.relayRatio}; relay CPU ${result.throughput.relayCpuUsPerRequest} µs/request)`,
        ],
        [
          'CPU per request, upstream / front door',
          `${result.throughput.upstreamCpuUsPerRequest} µs / ${result.throughput.frontDoorCpuUsPerRequest} µs`,
        ],
        ['p99 latency, steady state', `${result.latency.steadyP99Ms} ms`],
        [
          `p99 latency, during ${swaps} switches`,
          `${result.latency.swapsP99Ms} ms (${result.latency.addedP99Ms >= 0 ? '+' : ''}${result.latency.addedP99Ms} ms)`,
        ],
        [
          'failed requests during switches',
          `${result.swaps.failed} of ${result.swaps.requests}${result.swaps.failed ? ` ${JSON.stringify(result.swaps.errors)}` : ''}`,
        ],
        [
          'switch latency, healthy -> routed',
          `p99 ${result.swaps.healthyToRoutedP99Ms} ms, median ${result.swaps.healthyToRoutedMedianMs} ms`,
        ],
        ['  of which gate passed -> pointer swapped', `p99 ${result.swaps.gatePassedToSwapP99Ms} ms`],
      ];
      const width = Math.max(...lines.map(([k]) => k.length));
      for (const [k, v] of lines) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
