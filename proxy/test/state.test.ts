import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Router } from '../src/router.js';
import {
  client,
  get,
  startRouter,
  testRoute,
  sleep,
  until,
  upstreamsPerTest,
  type Harness,
  type Upstream,
} from './helpers.js';

const harnesses: Harness[] = [];
const up = upstreamsPerTest();
afterEach(async () => {
  for (const h of harnesses.splice(0).reverse()) await h.close();
});
const harness = (dir?: string): Harness => {
  const h = startRouter(dir);
  harnesses.push(h);
  return h;
};

/** A front door (its state file in a new directory) serving app-a from upstream "a". */
async function servingAppA(): Promise<{ h: Harness; a: Upstream }> {
  const h = harness();
  const a = await up('a');
  await h.router.deploy(testRoute('app-a', a.address));
  return { h, a };
}

describe('the state file', () => {
  it('is written atomically after every change, with no temporary file left', async () => {
    const h = harness();
    const v1 = await up('v1');
    await h.router.deploy(testRoute('web', v1.address));
    const state = JSON.parse(readFileSync(h.stateFile, 'utf8'));
    expect(state.version).toBe(1);
    expect(state.apps).toEqual([{ ...testRoute('web', v1.address), paused: null }]);
    expect(readdirSync(h.dir)).toEqual(['state.json']);
  });

  it('restores every app after a restart, served at once', async () => {
    const { h: first } = await servingAppA();
    const b = await up('b');
    await first.router.deploy(testRoute('app-b', b.address, { health: { path: '/' } }));
    await first.router.close({ drain: false });

    const second = new Router({ stateFile: first.stateFile, listenHost: '127.0.0.1', log: () => {} });
    expect(await second.restore()).toEqual({ restored: ['app-a', 'app-b'], failed: [] });
    const portA = second.boundPort(0, 'http', 'app-a');
    const portB = second.boundPort(0, 'http', 'app-b');
    const poolA = client(portA, 1);
    const poolB = client(portB, 1);
    expect((await get(poolA)).text).toBe('a');
    expect((await get(poolB)).text).toBe('b');
    expect(second.services.get('app-b')!.route.health.path).toBe('/');
    await poolA.close();
    await poolB.close();
    await second.close({ drain: false });
  });

  it('keeps a bad route out (listed with its reason) and serves the others', async () => {
    const { h: first, a } = await servingAppA();
    await first.router.close({ drain: false });
    const state = JSON.parse(readFileSync(first.stateFile, 'utf8'));
    state.apps.unshift({ ...state.apps[0], app: 'broken', target: 'not an address' });
    state.apps.push({
      ...state.apps[1],
      app: 'no-cert',
      tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem', port: 0, redirect: false },
    });
    state.apps.push(42);
    writeFileSync(first.stateFile, JSON.stringify(state));

    const second = new Router({ stateFile: first.stateFile, listenHost: '127.0.0.1', log: () => {} });
    expect(await second.restore()).toEqual({ restored: ['app-a'], failed: ['broken', 'no-cert', '#3'] });
    const pool = client(second.boundPort(0, 'http', 'app-a'), 1);
    expect((await get(pool)).text).toBe('a');
    const status = second.status(null) as { apps: { app: string }[]; failed: { app: string; error: string }[] };
    expect(status.apps.map((s) => s.app)).toEqual(['app-a']);
    expect(status.failed).toEqual([
      {
        app: 'broken',
        state: 'failed',
        error: 'state file, app broken: "target" must be HOST:PORT (got "not an address")',
      },
      {
        app: 'no-cert',
        state: 'failed',
        error: expect.stringMatching(/^cannot read certificate \/nonexistent\/cert\.pem: ENOENT/),
      },
      { app: '#3', state: 'failed', error: 'state file, app #3 must be an object' },
    ]);
    // The kept-out routes stay in the file, so fixing the certificate and restarting brings them back.
    await second.save();
    expect(JSON.parse(readFileSync(first.stateFile, 'utf8')).apps.map((x: { app?: string }) => x?.app ?? x)).toEqual([
      'app-a',
      'broken',
      'no-cert',
      42,
    ]);
    // A deploy of a kept-out app replaces its entry.
    const fixed = await second.deploy(testRoute('broken', a.address));
    expect(fixed.target).toBe(a.address);
    expect((second.status(null) as { failed: unknown[] }).failed).toHaveLength(2);
    await pool.close();
    await second.close({ drain: false });
  });

  it('moves an unreadable file aside and starts empty', async () => {
    const h = harness();
    writeFileSync(h.stateFile, '{"version": 1, "apps": [');
    expect(await h.router.restore()).toEqual({ restored: [], failed: [] });
    expect(existsSync(h.stateFile)).toBe(false);
    expect(readdirSync(h.dir).filter((f) => f.startsWith('state.json.unreadable-'))).toHaveLength(1);
    expect(h.logs.join('\n')).toMatch(/state file unreadable \(.*JSON.*\); moved to .*state\.json\.unreadable-\d+/);
  });

  it('keeps serving when the state file cannot be written, and says so in status', async () => {
    const h = harness();
    const a = await up('a');
    const router = new Router({
      stateFile: `${h.stateFile}/inside-a-missing-dir/../state.json`,
      listenHost: '127.0.0.1',
      log: (l) => h.logs.push(l),
    });
    // A file where a directory must be: every write fails.
    writeFileSync(h.stateFile, 'not a directory');
    await router.deploy(testRoute('app-a', a.address));
    const pool = client(router.boundPort(0, 'http', 'app-a'), 1);
    expect((await get(pool)).text).toBe('a');
    expect((router.status(null) as { saveError?: string }).saveError).toMatch(/^cannot write .*state\.json: ENOTDIR/);
    await pool.close();
    await router.close({ drain: false });
  });

  it('forgets a removed app', async () => {
    const { h } = await servingAppA();
    const port = h.port('app-a');
    expect(await h.router.remove('app-a')).toEqual({ app: 'app-a', removed: true });
    expect(JSON.parse(readFileSync(h.stateFile, 'utf8')).apps).toEqual([]);
    await expect(h.router.remove('app-a')).rejects.toThrow('no app named app-a');
    // Its listener is closed.
    const pool = client(port, 1);
    await expect(get(pool)).rejects.toThrow(/ECONNREFUSED/);
    await pool.close();
  });
});

describe('stopping the front door', () => {
  it('serves a request that comes on a connection still open while it stops (never a 404), and tells it to close', async () => {
    const h = startRouter();
    const v1 = await up('v1');
    await h.router.deploy(testRoute('web', v1.address));
    const socket = connect(h.port('web'), '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    // Two requests on one connection: the first still running when the stop begins, the second sent after it began.
    socket.write('GET /slow?ms=400 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => v1.seen.length === 1);
    const closed = h.router.close();
    await sleep(50);
    socket.write('GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    await ended;
    rmSync(h.dir, { recursive: true, force: true });
    const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);
    expect(statuses, text).toEqual(['200', '200']);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(v1.seen.map((s) => s.url)).toEqual(['/slow?ms=400', '/b']);
  });
});
