import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkOnce, DEFAULT_HEALTH, type HealthOptions } from '../src/health.js';
import { dnsResolver, Release } from '../src/release.js';
import { deadPort, until } from './helpers.js';

/** A server whose health path answers the statuses of `script` in turn (the last one for ever after). */
async function scripted(
  script: number[],
  delayMs = 0,
): Promise<{ address: string; checks: number[]; close: () => void }> {
  const checks: number[] = [];
  const server = http.createServer((req, res) => {
    const status = script[Math.min(checks.length, script.length - 1)]!;
    checks.push(Date.now());
    setTimeout(() => {
      res.writeHead(status);
      res.end();
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    checks,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const fast: HealthOptions = { ...DEFAULT_HEALTH, path: '/up', intervalMs: 50, timeoutMs: 500 };
const servers: { close: () => void }[] = [];
const releases: Release[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const r of releases.splice(0)) await r.close();
});

/** A release of one address (a container's), checked with `health`. */
function release(address: string, health: HealthOptions): Release {
  const r = new Release(address, {
    health,
    expect: null,
    target: { responseTimeoutMs: 1_000, connectTimeoutMs: 1_000 },
    drainMs: 100,
    streamDrainMs: 100,
    resolve: dnsResolver,
  });
  releases.push(r);
  return r;
}

describe('one check', () => {
  it('passes on 2xx only, and says why not', async () => {
    const ok = await scripted([204]);
    const redirect = await scripted([302]);
    servers.push(ok, redirect);
    expect(await checkOnce(ok.address, fast)).toEqual({ ok: true, detail: 'HTTP 204' });
    expect(await checkOnce(redirect.address, fast)).toEqual({ ok: false, detail: 'GET /up answered 302' });
    expect(await checkOnce(`127.0.0.1:${await deadPort()}`, fast)).toEqual({
      ok: false,
      detail: 'GET /up failed: ECONNREFUSED',
    });
  });

  it('times out', async () => {
    const slow = await scripted([200], 2_000);
    servers.push(slow);
    expect(await checkOnce(slow.address, { ...fast, timeoutMs: 100 })).toEqual({
      ok: false,
      detail: 'GET /up failed: timed out',
    });
  });

  it('over TCP, needs only a connection', async () => {
    const server = await scripted([500]);
    servers.push(server);
    expect(await checkOnce(server.address, { ...fast, type: 'tcp' })).toEqual({ ok: true, detail: 'TCP connected' });
    expect(await checkOnce(`127.0.0.1:${await deadPort()}`, { ...fast, type: 'tcp' })).toEqual({
      ok: false,
      detail: 'TCP connect failed: ECONNREFUSED',
    });
  });
});

describe('the gate', () => {
  it('waits for the configured run of passing checks, a failure starting it over', async () => {
    const server = await scripted([503, 503, 200, 500, 200, 200, 200]);
    servers.push(server);
    const result = await release(server.address, { ...fast, intervalMs: 400, successes: 2 }).gate(10_000);
    expect(result).toEqual({ ok: true, detail: 'HTTP 200', checks: 6 });
    // After a failure the next check waits the interval; after a pass the confirming one follows in ~100 ms. (Times
    // are when the requests arrived, so each gap is off by the jitter of two connects: bounds leave room for it.)
    expect(server.checks[1]! - server.checks[0]!).toBeGreaterThanOrEqual(300);
    expect(server.checks[5]! - server.checks[4]!).toBeLessThan(300);
  });

  it('gives up at the deadline with the last reason', async () => {
    const server = await scripted([500]);
    servers.push(server);
    const started = Date.now();
    const result = await release(server.address, fast).gate(300);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe('not healthy within 300 ms: GET /up answered 500');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('the bake watch', () => {
  it('reports once after the configured run of failures, not after one', async () => {
    const server = await scripted([200, 500, 200, 500, 500, 500]);
    servers.push(server);
    const reports: string[] = [];
    const watched = release(server.address, { ...fast, failures: 2 });
    watched.watch((detail) => reports.push(detail));
    await until(() => reports.length > 0, 3_000);
    watched.stopWatch();
    // Checks: 200, 500, 200 (the run starts over), 500, 500 -> report.
    expect(server.checks).toHaveLength(5);
    expect(reports).toEqual(['2 checks failed in a row: GET /up answered 500']);
  });
});
