import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { Router } from '../src/router.js';
import { claims, hostName, routeConflict } from '../src/router.js';
import { hostMatches } from '../src/tls.js';
import {
  client,
  freePort,
  get,
  startRouter,
  startUpstream,
  testRoute,
  type Harness,
  type Upstream,
} from './helpers.js';

const r = (app: string, over: Record<string, unknown> = {}) => testRoute(app, '127.0.0.1:1', { port: 80, ...over });
const tls = { certFile: '/c', keyFile: '/k', port: 443, redirect: false };

describe('conflicts', () => {
  it('lists the ports a route claims', () => {
    expect(claims(r('web', { hosts: ['a.test'], tls }))).toEqual([
      { port: 80, proto: 'http', hosts: ['a.test'] },
      { port: 443, proto: 'https', hosts: ['a.test'] },
    ]);
    expect(claims(r('db', { kind: 'tcp', port: 5432 }))).toEqual([{ port: 5432, proto: 'tcp', hosts: [] }]);
  });

  it.each([
    ['two default apps on one port', [r('a')], r('b'), 'app a is already the default (no host name) on port 80'],
    [
      'a shared host',
      [r('a', { hosts: ['x.test', 'y.test'] })],
      r('b', { hosts: ['y.test'] }),
      'host y.test on port 80 is already served by app a',
    ],
    ['http on a tcp port', [r('db', { kind: 'tcp', port: 80 })], r('web'), 'port 80 is tcp for app db, not http'],
    [
      'two tcp apps',
      [r('db', { kind: 'tcp', port: 5432 })],
      r('db2', { kind: 'tcp', port: 5432 }),
      'port 5432 is already taken by app db',
    ],
    [
      'https on a plain port',
      [r('a', { port: 8080 })],
      r('b', { port: 8081, hosts: ['b.test'], tls: { ...tls, port: 8080 } }),
      'port 8080 is http for app a, not https',
    ],
  ])('refuses %s', (_what, others, candidate, message) => {
    expect(routeConflict(others, candidate)).toBe(message);
  });

  it.each([
    ['different hosts on one port', [r('a', { hosts: ['a.test'] })], r('b', { hosts: ['b.test'] })],
    ['a default beside named hosts', [r('a', { hosts: ['a.test'] })], r('b')],
    ['the same app again (a redeploy)', [r('a')], r('a')],
    ['different ports', [r('a')], r('b', { port: 81 })],
    ['any free port (0)', [r('a', { port: 0 })], r('b', { port: 0 })],
    ['https beside https by host', [r('a', { hosts: ['a.test'], tls })], r('b', { hosts: ['b.test'], tls })],
  ])('allows %s', (_what, others, candidate) => {
    expect(routeConflict(others, candidate)).toBeNull();
  });

  it('reads the host name of a Host header', () => {
    expect(['a.test', 'A.Test:8080', '[::1]:80', '127.0.0.1:3000', '', undefined].map(hostName)).toEqual([
      'a.test',
      'a.test',
      '[::1]',
      '127.0.0.1',
      '',
      '',
    ]);
  });

  it('matches exact names and one-label wildcards', () => {
    expect(hostMatches(['a.test', '*.b.test'], 'a.test')).toBe('exact');
    expect(hostMatches(['a.test', '*.b.test'], 'x.b.test')).toBe('wildcard');
    expect(hostMatches(['a.test', '*.b.test'], 'b.test')).toBeNull();
    expect(hostMatches(['a.test', '*.b.test'], 'x.y.b.test')).toBeNull();
  });
});

describe('routing by host on a shared port', () => {
  let h: Harness;
  const ups: Upstream[] = [];
  afterEach(async () => {
    await h?.close();
    for (const u of ups.splice(0)) await u.close();
  });

  it('sends each host to its app, others to the default, and refuses a conflicting deploy', async () => {
    h = startRouter();
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const d = await startUpstream('default');
    ups.push(a, b, d);
    const port = await freePort();
    await h.router.deploy(testRoute('app-a', a.address, { port, hosts: ['a.test'] }));
    await h.router.deploy(testRoute('app-b', b.address, { port, hosts: ['*.b.test'] }));
    await h.router.deploy(testRoute('fallback', d.address, { port }));
    const pool = client(port, 2);
    expect((await get(pool, '/', { host: 'a.test' })).text).toBe('a');
    expect((await get(pool, '/', { host: `x.b.test:${port}` })).text).toBe('b');
    expect((await get(pool, '/', { host: 'elsewhere.test' })).text).toBe('default');
    await expect(h.router.deploy(testRoute('intruder', a.address, { port, hosts: ['a.test'] }))).rejects.toThrow(
      `intruder: host a.test on port ${port} is already served by app app-a`,
    );
    expect((await get(pool, '/', { host: 'a.test' })).text).toBe('a');
    // Removing one app leaves the port open for the others.
    await h.router.remove('app-a');
    expect((await get(pool, '/', { host: 'a.test' })).text).toBe('default');
    await pool.close();
  });

  it('reports a port that cannot be listened on, and changes nothing', async () => {
    h = startRouter();
    const a = await startUpstream('a');
    ups.push(a);
    // A port taken by something else on this machine: the upstream's own.
    await expect(h.router.deploy(testRoute('web', a.address, { port: a.port }))).rejects.toThrow(
      new RegExp(`cannot listen on port ${a.port} \\(http\\): listen EADDRINUSE`),
    );
    expect(h.router.status(null)).toEqual({ apps: [], failed: [], pending: [] });
    expect(a.healthChecks).toBe(0);
  });
});

describe('logs', () => {
  it('logs every app event, and one JSON line per request when asked', async () => {
    const logs: string[] = [];
    const access: string[] = [];
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'front-door-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const router = new Router({
      stateFile: join(dir, 'state.json'),
      listenHost: '127.0.0.1',
      log: (l) => logs.push(l),
      accessLog: (l) => access.push(l),
    });
    const a = await startUpstream('a');
    await router.deploy(testRoute('web', a.address));
    const pool = client(router.boundPort(0, 'http', 'web'), 1);
    await get(pool, '/x?y=1', { host: 'a.test' });
    await pool.close();
    await router.pause('web', 0);
    expect(logs.filter((l) => l.startsWith('web: '))).toEqual([
      `web: deployed: ${a.address}`,
      'web: paused: answering 503',
    ]);
    expect(access).toHaveLength(1);
    expect(JSON.parse(access[0]!)).toMatchObject({
      app: 'web',
      client: '127.0.0.1',
      method: 'GET',
      host: 'a.test',
      path: '/x?y=1',
      status: 200,
      completed: true,
    });
    await router.close({ drain: false });
    await a.close();
  });
});
