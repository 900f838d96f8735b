import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { FrontDoorClient } from '../../src/adapters/front-door/client.js';
import { ensureFrontDoor, releaseUnusedPorts, waitForDoor } from '../../src/adapters/front-door/door-container.js';
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
 * The front door on the real engine: its image built there, its relay on the host's network listening on loopback
 * ports (or, as on Docker Desktop, its container publishing them), routes sent through FrontDoorClient (docker
 * exec), busybox httpd releases on its network. Its objects have names of this test's own (never a real door's),
 * removed at the end.
 */

function doorNames(tag: string): DoorNames {
  return {
    container: `deploy-front-door-${tag}`,
    next: `deploy-front-door-next-${tag}`,
    relay: `deploy-front-door-relay-${tag}`,
    relayNext: `deploy-front-door-relay-next-${tag}`,
    network: `deploy-front-door-${tag}`,
    volume: `deploy-front-door-state-${tag}`,
    imageRepo: `deploy-front-door-test-${tag}`,
  };
}
let names = doorNames(`t${process.pid}`);
const BASE = 'node:24-slim';
const app = testApp('door');
const other = testApp('door2');
const shop = testApp('shop');
const releases: string[] = [];
const PUBLISH = { DEPLOY_FRONT_DOOR_PUBLISH: '1' };

function removeDoor(n: DoorNames): void {
  quietly('rm', '-f', '-v', n.container, n.next, n.relay, n.relayNext, `${n.container}.lock`);
  // By id: a name made twice at once would be ambiguous.
  const networks = docker('network', 'ls', '-q', '--filter', `name=^${n.network}$`);
  if (networks) quietly('network', 'rm', ...networks.split('\n'));
  quietly('volume', 'rm', n.volume);
  const images = docker('images', '-q', '--filter', `reference=${n.imageRepo}`);
  if (images) quietly('rmi', '-f', ...new Set(images.split('\n')));
}

/** A describe's engine, its door client (by this describe's names) and two free ports. */
async function onTheEngine(): Promise<{ engine: Engine; client: FrontDoorClient; port: number; port2: number }> {
  const engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
  return {
    engine,
    client: new FrontDoorClient(engine, names.container),
    port: await freePort(),
    port2: await freePort(),
  };
}

/** What a describe made goes: its releases, its door and relay, their network, volume and images. */
function offTheEngine(engine: Engine | undefined): void {
  quietly('rm', '-f', ...releases);
  removeDoor(names);
  engine?.close();
}

function idOf(name: string): string {
  return docker('inspect', '--format', '{{.Id}}', name);
}

function failures(outcomes: Array<{ error: string | null }>): string[] {
  return outcomes.filter((o) => o.error !== null).map((o) => o.error as string);
}

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

describe('the front door behind its relay on a real engine', () => {
  let engine: Engine;
  let client: FrontDoorClient;
  let port: number;
  let port2: number;
  let program: Buffer;

  beforeAll(async () => {
    // The bundle the CLI ships (npm run build makes it): built here from proxy/ as it is now.
    execFileSync(process.execPath, ['proxy/build.mjs'], { stdio: 'ignore' });
    program = readFileSync(proxyBundlePath());
    ({ engine, client, port, port2 } = await onTheEngine());
  });

  afterAll(() => offTheEngine(engine));

  it('builds its image on the engine once and reuses it (one door and one relay when two ask at once); the relay listens on the host network, the door publishes nothing, state in their volume', async () => {
    // Two deploys at once (two apps, two locks) make one door: one at a time takes the door's lock.
    const [a, b] = await Promise.all([
      ensureFrontDoor(engine, { bindings: [{ hostIp: '127.0.0.1', hostPort: port }], base: BASE, names }),
      ensureFrontDoor(engine, { bindings: [{ hostIp: '127.0.0.1', hostPort: port }], base: BASE, names }),
    ]);
    expect(a.containerId).toBe(b.containerId);
    const first = [a, b].find((e) => e.action === 'create')!;
    expect([a, b].filter((e) => e !== first).map((e) => e.action)).toEqual([expect.stringMatching(/^(start|keep)$/)]);
    for (const [part, name] of [
      ['container', names.container],
      ['relay', names.relay],
    ])
      expect(
        docker('ps', '-a', '-q', '--filter', `label=dev.deploy.front-door=${part}`, '--filter', `name=^${name}$`).split(
          '\n',
        ),
      ).toHaveLength(1);
    expect(docker('ps', '-a', '-q', '--filter', `name=^${names.relay}$`).split('\n')).toHaveLength(1);
    expect(docker('network', 'ls', '-q', '--filter', `name=^${names.network}$`).split('\n')).toHaveLength(1);
    expect(docker('ps', '-a', '-q', '--filter', `name=^${names.container}.lock$`)).toBe('');
    expect(first).toMatchObject({
      mode: 'relay',
      action: 'create',
      why: null,
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      handover: null,
    });
    expect(a.image.built || b.image.built).toBe(true);
    expect(first.image.ref).toMatch(new RegExp(`^${names.imageRepo}:[0-9a-f]{12}$`));
    const second = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
    });
    expect(second).toEqual({ ...first, action: 'keep', image: { ...first.image, built: false } });

    const door = JSON.parse(docker('inspect', names.container))[0];
    expect(door.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    expect(door.HostConfig.PortBindings ?? {}).toEqual({});
    expect(door.Config.Labels['dev.deploy.front-door.generation']).toBe('1');
    expect(Object.keys(door.NetworkSettings.Networks)).toEqual([names.network]);
    const relay = JSON.parse(docker('inspect', names.relay))[0];
    expect(relay.HostConfig.NetworkMode).toBe('host');
    expect(relay.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    for (const c of [door, relay])
      expect(c.Mounts.map((m: { Name: string; Destination: string }) => [m.Name, m.Destination])).toEqual([
        [names.volume, '/var/lib/front-door'],
      ]);
    expect(await new FrontDoorClient(engine, names.relay).relayState()).toMatchObject({
      generation: 1,
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
    });
    expect(
      docker('image', 'inspect', '--format', '{{index .Config.Labels "dev.deploy.front-door.base"}}', first.image.ref),
    ).toBe(BASE);

    const pong = await client.ping();
    expect(pong).toMatchObject({ pong: true, version: expect.any(String) });
    expect(await client.status()).toEqual({ apps: [], failed: [], pending: [] });
  });

  it('routes an app to a release on its network and serves it on the loopback port', async () => {
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
    expect(failures(outcomes)).toEqual([]);
    const after = outcomes.filter((o) => o.sentAt > switchedAt);
    expect(after.length).toBeGreaterThanOrEqual(500);
    expect(new Set(after.map((o) => o.body))).toEqual(new Set(['two']));
    expect(outcomes.filter((o) => o.body === 'one').length).toBeGreaterThanOrEqual(200);
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
  });

  it('keeps the route across a restart of the door container, and the relay its ports across a restart of its own', async () => {
    const before = await client.ping();
    docker('restart', '-t', '5', names.container);
    await waitForDoor(engine, names.container);
    const after = await client.ping();
    expect(after.pid === before.pid && after.uptimeMs >= before.uptimeMs).toBe(false);
    expect(await fetchText(port)).toBe('two');
    docker('restart', '-t', '5', names.relay);
    await waitForDoor(engine, names.relay);
    expect(await fetchText(port)).toBe('two');
    expect(await client.status(app)).toMatchObject({
      app,
      state: 'serving',
      active: { address: upstreamHost({ app, id: 'two' }) + ':8080' },
    });
  });

  it('takes one more port without being replaced: no container made, no request failed under load, a new app served on it', async () => {
    const doorId = idOf(names.container);
    const relayId = idOf(names.relay);
    const traffic = load(port, { clients: 8, maxMs: 40_000 });
    await until(() => traffic.outcomes.length >= 200, 10_000);
    const kept = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port2 }],
      base: BASE,
      names,
    });
    const doneAt = performance.now();
    await until(() => traffic.outcomes.filter((o) => o.sentAt > doneAt).length >= 200, 10_000);
    const outcomes = await traffic.stop();
    expect(kept).toMatchObject({
      mode: 'relay',
      action: 'keep',
      bindings: [
        { hostIp: '127.0.0.1', hostPort: Math.min(port, port2) },
        { hostIp: '127.0.0.1', hostPort: Math.max(port, port2) },
      ],
      handover: null,
    });
    expect([idOf(names.container), idOf(names.relay)]).toEqual([doorId, relayId]);
    expect(failures(outcomes)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.body))).toEqual(new Set(['two']));

    const web = await release(engine, other, 'one', 'other');
    await client.deploy(route(other, web, port2));
    expect(await fetchText(port2)).toBe('other');
    expect(await fetchText(port)).toBe('two');
  });

  it('names a port another program holds, and keeps serving the others', async () => {
    const held = net.createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const heldPort = (held.address() as net.AddressInfo).port;
    try {
      const refused = await rejectionOf(
        ensureFrontDoor(engine, { bindings: [{ hostIp: '127.0.0.1', hostPort: heldPort }], base: BASE, names }),
      );
      expect(refused).toBeInstanceOf(DeployError);
      expect((refused as DeployError).exitCode).toBe(17);
      expect((refused as DeployError).message).toContain(`could not listen on 127.0.0.1:${heldPort}`);
      expect((refused as DeployError).hint).toMatch(/ss -ltnp/);
      expect(await fetchText(port)).toBe('two');
      expect(await fetchText(port2)).toBe('other');
      expect(
        (await new FrontDoorClient(engine, names.relay).relayState()).bindings.map((b) => b.hostPort),
      ).not.toContain(heldPort);
    } finally {
      held.close();
    }
  });

  it('a new version of its program takes over with no gap: the new door answers before the old one stops, no request fails under load, the relay is kept', async () => {
    const doorId = idOf(names.container);
    const relayId = idOf(names.relay);
    const newer = Buffer.concat([program, Buffer.from('\n// a newer version\n')]);
    const traffic = load(port, { clients: 8, maxMs: 60_000 });
    await until(() => traffic.outcomes.length >= 200, 10_000);
    const replaced = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
      program: newer,
    });
    const doneAt = performance.now();
    await until(() => traffic.outcomes.filter((o) => o.sentAt > doneAt).length >= 200, 10_000);
    const outcomes = await traffic.stop();
    expect(replaced).toMatchObject({
      mode: 'relay',
      action: 'replace',
      why: 'its image is not the one this version of deploy runs',
      image: { built: true },
      handover: { gapless: true },
    });
    expect(replaced.containerId).not.toBe(doorId);
    expect(idOf(names.relay)).toBe(relayId);
    expect(
      docker(
        'inspect',
        '--format',
        '{{.Image}} {{index .Config.Labels "dev.deploy.front-door.generation"}}',
        names.container,
      ),
    ).toBe(`${replaced.image.id} 2`);
    expect(docker('ps', '-a', '-q', '--filter', `name=^${names.next}$`)).toBe('');
    const h = replaced.handover!;
    process.stderr.write(
      `front door upgrade behind the relay: new door answered in ${h.startMs} ms, relay switched in ${h.answerMs} ms, old door drained in ${h.stopMs} ms; ${outcomes.length} requests under 8 keep-alive clients, ${failures(outcomes).length} failed\n`,
    );
    expect(failures(outcomes)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.body))).toEqual(new Set(['two']));
    expect(await fetchText(port2)).toBe('other');
  });

  it('a restart (renew) is the same handover with the same image: no request fails', async () => {
    const doorId = idOf(names.container);
    const traffic = load(port, { clients: 8, maxMs: 60_000 });
    await until(() => traffic.outcomes.length >= 200, 10_000);
    const renewed = await ensureFrontDoor(engine, {
      bindings: [],
      base: BASE,
      names,
      program: Buffer.concat([program, Buffer.from('\n// a newer version\n')]),
      renew: true,
    });
    const doneAt = performance.now();
    await until(() => traffic.outcomes.filter((o) => o.sentAt > doneAt).length >= 200, 10_000);
    const outcomes = await traffic.stop();
    expect(renewed).toMatchObject({
      action: 'replace',
      why: 'restart',
      image: { built: false },
      handover: { gapless: true },
    });
    expect(renewed.containerId).not.toBe(doorId);
    expect(failures(outcomes)).toEqual([]);
  });

  it('says when the door cannot be reached: its container not running; a stopped door that is up to date is started again', async () => {
    docker('stop', '-t', '5', names.container);
    const error = await rejectionOf(client.ping());
    expect(error).toBeInstanceOf(DeployError);
    expect((error as DeployError).code).toBe('front_door');
    expect((error as DeployError).message).toBe(
      `The front door cannot be reached for the ping: it is not running (container ${names.container} on unix:///var/run/docker.sock).`,
    );
    const started = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
      program: Buffer.concat([program, Buffer.from('\n// a newer version\n')]),
    });
    expect(started.action).toBe('start');
    expect(await fetchText(port)).toBe('two');
  });

  it('routes a release from its deployment (services/traffic/front-door routeRelease): the relay takes its port, the container joins under its alias', async () => {
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
      // The door ran the newer program of the test before: this version's image takes over (no gap), with the new port.
      expect(door).toMatchObject({ action: 'replace', handover: { gapless: true } });
      expect(door.bindings.map((b) => b.hostPort).sort()).toEqual([port, port2, port3].sort());
      expect(routed).toMatchObject({ app: shop, target: `${shop}-r1:8080`, previous: null });
      expect(await fetchText(port3)).toBe('shop');
      expect(await fetchText(port)).toBe('two');
      const again = await routeRelease(
        { paths: { store: '', configDir: home, cacheDir: home }, env: process.env },
        engine,
        { app: shop, id: 'r1', config, containerId },
        names,
      );
      expect(again.door.action).toBe('keep');
      expect(await fetchText(port3)).toBe('shop');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('lets go of a host port once no route needs it (an app destroyed): another program can take it', async () => {
    await client.remove(other);
    expect(await releaseUnusedPorts(engine, names)).toEqual([{ hostIp: '127.0.0.1', hostPort: port2 }]);
    const taken = net.createServer();
    await new Promise<void>((resolve, reject) => {
      taken.once('error', reject);
      taken.listen(port2, '127.0.0.1', resolve);
    });
    taken.close();
    expect(await fetchText(port)).toBe('two');
    // Nothing more to let go of.
    expect(await releaseUnusedPorts(engine, names)).toEqual([]);
  });
});

describe('the front door publishing its own ports (Docker Desktop, a rootless engine, DEPLOY_FRONT_DOOR_PUBLISH=1)', () => {
  let engine: Engine;
  let client: FrontDoorClient;
  let port: number;
  let port2: number;

  beforeAll(async () => {
    names = doorNames(`p${process.pid}`);
    ({ engine, client, port, port2 } = await onTheEngine());
  });

  afterAll(() => offTheEngine(engine));

  it('publishes the port on its container, with no relay', async () => {
    const made = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
      env: PUBLISH,
    });
    expect(made).toMatchObject({ mode: 'publish', action: 'create', handover: null });
    const inspected = JSON.parse(docker('inspect', names.container))[0];
    expect(inspected.HostConfig.PortBindings).toEqual({
      [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }],
    });
    expect(docker('ps', '-a', '-q', '--filter', `name=^${names.relay}$`)).toBe('');
    const one = await release(engine, app, 'p1', 'p1');
    await client.deploy(route(app, one, port));
    expect(await fetchText(port)).toBe('p1');
  });

  it('is replaced to publish one more port: existing routes kept, the gap measured', async () => {
    const oldId = idOf(names.container);
    const traffic = load(port, { clients: 8, maxMs: 40_000 });
    await until(() => traffic.outcomes.length >= 200, 10_000);
    const replaced = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port2 }],
      base: BASE,
      names,
      env: PUBLISH,
    });
    const doneAt = performance.now();
    await until(() => traffic.outcomes.filter((o) => o.sentAt > doneAt && o.body === 'p1').length >= 200, 10_000);
    const outcomes = await traffic.stop();
    expect(replaced).toMatchObject({
      mode: 'publish',
      action: 'replace',
      why: `it does not publish 127.0.0.1:${port2}`,
    });
    expect(replaced.containerId).not.toBe(oldId);
    const after = outcomes.filter((o) => o.sentAt > doneAt);
    expect(new Set(after.map((o) => o.body))).toEqual(new Set(['p1']));
    const failed = outcomes.filter((o) => o.error !== null);
    const gapMs =
      failed.length === 0 ? 0 : Math.max(...failed.map((o) => o.doneAt)) - Math.min(...failed.map((o) => o.sentAt));
    const h = replaced.handover!;
    process.stderr.write(
      `front door handover (publishing): ${h.totalMs} ms from the old door's stop to the new one's answer; ${failed.length} of ${outcomes.length} requests failed over ${Math.round(gapMs)} ms\n`,
    );
    expect(h.totalMs).toBe(h.stopMs + h.startMs + h.answerMs);
  });

  it('moves behind a relay when asked without DEPLOY_FRONT_DOOR_PUBLISH: routes kept, the relay takes both ports', async () => {
    const moved = await ensureFrontDoor(engine, {
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      base: BASE,
      names,
    });
    expect(moved).toMatchObject({
      mode: 'relay',
      action: 'replace',
      why: 'it published its ports itself; a relay takes them now',
    });
    expect(moved.bindings.map((b) => b.hostPort).sort()).toEqual([port, port2].sort());
    expect(JSON.parse(docker('inspect', names.container))[0].HostConfig.PortBindings ?? {}).toEqual({});
    expect(await fetchText(port)).toBe('p1');
  });
});
