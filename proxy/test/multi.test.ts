// A release that is several addresses: the tasks of a Swarm service behind one alias (DNS round-robin). Each task
// here is a real HTTP server on its own loopback address (127.0.0.2, .3, ...) and the same port, as tasks on an
// overlay network share the service's port. The door's resolver is handed in: no name on this machine resolves to
// several loopback addresses, and a test must add and remove records at will, as Docker's embedded DNS does when a
// task starts and stops. That resolver is the only stand-in; sockets, servers and checks are real.
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resolver } from '../src/release.js';
import {
  client,
  get,
  sleep,
  startRouter,
  startUpstream,
  testRoute,
  until,
  upstreamsPerTest,
  type Harness,
  type Upstream,
} from './helpers.js';

let harness: Harness | undefined;
const up = upstreamsPerTest();
const started: Upstream[] = [];

afterEach(async () => {
  await harness?.close();
  harness = undefined;
  for (const u of started.splice(0)) await u.close();
});

/** What Docker's DNS would answer for the alias `svc`: the addresses of the running tasks. */
function dnsRecords(): { records: Set<string>; resolve: Resolver } {
  const records = new Set<string>();
  return {
    records,
    resolve: async (host) => {
      if (host !== 'svc') throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      if (records.size === 0) throw Object.assign(new Error('getaddrinfo ENOTFOUND svc'), { code: 'ENOTFOUND' });
      return [...records];
    },
  };
}

/** A port free on 127.0.0.2 (the tasks all listen on it, each on its own address). */
async function taskPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A task: `name` on 127.0.0.N:port, and its record in DNS unless `listed` is false. */
async function task(
  dns: { records: Set<string> },
  n: number,
  port: number,
  { health = 200, listed = true }: { health?: number; listed?: boolean } = {},
): Promise<Upstream> {
  const u = await startUpstream(`t${n}`, { health, host: `127.0.0.${n}`, port });
  started.push(u);
  if (listed) dns.records.add(`127.0.0.${n}`);
  return u;
}

/** A front door with a service of `count` tasks (127.0.0.2 ...) routed as app "web", `expect` the count. */
async function service(count: number, options: Record<string, unknown> = {}) {
  const dns = dnsRecords();
  const port = await taskPort();
  const tasks: Upstream[] = [];
  for (let i = 0; i < count; i++) tasks.push(await task(dns, 2 + i, port));
  harness = startRouter(undefined, dns.resolve);
  const deployed = await harness.router.deploy(testRoute('web', `svc:${port}`, { expect: count, ...options }));
  return { dns, port, tasks, deployed, web: harness.router.services.get('web')! };
}

/** `clients` keep-alive clients sending GETs until stopped: who answered, and every failure. */
function load(port: number, clients = 16) {
  const pool = client(port, clients);
  const answered: string[] = [];
  const failures: string[] = [];
  let running = true;
  const workers = Array.from({ length: clients }, async () => {
    while (running) {
      try {
        const answer = await get(pool);
        if (answer.status === 200) answered.push(answer.text);
        else failures.push(`${answer.status} ${answer.text.slice(0, 60)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  });
  return {
    answered,
    failures,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      await pool.close();
    },
  };
}

/**
 * Until the door has seen `task`'s record go (its next round: 50 ms here, 1 s by default) and has finished with it:
 * its requests done, its connections closed. A task that ends sooner races the door on its keep-alive connections
 * (a request on its way when the task closes a connection it thinks idle is reset, and is not replayed: it may
 * have reached the app), as any HTTP/1.1 proxy does.
 */
async function sawLeave(task: Upstream): Promise<void> {
  await until(() => !addresses(harness!).some((a) => a.address === task.address), 3_000);
}

const count = (answers: string[], name: string): number => answers.filter((a) => a === name).length;

type AddressRow = { address: string; state: string };
function addresses(h: Harness): AddressRow[] {
  const status = h.router.status('web') as { active: { addresses?: AddressRow[] } };
  return (status.active.addresses ?? []).map(({ address, state }) => ({ address, state }));
}

describe('a release of several addresses', () => {
  it('balances requests over its three healthy tasks, and status lists each with its state', async () => {
    const { port, deployed } = await service(3);
    expect(deployed.addresses.map((a) => a.state)).toEqual(['healthy', 'healthy', 'healthy']);
    const pool = client(harness!.port('web'), 8);
    const answers = await Promise.all(Array.from({ length: 300 }, async () => (await get(pool)).text));
    await pool.close();
    for (const name of ['t2', 't3', 't4']) expect(count(answers, name)).toBeGreaterThan(60);
    expect(count(answers, 't2') + count(answers, 't3') + count(answers, 't4')).toBe(300);
    const status = harness!.router.status('web') as { active: Record<string, unknown> };
    expect(status.active).toMatchObject({ address: `svc:${port}`, expect: 3, healthy: 3 });
    expect(addresses(harness!)).toEqual([2, 3, 4].map((n) => ({ address: `127.0.0.${n}:${port}`, state: 'healthy' })));
  });

  it('sends a task that appears later nothing until it passes its own checks', async () => {
    const { dns, port } = await service(2);
    const late = await task(dns, 4, port, { health: 500 });
    const pool = client(harness!.port('web'), 4);
    await until(() => late.healthChecks >= 3, 3_000);
    for (let i = 0; i < 40; i++) await get(pool);
    expect(late.seen).toEqual([]);
    expect(addresses(harness!)).toContainEqual({ address: `127.0.0.4:${port}`, state: 'checking' });
    late.health = 200;
    await until(() => addresses(harness!).every((a) => a.state === 'healthy'), 3_000);
    const answers: string[] = [];
    for (let i = 0; i < 60; i++) answers.push((await get(pool)).text);
    expect(count(answers, 't4')).toBeGreaterThan(0);
    await pool.close();
  });

  it('stops sending to a task that fails its checks, and takes it back once it passes again', async () => {
    const { tasks, port } = await service(3);
    tasks[1]!.health = 500;
    await until(() => addresses(harness!).some((a) => a.state === 'failing'), 3_000);
    const seenBefore = tasks[1]!.seen.length;
    const pool = client(harness!.port('web'), 4);
    for (let i = 0; i < 40; i++) expect((await get(pool)).status).toBe(200);
    expect(tasks[1]!.seen.length).toBe(seenBefore);
    expect(addresses(harness!)).toContainEqual({ address: `127.0.0.3:${port}`, state: 'failing' });
    tasks[1]!.health = 200;
    await until(() => addresses(harness!).every((a) => a.state === 'healthy'), 3_000);
    await pool.close();
  });

  it('loses no request under keep-alive load when a task stops (its record leaves DNS, then it ends)', async () => {
    const { dns, tasks } = await service(3);
    const traffic = load(harness!.port('web'));
    await sleep(300);
    // Swarm takes a stopping task out of DNS, then stops its container; the door sees the record gone at its next
    // round, stops sending, and closes its idle connections to the task once the task's requests are done. The
    // process then ends as on SIGTERM (requests in flight answered).
    dns.records.delete('127.0.0.3');
    await sawLeave(tasks[1]!);
    await tasks[1]!.stop();
    await sleep(300);
    const before = traffic.answered.length;
    await sleep(300);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(count(traffic.answered.slice(before), 't3')).toBe(0);
    expect(traffic.answered.length).toBeGreaterThan(200);
  });

  it('after a task crashes before DNS knows, only requests already on its connections can fail', async () => {
    const { tasks, port } = await service(3, { health: { intervalMs: 1_000 } });
    const traffic = load(harness!.port('web'), 8);
    await sleep(200);
    // A crash: its connections are cut (a request on one may have reached it, so it is not replayed: at most one
    // per connection fails). Its record stays; new connections are refused, so each request it would get goes to
    // another task, and it gets no new one until it passes its checks again (the next is a second away).
    const before = traffic.failures.length;
    await tasks[1]!.close();
    await sleep(100);
    const afterCrash = traffic.failures.length;
    const answeredBefore = traffic.answered.length;
    await sleep(400);
    await traffic.stop();
    expect(before).toBe(0);
    expect(afterCrash).toBeLessThanOrEqual(8);
    expect(traffic.failures.length).toBe(afterCrash);
    expect(traffic.answered.length - answeredBefore).toBeGreaterThan(50);
    expect(count(traffic.answered.slice(answeredBefore), 't3')).toBe(0);
    expect(addresses(harness!)).toContainEqual({ address: `127.0.0.3:${port}`, state: 'failing' });
  });

  it('survives a rolling replacement of every task, one by one, under load, with no failed request', async () => {
    const { dns, tasks, port } = await service(3);
    const traffic = load(harness!.port('web'));
    await sleep(200);
    for (const [i, old] of tasks.entries()) {
      // start-first: the new task runs and is in DNS before the old one leaves
      const fresh = await task(dns, 5 + i, port);
      await until(() => addresses(harness!).some((a) => a.address === fresh.address && a.state === 'healthy'), 3_000);
      dns.records.delete(old.address.split(':')[0]!);
      await sawLeave(old);
      await old.stop();
      await sleep(150);
    }
    const before = traffic.answered.length;
    await sleep(300);
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(new Set(traffic.answered.slice(before))).toEqual(new Set(['t5', 't6', 't7']));
    expect(addresses(harness!).filter((a) => a.state !== 'draining')).toEqual(
      [5, 6, 7].map((n) => ({ address: `127.0.0.${n}:${port}`, state: 'healthy' })),
    );
  });
});

describe('the gate of a release of several addresses', () => {
  it('refuses the deploy when fewer than expect addresses pass, saying how many of how many', async () => {
    const dns = dnsRecords();
    harness = startRouter(undefined, dns.resolve);
    const v1 = await up('v1');
    await harness.router.deploy(testRoute('web', v1.address));
    const port = await taskPort();
    await task(dns, 2, port);
    await task(dns, 3, port);
    const sick = await task(dns, 4, port, { health: 500 });
    await expect(
      harness.router.deploy(testRoute('web', `svc:${port}`, { expect: 3, timing: { deployTimeoutMs: 600 } })),
    ).rejects.toThrow(
      new RegExp(
        `web: svc:${port} did not pass its health check: not healthy within 600 ms: 2 of 3 addresses passed \\(3 expected\\); last: 127\\.0\\.0\\.4:${port}: GET /up answered 500`,
      ),
    );
    expect(sick.seen).toEqual([]);
    expect((harness.router.status('web') as { active: { address: string } }).active.address).toBe(v1.address);
    // With expect 2 the same tasks pass.
    const passed = await harness.router.deploy(testRoute('web', `svc:${port}`, { expect: 2 }));
    expect(passed.addresses.filter((a) => a.state === 'healthy')).toHaveLength(2);
  });

  it('waits for tasks that are still starting, up to the gate timeout', async () => {
    const dns = dnsRecords();
    harness = startRouter(undefined, dns.resolve);
    const port = await taskPort();
    await task(dns, 2, port);
    const deploying = harness.router.deploy(testRoute('web', `svc:${port}`, { expect: 2 }));
    await sleep(300);
    await task(dns, 3, port);
    const result = await deploying;
    expect(result.addresses.map((a) => a.state)).toEqual(['healthy', 'healthy']);
  });
});

describe('the bake window of a release of several addresses', () => {
  it('does not fall back when one task of three dies, only when none passes', async () => {
    const dns = dnsRecords();
    harness = startRouter(undefined, dns.resolve);
    const v1 = await up('v1');
    await harness.router.deploy(testRoute('web', v1.address, { timing: { bakeMs: 10_000 } }));
    const port = await taskPort();
    const tasks = [await task(dns, 2, port), await task(dns, 3, port), await task(dns, 4, port)];
    await harness.router.deploy(testRoute('web', `svc:${port}`, { expect: 3, timing: { bakeMs: 10_000 } }));
    const web = harness.router.services.get('web')!;
    await tasks[0]!.close(); // a crash: Swarm has not removed its record yet
    await sleep(500); // ten check intervals
    expect(web.active?.address).toBe(`svc:${port}`);
    expect(web.events.map((e) => e.kind)).not.toContain('fell-back');
    expect(addresses(harness)).toContainEqual({ address: `127.0.0.2:${port}`, state: 'failing' });
    tasks[1]!.health = 500;
    tasks[2]!.health = 500;
    await until(() => web.active?.address === v1.address, 3_000);
    const fell = web.events.find((e) => e.kind === 'fell-back');
    expect(fell?.detail).toMatch(/health checks failed in the bake window: no address passed 2 checks in a row: /);
  });
});

describe('a release of several addresses across a restart', () => {
  it('saves each address and its state, and serves the healthy ones again at once', async () => {
    const { dns, port, tasks } = await service(3);
    tasks[2]!.health = 500;
    await until(() => addresses(harness!).some((a) => a.state === 'failing'), 3_000);
    await harness!.router.save();
    const saved = JSON.parse(readFileSync(harness!.stateFile, 'utf8'));
    expect(saved.apps[0]).toMatchObject({ target: `svc:${port}`, expect: 3 });
    expect(saved.addresses.web).toEqual([
      { address: `127.0.0.2:${port}`, state: 'healthy' },
      { address: `127.0.0.3:${port}`, state: 'healthy' },
      { address: `127.0.0.4:${port}`, state: 'failing' },
    ]);
    await harness!.router.close({ drain: false });
    const restarted = startRouter(harness!.dir, dns.resolve);
    harness = restarted;
    expect(await restarted.router.restore()).toEqual({ restored: ['web'], failed: [] });
    // At once: the two that were healthy; the third waits for its checks.
    expect(addresses(restarted).map((a) => a.state)).toEqual(['healthy', 'healthy', 'checking']);
    const pool = client(restarted.port('web'), 2);
    for (let i = 0; i < 10; i++) expect((await get(pool)).status).toBe(200);
    expect(tasks[2]!.seen).toEqual([]);
    await pool.close();
  });
});

describe('a tcp route to several addresses', () => {
  /** A TCP task on 127.0.0.N:port that greets with its name, then echoes. */
  async function echoTask(n: number, port: number): Promise<{ close: () => void }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.write(`t${n}:`);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => server.listen(port, `127.0.0.${n}`, resolve));
    const close = (): void => {
      server.close();
      for (const s of sockets) s.destroy();
    };
    started.push({ close: async () => close() } as Upstream);
    return { close };
  }

  async function greeting(port: number): Promise<string> {
    const socket = net.connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    let text = '';
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => {});
    await until(() => text.length > 0 || socket.destroyed, 3_000);
    socket.destroy();
    return text;
  }

  it('spreads new connections over the tasks, and one a dead task refuses goes to another', async () => {
    const dns = dnsRecords();
    const port = await taskPort();
    const tasks = [await echoTask(2, port), await echoTask(3, port)];
    dns.records.add('127.0.0.2');
    dns.records.add('127.0.0.3');
    harness = startRouter(undefined, dns.resolve);
    await harness.router.deploy(
      testRoute('db', `svc:${port}`, { kind: 'tcp', port: 0, expect: 2, health: { intervalMs: 1_000 } }),
    );
    const door = harness.port('db', 'tcp');
    const greetings: string[] = [];
    for (let i = 0; i < 6; i++) greetings.push(await greeting(door));
    expect(count(greetings, 't2:')).toBeGreaterThan(0);
    expect(count(greetings, 't3:')).toBeGreaterThan(0);
    tasks[0]!.close(); // its record stays until the next round, a second away
    const after: string[] = [];
    for (let i = 0; i < 6; i++) after.push(await greeting(door));
    expect(after).toEqual(Array.from({ length: 6 }, () => 't3:'));
  });
});

describe("a container's route (no expect): one address, found again by name", () => {
  it('follows a container restarted on another address, with no failed request', async () => {
    const dns = dnsRecords();
    harness = startRouter(undefined, dns.resolve);
    const port = await taskPort();
    const first = await task(dns, 2, port);
    await harness.router.deploy(testRoute('web', `svc:${port}`));
    const pool = client(harness.port('web'), 1);
    expect((await get(pool)).text).toBe('t2');
    // Restarted: the old address is gone, the alias names the new one; the door is only checked in a bake window,
    // so the refused connection is what makes it ask DNS again, and the request goes to the new address.
    await first.stop();
    dns.records.delete('127.0.0.2');
    await task(dns, 3, port);
    expect(await get(pool)).toMatchObject({ status: 200, text: 't3' });
    expect((harness.router.status('web') as { active: Record<string, unknown> }).active).toEqual({
      address: `svc:${port}`,
      inflight: { requests: 0, streams: 0 },
    });
    await pool.close();
  });

  it('restored while its name does not resolve yet, serves once it does', async () => {
    const dns = dnsRecords();
    harness = startRouter(undefined, dns.resolve);
    const port = await taskPort();
    await task(dns, 2, port);
    await harness.router.deploy(testRoute('web', `svc:${port}`));
    await harness.router.close({ drain: false });
    dns.records.clear();
    harness = startRouter(harness.dir, dns.resolve);
    expect(await harness.router.restore()).toEqual({ restored: ['web'], failed: [] });
    const pool = client(harness.port('web'), 1);
    expect((await get(pool)).status).toBe(502);
    dns.records.add('127.0.0.2');
    await sleep(120); // lookups after a failed one are at most every 100 ms
    expect(await get(pool)).toMatchObject({ status: 200, text: 't2' });
    await pool.close();
  });
});
