// Real loopback servers for the front door's tests: Node HTTP upstreams with a health path, slow answers, SSE,
// a body echo and an upgrade echo; a keep-alive client; the router under test with a temporary state file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterEach } from 'vitest';
import { parseRoute } from '../src/options.js';
import type { Resolver } from '../src/release.js';
import { Router } from '../src/router.js';
import type { AppRoute } from '../src/service.js';

export interface Upstream {
  name: string;
  address: string;
  port: number;
  /** Status the health path answers. */
  health: number;
  /** Requests seen, health checks excluded. */
  seen: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  healthChecks: number;
  /** Cut everything at once (a crash). */
  close(): Promise<void>;
  /** Stop as a process given SIGTERM does: no new connection, requests in flight answered, idle ones closed. */
  stop(): Promise<void>;
}

export async function startUpstream(
  name: string,
  { health = 200, host = '127.0.0.1', port = 0 }: { health?: number; host?: string; port?: number } = {},
): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const up: Upstream = {
    name,
    address: '',
    port: 0,
    health,
    seen: [],
    healthChecks: 0,
    close: async () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/up') {
      up.healthChecks++;
      res.writeHead(up.health, { 'content-type': 'text/plain' });
      res.end(`${name} health ${up.health}`);
      return;
    }
    up.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (url.pathname === '/slow') {
      const ms = Number(url.searchParams.get('ms') ?? 500);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`${name} slow`);
      }, ms);
      return;
    }
    if (url.pathname === '/sse') {
      const n = Number(url.searchParams.get('n') ?? 5);
      const every = Number(url.searchParams.get('every') ?? 100);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const timer = setInterval(() => {
        res.write(`data: ${name} ${i}\n\n`);
        if (++i === n) {
          clearInterval(timer);
          res.end();
        }
      }, every);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (url.pathname === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': name });
        res.end(Buffer.concat(chunks));
      });
      return;
    }
    if (url.pathname === '/reset') {
      req.socket.destroy();
      return;
    }
    if (url.pathname === '/headers') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['a=1', 'b=2'],
        'keep-alive': 'timeout=5',
        'x-drop-me': 'yes',
        connection: 'x-drop-me',
      });
      res.end(JSON.stringify(req.headers));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
    res.end(name);
  });
  // An upgrade echo: accepts `Upgrade: echo`, then sends back every byte it gets, prefixed by its name once.
  server.on('upgrade', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    up.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.url === '/denied') {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nwww-authenticate: Bearer\r\ncontent-length: 12\r\n\r\nlog in first',
      );
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: Upgrade\r\n\r\n');
    socket.write(`${name}:`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  up.port = (server.address() as net.AddressInfo).port;
  up.address = `${host}:${up.port}`;
  return up;
}

/**
 * For a test file: `up(name, health)` starts an upstream that is closed after each test. Call it before the file
 * registers its own afterEach (that closes the front door): after-hooks run last-registered first, so the front door
 * goes before its upstreams.
 */
export function upstreamsPerTest(): (name: string, health?: number) => Promise<Upstream> {
  const started: Upstream[] = [];
  afterEach(async () => {
    for (const u of started.splice(0)) await u.close();
  });
  return async (name, health = 200) => {
    const u = await startUpstream(name, { health });
    started.push(u);
    return u;
  };
}

/** A port nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const freePort = deadPort;

/** Fast timings for tests; `overrides` merged in (nested objects too). */
export function testRoute(app: string, target: string, overrides: Record<string, unknown> = {}): AppRoute {
  const { health, timing, ...rest } = overrides as { health?: object; timing?: object };
  return parseRoute(
    {
      app,
      target,
      port: 0,
      health: { intervalMs: 50, timeoutMs: 1_000, successes: 2, failures: 2, ...health },
      timing: {
        drainMs: 2_000,
        streamDrainMs: 5_000,
        bakeMs: 0,
        deployTimeoutMs: 3_000,
        responseTimeoutMs: 5_000,
        ...timing,
      },
      ...rest,
    },
    'test',
  );
}

export interface Harness {
  router: Router;
  dir: string;
  stateFile: string;
  logs: string[];
  /** The port an app's plain HTTP (or TCP) listener is bound to. */
  port(app: string, proto?: 'http' | 'https' | 'tcp'): number;
  close(): Promise<void>;
}

export function startRouter(dir = mkdtempSync(join(tmpdir(), 'front-door-')), resolve?: Resolver): Harness {
  const logs: string[] = [];
  const stateFile = join(dir, 'state.json');
  const router = new Router({
    stateFile,
    listenHost: '127.0.0.1',
    log: (line) => logs.push(line),
    ...(resolve ? { resolve } : {}),
  });
  return {
    router,
    dir,
    stateFile,
    logs,
    port: (app, proto = 'http') => {
      const service = router.services.get(app);
      if (!service) throw new Error(`no app ${app}`);
      const asked = proto === 'https' ? service.route.tls!.port : service.route.port;
      return router.boundPort(asked, proto, app);
    },
    close: async () => {
      await router.close({ drain: false });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A keep-alive client pool to the front door's port. */
export function client(port: number, connections = 16): Pool {
  return new Pool(`http://127.0.0.1:${port}`, { connections, keepAliveTimeout: 10_000 });
}

/** Routes app "web" to `upstream` (its route given `options`) and opens a pool of `connections` to the web port. */
export async function serveWeb(
  harness: Harness,
  upstream: Upstream,
  options: Record<string, unknown> = {},
  connections = 1,
): Promise<Pool> {
  await harness.router.deploy(testRoute('web', upstream.address, options));
  return client(harness.port('web'), connections);
}

export async function get(
  pool: Pool,
  path = '/',
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const answer = await pool.request({ path, method: 'GET', headers });
  return { status: answer.statusCode, text: await answer.body.text(), headers: answer.headers };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `check` is true, polling every 20 ms, at most `ms`. */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}

/** A self-signed certificate for `name` (EC P-256, 2 days) in `dir`: its PEM files. */
export function makeCert(dir: string, name: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}
