import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { FrontDoorClient } from '../../src/adapters/front-door/client.js';
import { ensureFrontDoor, waitForDoor } from '../../src/adapters/front-door/door-container.js';
import { proxyBundlePath } from '../../src/adapters/front-door/door-image.js';
import { routeRelease } from '../../src/services/traffic/door-steps.js';
import { DEFAULT_CONFIG } from '../../src/core/config.js';
import type { DoorNames, DoorRoute } from '../../src/core/door.js';
import { DeployError } from '../../src/core/errors.js';
import { upstreamHost } from '../../src/core/front-door.js';
import { parsePort } from '../../src/core/ports.js';
import { fetchText, freePort, testApp } from '../helpers/docker.js';
import { load } from '../helpers/load.js';
import { rejectionOf } from '../helpers/rejection.js';

/**
 * The front door on the real engine: its image built there, its container publishing loopback ports, routes sent
 * through FrontDoorClient (docker exec), busybox httpd releases on its network. Its objects have names of this
 * test's own (never a real door's), removed at the end.
 */

const tag = `t${process.pid}`;
const names: DoorNames = {
  container: `deploy-front-door-${tag}`,
  next: `deploy-front-door-next-${tag}`,
  relay: `deploy-front-door-relay-${tag}`,
  relayNext: `deploy-front-door-relay-next-${tag}`,
  network: `deploy-front-door-${tag}`,
  volume: `deploy-front-door-state-${tag}`,
  imageRepo: `deploy-front-door-test-${tag}`,
};
const BASE = 'node:24-slim';
const app = testApp('door');
const other = testApp('door2');
const shop = testApp('shop');
const releases: string[] = [];

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function quietly(...args: string[]): void {
  try {
    execFileSync('docker', args, { stdio: 'ignore' });
  } catch {
    // gone already
  }
}

/** A busybox httpd release on the door's network, reachable there as upstreamHost({app, id}) on port 8080. */
async function release(
  engine: Engine,
  forApp: string,
  id: string,
  body: string,
  { healthStatus = 200, joined = true } = {},
): Promise<string> {
  const alias = upstreamHost({ app: forApp, id });
  const status = healthStatus === 200 ? '200 OK' : `${healthStatus} Broken`;
  const script = [
    'mkdir -p /www/cgi-bin',
    `echo ${body} > /www/index.html`,
    // busybox httpd passes a CGI's header lines as they are: they must end in CRLF for a strict HTTP client.
    `printf '#!/bin/sh\\nprintf "Status: ${status}\\\\r\\\\nContent-Type: text/plain\\\\r\\\\n\\\\r\\\\nhealth\\\\n"\\n' > /www/cgi-bin/health`,
    'chmod +x /www/cgi-bin/health',
    'exec httpd -f -p 8080 -h /www',
  ].join(' && ');
  const created = await engine.containers.createNamed({
    name: alias,
    Image: 'busybox:1.36',
    Cmd: ['sh', '-c', script],
    Labels: { 'dev.deploy.test': names.container },
    HostConfig: { Init: true, ...(joined ? { NetworkMode: names.network } : {}) },
    ...(joined ? { NetworkingConfig: { EndpointsConfig: { [names.network]: { Aliases: [alias] } } } } : {}),
  });
  expect(created).not.toBeNull();
  releases.push(alias);
  await engine.containers.start(created as string);
  return joined ? `${alias}:8080` : (created as string);
}

function route(forApp: string, target: string, port: number): DoorRoute {
  return {
    app: forApp,
    target,
    port,
    health: { path: '/cgi-bin/health', intervalMs: 100, successes: 2, timeoutMs: 1_000 },
    timing: { deployTimeoutMs: 5_000, bakeMs: 10_000, drainMs: 5_000 },
  };
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

describe('the front door on a real engine', () => {
  let engine: Engine;
  let client: FrontDoorClient;
  let port: number;
  let port2: number;
  let program: Buffer;

  beforeAll(async () => {
    // The bundle the CLI ships (npm run build makes it): built here from proxy/ as it is now.
    execFileSync(process.execPath, ['proxy/build.mjs'], { stdio: 'ignore' });
    program = readFileSync(proxyBundlePath());
    engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
    client = new FrontDoorClient(engine, names.container);
    port = await freePort();
    port2 = await freePort();
  });

  afterAll(() => {
    quietly('rm', '-f', '-v', names.container, names.next, `${names.container}.lock`, ...releases);
    // By id: a name made twice at once would be ambiguous.
    const networks = docker('network', 'ls', '-q', '--filter', `name=^${names.network}$`);
    if (networks) quietly('network', 'rm', ...networks.split('\n'));
    quietly('volume', 'rm', names.volume);
    const images = docker('images', '-q', '--filter', `reference=${names.imageRepo}`);
    if (images) quietly('rmi', '-f', ...new Set(images.split('\n')));
    engine?.close();
  });

  it('builds its image on the engine once and reuses it (one door when two ask at once); runs publishing the port, restarting unless stopped, state in its volume', async () => {
    // Two deploys at once (two apps, two locks) make one door: one at a time takes the door's lock.
    const [a, b] = await Promise.all([
      ensureFrontDoor(engine, { bindings: [{ hostIp: '127.0.0.1', hostPort: port }], base: BASE, names }),
      ensureFrontDoor(engine, { bindings: [{ hostIp: '127.0.0.1', hostPort: port }], base: BASE, names }),
    ]);
    expect(a.containerId).toBe(b.containerId);
    const first = [a, b].find((e) => e.action === 'create')!;
    expect([a, b].filter((e) => e !== first).map((e) => e.action)).toEqual([expect.stringMatching(/^(start|keep)$/)]);
    expect(
      docker(
        'ps',
        '-a',
        '-q',
        '--filter',
        `label=dev.deploy.front-door=container`,
        '--filter',
        `name=${names.container}`,
      ).split('\n'),
    ).toHaveLength(1);
    expect(docker('network', 'ls', '-q', '--filter', `name=^${names.network}$`).split('\n')).toHaveLength(1);
    expect(docker('ps', '-a', '-q', '--filter', `name=^${names.container}.lock$`)).toBe('');
    expect(first).toMatchObject({
      action: 'create',
      why: null,
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      handover: null,
    });
    // One of the two built it (or both, at the same time, to the same tag).
    expect(a.image.built || b.image.built).toBe(true);
    expect(first.image.ref).toMatch(new RegExp(`^${names.imageRepo}:[0-9a-f]{12}$`));
    const second = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
    });
    expect(second).toEqual({ ...first, action: 'keep', image: { ...first.image, built: false } });

    const inspected = JSON.parse(docker('inspect', names.container))[0];
    expect(inspected.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    expect(inspected.HostConfig.PortBindings).toEqual({
      [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }],
    });
    expect(inspected.Mounts.map((m: { Name: string; Destination: string }) => [m.Name, m.Destination])).toEqual([
      [names.volume, '/var/lib/front-door'],
    ]);
    expect(Object.keys(inspected.NetworkSettings.Networks)).toEqual([names.network]);
    expect(
      docker('image', 'inspect', '--format', '{{index .Config.Labels "dev.deploy.front-door.base"}}', first.image.ref),
    ).toBe(BASE);

    const pong = await client.ping();
    expect(pong).toMatchObject({ pong: true, version: expect.any(String) });
    // Nothing routed yet: the port answers, with the door's own page.
    expect(await client.status()).toEqual({ apps: [], failed: [] });
  });

  it('routes an app to a release on its network and serves it on the published loopback port', async () => {
    const one = await release(engine, app, 'one', 'one');
    const result = await client.deploy(route(app, one, port));
    expect(result).toMatchObject({ app, target: one, previous: null });
    expect(result.checks).toBeGreaterThanOrEqual(2);
    expect(await fetchText(port)).toBe('one');
    expect(await client.status(app)).toMatchObject({ app, state: 'serving', active: { address: one } });
  });

  it('switches to a second release under keep-alive load with no failed request; every request after the switch reaches it', async () => {
    const two = await release(engine, app, 'two', 'two');
    const traffic = load(port);
    await until(() => traffic.outcomes.length >= 200, 10_000);
    const result = await client.deploy(route(app, two, port));
    const switchedAt = performance.now();
    await until(() => traffic.outcomes.filter((o) => o.sentAt > switchedAt).length >= 500, 10_000);
    const outcomes = await traffic.stop();

    expect(result).toMatchObject({ app, target: two, previous: upstreamHost({ app, id: 'one' }) + ':8080' });
    const failed = outcomes.filter((o) => o.error !== null);
    expect(failed).toEqual([]);
    const after = outcomes.filter((o) => o.sentAt > switchedAt);
    expect(after.length).toBeGreaterThanOrEqual(500);
    expect(new Set(after.map((o) => o.body))).toEqual(new Set(['two']));
    expect(outcomes.filter((o) => o.body === 'one').length).toBeGreaterThanOrEqual(200);
    process.stderr.write(
      `front door swap under load: ${outcomes.length} requests, 0 failed, swap ${result.swapMs} ms after the gate\n`,
    );
  });

  it('refuses a release that answers 500 on its health path (exit 17, naming the app and why) and keeps serving the one before', async () => {
    const broken = await release(engine, app, 'three', 'three', { healthStatus: 500 });
    const refused = await rejectionOf(client.deploy(route(app, broken, port)));
    expect(refused).toBeInstanceOf(DeployError);
    expect((refused as DeployError).code).toBe('front_door');
    expect((refused as DeployError).exitCode).toBe(17);
    expect((refused as DeployError).message).toMatch(
      new RegExp(
        `^The front door refused the deploy of ${app}: ${app}: ${broken} did not pass its health check: .*500`,
      ),
    );
    expect((refused as DeployError).hint).toBe(
      `Its log says more: deploy proxy logs (docker logs ${names.container}).`,
    );
    expect(await fetchText(port)).toBe('two');
    expect(await client.status(app)).toMatchObject({
      state: 'serving',
      active: { address: upstreamHost({ app, id: 'two' }) + ':8080' },
    });
  });

  it('keeps the route across a restart of its container', async () => {
    const before = await client.ping();
    docker('restart', '-t', '5', names.container);
    await waitForDoor(engine, names.container);
    const after = await client.ping();
    expect(after.pid === before.pid && after.uptimeMs >= before.uptimeMs).toBe(false);
    expect(await fetchText(port)).toBe('two');
    expect(await client.status(app)).toMatchObject({
      app,
      state: 'serving',
      active: { address: upstreamHost({ app, id: 'two' }) + ':8080' },
    });
  });

  it('is replaced to publish one more port: existing routes kept, the gap measured, a new app served on the new port', async () => {
    const oldId = docker('inspect', '--format', '{{.Id}}', names.container);
    const traffic = load(port, { clients: 8, maxMs: 40_000 });
    await until(() => traffic.outcomes.length >= 200, 10_000);
    const replaced = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port2 }],
      base: BASE,
      names,
    });
    const doneAt = performance.now();
    await until(() => traffic.outcomes.filter((o) => o.sentAt > doneAt && o.body === 'two').length >= 200, 10_000);
    const outcomes = await traffic.stop();

    expect(replaced).toMatchObject({
      action: 'replace',
      why: `it does not publish 127.0.0.1:${port2}`,
      bindings: [
        { hostIp: '127.0.0.1', hostPort: Math.min(port, port2) },
        { hostIp: '127.0.0.1', hostPort: Math.max(port, port2) },
      ],
      image: { built: false },
    });
    expect(replaced.containerId).not.toBe(oldId);
    expect(docker('inspect', '--format', '{{.Id}} {{.State.Running}}', names.container)).toBe(
      `${replaced.containerId} true`,
    );
    expect(docker('ps', '-a', '-q', '--filter', `name=^${names.next}$`)).toBe('');
    // The route came back from the state volume: requests after the handover reach the same release.
    const after = outcomes.filter((o) => o.sentAt > doneAt);
    expect(new Set(after.map((o) => o.body))).toEqual(new Set(['two']));
    expect(await client.status(app)).toMatchObject({
      app,
      state: 'serving',
      active: { address: upstreamHost({ app, id: 'two' }) + ':8080' },
    });

    const failed = outcomes.filter((o) => o.error !== null);
    const gapMs =
      failed.length === 0 ? 0 : Math.max(...failed.map((o) => o.doneAt)) - Math.min(...failed.map((o) => o.sentAt));
    const h = replaced.handover!;
    process.stderr.write(
      `front door handover: ${h.totalMs} ms from the old door's stop to the new one's answer (stop ${h.stopMs}, start ${h.startMs}, first answer ${h.answerMs})` +
        `; under 8 keep-alive clients ${failed.length} of ${outcomes.length} requests failed over ${Math.round(gapMs)} ms (${[...new Set(failed.map((o) => o.error))].join(', ')})\n`,
    );
    expect(h.totalMs).toBe(h.stopMs + h.startMs + h.answerMs);
    expect(h.totalMs).toBeLessThan(15_000);

    const web = await release(engine, other, 'one', 'other');
    await client.deploy(route(other, web, port2));
    expect(await fetchText(port2)).toBe('other');
    expect(await fetchText(port)).toBe('two');
  });

  it('is replaced when its image is outdated (a new version of its program), with the same ports and routes', async () => {
    const newer = Buffer.concat([program, Buffer.from('\n// a newer version\n')]);
    const replaced = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
      program: newer,
    });
    expect(replaced).toMatchObject({
      action: 'replace',
      why: 'its image is not the one this version of deploy runs',
      image: { built: true },
    });
    expect(replaced.bindings.map((b) => b.hostPort).sort()).toEqual([port, port2].sort());
    expect(docker('inspect', '--format', '{{.Image}}', names.container)).toBe(replaced.image.id);
    expect(await fetchText(port)).toBe('two');
    expect(await fetchText(port2)).toBe('other');
  });

  it('says when the door cannot be reached: its container not running', async () => {
    docker('stop', '-t', '5', names.container);
    const error = await rejectionOf(client.ping());
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).code).toBe('front_door');
    expect((error as DeployError).message).toBe(
      `The front door cannot be reached for the ping: it is not running (container ${names.container} on unix:///var/run/docker.sock).`,
    );
    // And a stopped door that is up to date is started again, its routes restored.
    const started = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
      program: Buffer.concat([program, Buffer.from('\n// a newer version\n')]),
    });
    expect(started.action).toBe('start');
    expect(await fetchText(port)).toBe('two');
  });

  it('routes a release from its deployment (services/traffic/front-door routeRelease): the door publishes its port, the container joins under its alias', async () => {
    const port3 = await freePort();
    const containerId = await release(engine, shop, 'r1', 'shop', { joined: false });
    const config = {
      ...DEFAULT_CONFIG,
      ports: [parsePort(`127.0.0.1:${port3}:8080`)],
      healthCheck: { ...DEFAULT_CONFIG.healthCheck, path: '/cgi-bin/health', intervalMs: 200, timeoutMs: 10_000 },
    };
    const home = mkdtempSync(join(tmpdir(), 'door-home-'));
    try {
      const { door, routed } = await routeRelease(
        { paths: { store: join(home, 'deploy.db'), configDir: home, cacheDir: home }, env: process.env },
        engine,
        { app: shop, id: 'r1', config, containerId },
        names,
      );
      // The door ran the newer program of the test before: this version's image takes over, with the new port.
      expect(door.action).toBe('replace');
      expect(door.bindings.map((b) => b.hostPort).sort()).toEqual([port, port2, port3].sort());
      expect(routed).toMatchObject({ app: shop, target: `${shop}-r1:8080`, previous: null });
      expect(await fetchText(port3)).toBe('shop');
      expect(await fetchText(port)).toBe('two');
      // Sent again (every deploy re-sends its route): the container is on the network already, the door keeps serving it.
      const again = await routeRelease(
        { paths: { store: '', configDir: home, cacheDir: home }, env: process.env },
        engine,
        { app: shop, id: 'r1', config, containerId },
        names,
      );
      expect(again.door.action).toBe('keep');
      expect(again.routed).toMatchObject({ app: shop, target: `${shop}-r1:8080` });
      expect(await fetchText(port3)).toBe('shop');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
