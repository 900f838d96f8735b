import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendCommand } from '../src/client.js';
import { answer, listenControl } from '../src/control.js';
import { DEFAULT_TIMING, parseCommand } from '../src/options.js';
import { DEFAULT_HEALTH } from '../src/health.js';
import { client, freePort, get, startRouter, startUpstream, type Harness, type Upstream } from './helpers.js';

const info = { version: 'test', startedAt: Date.now() };

describe('command validation', () => {
  it('fills in defaults for a minimal deploy', () => {
    expect(parseCommand({ verb: 'deploy', options: { app: 'web', target: 'web-v2:8080' } })).toEqual({
      verb: 'deploy',
      waitDrain: false,
      route: {
        app: 'web',
        kind: 'http',
        hosts: [],
        port: 80,
        tls: null,
        target: 'web-v2:8080',
        health: DEFAULT_HEALTH,
        timing: DEFAULT_TIMING,
        trustForwarded: false,
        paused: null,
      },
    });
  });

  it('reads every option of a full deploy', () => {
    // The options the route keeps as they are given.
    const kept = {
      app: 'shop',
      target: '[::1]:3000',
      hosts: ['shop.example.com', '*.shop.example.com'],
      port: 8080,
      tls: { certFile: '/certs/shop.pem', keyFile: '/certs/shop.key', port: 8443, redirect: true },
      timing: { drainMs: 1, streamDrainMs: 2, bakeMs: 3, deployTimeoutMs: 4, responseTimeoutMs: 5 },
      trustForwarded: true,
    };
    const health = { path: '/healthz', successes: 3, failures: 4, intervalMs: 250, timeoutMs: 900 };
    const command = parseCommand({ verb: 'deploy', options: { ...kept, health, waitDrain: true } });
    expect(command).toEqual({
      verb: 'deploy',
      waitDrain: true,
      route: { ...kept, kind: 'http', health: { type: 'http', ...health }, paused: null },
    });
  });

  it('gives a tcp route a tcp health check', () => {
    const command = parseCommand({
      verb: 'deploy',
      options: { app: 'db', kind: 'tcp', port: 5432, target: 'db:5432' },
    });
    expect(command.verb === 'deploy' && command.route.health.type).toBe('tcp');
  });

  it('reads the other verbs', () => {
    expect(parseCommand({ verb: 'rollback', options: { app: 'web' } })).toEqual({ verb: 'rollback', app: 'web' });
    expect(parseCommand({ verb: 'pause', options: { app: 'web', holdMs: 5000 } })).toEqual({
      verb: 'pause',
      app: 'web',
      holdMs: 5000,
    });
    expect(parseCommand({ verb: 'pause', options: { app: 'web' } })).toEqual({ verb: 'pause', app: 'web', holdMs: 0 });
    expect(parseCommand({ verb: 'resume', options: { app: 'web' } })).toEqual({ verb: 'resume', app: 'web' });
    expect(parseCommand({ verb: 'remove', options: { app: 'web' } })).toEqual({ verb: 'remove', app: 'web' });
    expect(parseCommand({ verb: 'status' })).toEqual({ verb: 'status', app: null });
    expect(parseCommand({ verb: 'status', options: { app: 'web' } })).toEqual({ verb: 'status', app: 'web' });
    expect(parseCommand({ verb: 'ping' })).toEqual({ verb: 'ping' });
  });

  it.each([
    [{ verb: 'launch' }, 'unknown verb "launch" (known: deploy, rollback, pause, resume, remove, status, ping)'],
    [{ verb: 'deploy', options: { app: 'web' } }, 'deploy: "target" must be a non-empty string (got undefined)'],
    [{ verb: 'deploy', options: { app: 'web', target: 'x' } }, 'deploy: "target" must be HOST:PORT (got "x")'],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:70000' } },
      'deploy: "target"\'s port must be an integer from 1 to 65535 (got 70000)',
    ],
    [
      { verb: 'deploy', options: { app: '../etc', target: 'x:1' } },
      'deploy: "app" must be letters, digits, ".", "_" or "-", starting with a letter or digit (got "../etc")',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', port: '80' } },
      'deploy: "port" must be an integer from 0 to 65535 (got "80")',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', colour: 'red' } },
      'deploy: unknown option "colour" (known: app, target, kind, hosts, port, tls, health, timing, trustForwarded, expect, waitDrain)',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', hosts: ['Bad_Host'] } },
      'deploy: hosts[0] must be a lower-case host name (a leading "*." for one label) (got "Bad_Host")',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', hosts: ['a.b', 'a.b'] } },
      'deploy: "hosts" lists a name twice',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', health: { path: 'up' } } },
      'deploy: health.path must start with "/" and have no spaces (got "up")',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', health: { successes: 0 } } },
      'deploy: health.successes must be an integer from 1 to 100 (got 0)',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', timing: { drainMs: -1 } } },
      'deploy: timing.drainMs must be an integer from 0 to 86400000 (got -1)',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', tls: { certFile: 'c.pem', keyFile: '/k' } } },
      'deploy: tls.certFile must be an absolute path (got "c.pem")',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', port: 443, tls: { certFile: '/c', keyFile: '/k' } } },
      'deploy: tls.port and port are both 443',
    ],
    [{ verb: 'deploy', options: { app: 'db', kind: 'tcp', target: 'x:1' } }, 'deploy: a tcp route needs "port"'],
    [
      { verb: 'deploy', options: { app: 'db', kind: 'tcp', port: 5432, target: 'x:1', hosts: ['a.b'] } },
      'deploy: a tcp route has no "hosts" or "tls"',
    ],
    [
      { verb: 'deploy', options: { app: 'web', target: 'x:1', waitDrain: 'yes' } },
      'deploy: "waitDrain" must be true or false (got "yes")',
    ],
    [
      { verb: 'pause', options: { app: 'web', holdMs: 1.5 } },
      'pause: "holdMs" must be an integer from 0 to 3600000 (got 1.5)',
    ],
    [{ verb: 'rollback', options: {} }, 'rollback: "app" must be a non-empty string (got undefined)'],
    [{ verb: 'ping', options: { x: 1 } }, 'ping: unknown option "x" (known: )'],
    [{ verb: 'status', extra: 1 }, 'request: unknown option "extra" (known: verb, options)'],
    [[1], 'request must be an object'],
  ])('refuses %j', (request, message) => {
    expect(() => parseCommand(request)).toThrow(message);
  });

  it('answers {ok:false} for what is not JSON, and for an unknown app', async () => {
    const h = startRouter();
    expect(await answer(h.router, 'deploy web', info)).toEqual({
      ok: false,
      error: 'the request is not JSON: send {"verb": ..., "options": {...}} on one line',
    });
    expect(await answer(h.router, '{"verb":"rollback","options":{"app":"ghost"}}', info)).toEqual({
      ok: false,
      error: 'no app named ghost',
    });
    expect(await answer(h.router, '{"verb":"status"}', info)).toEqual({
      ok: true,
      result: { apps: [], failed: [], pending: [] },
    });
    await h.close();
  });
});

describe('the control socket', () => {
  let h: Harness;
  let v1: Upstream;
  afterEach(async () => {
    await h?.close();
    await v1?.close();
  });

  it('takes newline-delimited requests on one connection and answers each in order', async () => {
    h = startRouter();
    v1 = await startUpstream('v1');
    const socketPath = join(h.dir, 'control.sock');
    const server = await listenControl(socketPath, h.router, info);
    const deployed = await sendCommand(socketPath, 'deploy', {
      app: 'web',
      target: v1.address,
      port: 0,
      health: { intervalMs: 50 },
      timing: { bakeMs: 0 },
    });
    expect(deployed).toMatchObject({ ok: true, result: { app: 'web', target: v1.address, previous: null, checks: 2 } });
    expect(await sendCommand(socketPath, 'ping', {})).toMatchObject({
      ok: true,
      result: { pong: true, version: 'test' },
    });
    expect(await sendCommand(socketPath, 'pause', { app: 'web', holdMs: -5 })).toEqual({
      ok: false,
      error: 'pause: "holdMs" must be an integer from 0 to 3600000 (got -5)',
    });
    server.close();
    expect(await sendCommand(join(h.dir, 'nothing.sock'), 'ping', {})).toEqual({
      ok: false,
      error: `cannot reach the front door's control socket ${join(h.dir, 'nothing.sock')}: ENOENT`,
    });
  });
});

describe('client mode, end to end (the built bundle)', () => {
  const dist = join(import.meta.dirname, '..', 'dist', 'proxy.js');
  const run = promisify(execFile);
  let dir: string;
  let server: ChildProcess;
  let v1: Upstream;
  let v2: Upstream;
  let env: NodeJS.ProcessEnv;
  let port: number;

  beforeAll(async () => {
    // Build exactly as build.mjs does; the test then runs the one-file bundle with this Node.
    await run(process.execPath, [join(import.meta.dirname, '..', 'build.mjs')]);
    dir = mkdtempSync(join(tmpdir(), 'front-door-e2e-'));
    v1 = await startUpstream('v1');
    v2 = await startUpstream('v2');
    port = await freePort();
    env = {
      ...process.env,
      FRONT_DOOR_SOCKET: join(dir, 'control.sock'),
      FRONT_DOOR_STATE: join(dir, 'state', 'state.json'),
      FRONT_DOOR_LISTEN: '127.0.0.1',
    };
  });

  afterAll(async () => {
    server?.kill('SIGKILL');
    await v1?.close();
    await v2?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const startServer = async (): Promise<void> => {
    server = spawn(process.execPath, [dist, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const end = Date.now() + 10_000;
    while (!stderr.includes('control socket')) {
      if (Date.now() > end || server.exitCode !== null) throw new Error(`front door did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const cli = async (
    ...args: string[]
  ): Promise<{ code: number; answer: { ok: boolean; result?: Record<string, unknown>; error?: string } }> => {
    try {
      const { stdout } = await run(process.execPath, [dist, ...args], { env });
      return { code: 0, answer: JSON.parse(stdout) };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, answer: JSON.parse(e.stdout) };
    }
  };

  it('deploys, switches, reports, survives a restart and refuses bad input with exit 1', async () => {
    await startServer();
    expect(await cli('ping')).toMatchObject({ code: 0, answer: { ok: true, result: { pong: true } } });
    const opts = (target: string): string =>
      JSON.stringify({ app: 'web', target, port, health: { intervalMs: 50 }, timing: { bakeMs: 10_000 } });
    expect(await cli('deploy', opts(v1.address))).toMatchObject({
      code: 0,
      answer: { ok: true, result: { target: v1.address } },
    });
    const pool = client(port, 2);
    expect((await get(pool)).text).toBe('v1');
    expect(await cli('deploy', opts(v2.address))).toMatchObject({
      code: 0,
      answer: { ok: true, result: { previous: v1.address } },
    });
    expect((await get(pool)).text).toBe('v2');
    const status = await cli('status', '{"app":"web"}');
    expect(status.code).toBe(0);
    expect(status.answer.result).toMatchObject({
      app: 'web',
      state: 'serving',
      active: { address: v2.address },
      previous: { address: v1.address },
    });
    expect(await cli('deploy', '{"app":"web"}')).toEqual({
      code: 1,
      answer: { ok: false, error: 'deploy: "target" must be a non-empty string (got undefined)' },
    });
    expect(await cli('deploy', '{not json')).toEqual({
      code: 1,
      answer: { ok: false, error: 'the options are not JSON: {not json' },
    });

    // A restart (SIGTERM, then serve again) keeps the route.
    await pool.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    expect(server.exitCode).toBe(0);
    expect(await cli('ping')).toMatchObject({ code: 1, answer: { ok: false } });
    await startServer();
    const again = client(port, 1);
    expect((await get(again)).text).toBe('v2');
    await again.close();
  });
});
