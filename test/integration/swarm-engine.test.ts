/**
 * The engine client's Swarm parts (engine.system, engine.services) against a real multi-node swarm made by the
 * harness (test/helpers/swarm.ts: extra dockerd daemons in network namespaces), and against the host engine,
 * which is in no swarm and stays so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/adapters/docker/api.js';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { RegistryAuth, ServiceLogLine, ServiceSpec, TaskInfo } from '../../src/adapters/docker/engine/types.js';
import { startSwarm, type Swarm } from '../helpers/swarm.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const SECOND = 1_000_000_000; // the engine's durations are nanoseconds

/** Polls until `ready` holds for a service's tasks (bounded); the error lists the tasks as they last were. */
async function waitForTasks(
  engine: Engine,
  serviceId: string,
  what: string,
  ready: (tasks: TaskInfo[]) => boolean,
  timeoutMs = 60_000,
): Promise<TaskInfo[]> {
  const deadline = Date.now() + timeoutMs;
  let tasks: TaskInfo[];
  for (;;) {
    tasks = await engine.services.tasks(serviceId);
    if (ready(tasks)) return tasks;
    if (Date.now() >= deadline) {
      const seen = tasks.map((t) => `${t.id} node=${t.nodeId} ${t.state}/${t.desiredState} ${t.error}`).join('\n  ');
      throw new Error(`${what}: not within ${timeoutMs} ms; tasks:\n  ${seen}`);
    }
    await sleep(250);
  }
}

/** The tasks Swarm wants running and that run. */
const running = (tasks: TaskInfo[]) => tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');

const timings: string[] = [];

describe('Swarm services through the engine client, on a real 2-node swarm', () => {
  let swarm: Swarm | undefined;
  let manager: Engine | undefined;
  let host: Engine | undefined;
  const run = Math.random().toString(36).slice(2, 8);
  const label = { 'dev.deploy.test': `swarm-engine-${run}` };

  beforeAll(async () => {
    swarm = await startSwarm({ nodes: 2 });
    timings.push(`set-up ${swarm.startedInMs} ms`);
    manager = await Engine.connect({ url: swarm.manager.url, source: 'test' });
    host = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
  }, 180_000);

  afterAll(async () => {
    manager?.close();
    host?.close();
    const began = Date.now();
    try {
      await swarm?.stop();
    } finally {
      timings.push(`tear-down ${Date.now() - began} ms`);
      process.stderr.write(`swarm harness timings: ${timings.join(', ')}\n`);
    }
  }, 120_000);

  it("the harness's nodes are one swarm: each active, the first its manager, every node Ready", async () => {
    const s = swarm!;
    expect(s.nodes).toHaveLength(2);
    for (const node of s.nodes) {
      const engine = await Engine.connect({ url: node.url, source: 'test' });
      try {
        const info = await engine.system.info();
        expect(info.swarm.state).toBe('active');
        expect(info.swarm.manager).toBe(node === s.manager);
        expect(info.swarm.nodeId).toBe(node.nodeId);
        expect(info.swarm.nodeAddress).toBe(node.address);
        expect(info.name).toBe(node.name);
        expect(info.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
        if (node !== s.manager) {
          // A worker holds no services: the engine refuses with its own words.
          await expect(engine.services.list(label)).rejects.toThrow(/not a swarm manager/);
        }
      } finally {
        engine.close();
      }
    }
    const managerInfo = await manager!.system.info();
    expect(managerInfo.swarm.nodes).toBe(2);
    expect(managerInfo.swarm.managers).toBe(1);
    expect(managerInfo.swarm.clusterId).toMatch(/^\w+$/);

    const nodes = await manager!.services.nodes();
    expect(nodes.map((n) => [n.hostname, n.id, n.address, n.state, n.availability, n.role])).toEqual(
      s.nodes.map((n) => [n.name, n.nodeId, n.address, 'ready', 'active', n.manager ? 'manager' : 'worker']),
    );
    expect(nodes.filter((n) => n.leader).map((n) => n.id)).toEqual([s.manager.nodeId]);
  });

  it('creates a 2-replica busybox service spread over both nodes, updates it, lists it by label, reads its logs, removes it', async () => {
    const s = swarm!;
    const engine = manager!;
    const name = `swt-${run}`;
    const spec: ServiceSpec = {
      Name: name,
      Labels: label,
      TaskTemplate: {
        ContainerSpec: {
          Image: 'busybox:1.36',
          Command: [
            'sh',
            '-c',
            'echo "hello from slot $SLOT: $GREETING"; trap "exit 0" TERM; while true; do sleep 1; done',
          ],
          Env: ['GREETING=one', 'SLOT={{.Task.Slot}}'],
          StopGracePeriod: 5 * SECOND,
        },
        RestartPolicy: { Condition: 'any', Delay: SECOND / 2 },
      },
      Mode: { Replicated: { Replicas: 2 } },
      UpdateConfig: { Parallelism: 1, Delay: 0, Monitor: SECOND / 2, FailureAction: 'pause', Order: 'stop-first' },
      EndpointSpec: { Mode: 'dnsrr' },
    };
    const { id } = await engine.services.create(spec);
    expect(id).toMatch(/^\w{25}$/);

    // --- 2 tasks running, one on each node ---------------------------------------------------------
    const began = Date.now();
    const first = running(await waitForTasks(engine, id, '2 running tasks', (tasks) => running(tasks).length === 2));
    timings.push(`2 tasks running ${Date.now() - began} ms`);
    expect(new Set(first.map((t) => t.nodeId))).toEqual(new Set(s.nodes.map((n) => n.nodeId)));
    expect(first.map((t) => t.slot).sort()).toEqual([1, 2]);
    for (const t of first) {
      expect(t.serviceId).toBe(id);
      expect(t.containerId).toMatch(/^[0-9a-f]{64}$/);
      expect(t.image).toMatch(/^busybox:1\.36/);
      expect(t.env).toContain('GREETING=one');
      expect(t.error).toBe('');
    }

    // --- inspect and update --------------------------------------------------------------------------
    const before = await engine.services.inspect(id);
    expect(before).not.toBeNull();
    expect(before!.name).toBe(name);
    expect(before!.labels).toEqual(label);
    expect(before!.replicas).toBe(2);
    expect(before!.spec.EndpointSpec?.Mode).toBe('dnsrr');
    expect(before!.previousSpec).toBeNull();
    expect(await engine.services.inspect(name)).toMatchObject({ id });

    // Followed from here on: the updated tasks' first lines must arrive while the stream is open. (With `since`,
    // not `tail: 0`: a task's node starts reading its logs after the task starts, and a tail of 0 then skips what
    // it wrote first.)
    const followed: ServiceLogLine[] = [];
    const stopFollowing = new AbortController();
    const followSince = Date.now();
    const following = engine.services.followLogs(
      id,
      { since: followSince },
      (line) => followed.push(line),
      stopFollowing.signal,
    );

    const changed: ServiceSpec = structuredClone(before!.spec);
    changed.TaskTemplate.ContainerSpec.Env = ['GREETING=two', 'SLOT={{.Task.Slot}}'];
    await engine.services.update(id, before!.version, changed);
    const after = await engine.services.inspect(id);
    expect(after!.version).toBeGreaterThan(before!.version);
    expect(after!.spec.TaskTemplate.ContainerSpec.Env).toEqual(['GREETING=two', 'SLOT={{.Task.Slot}}']);
    expect(after!.previousSpec?.TaskTemplate.ContainerSpec.Env).toEqual(['GREETING=one', 'SLOT={{.Task.Slot}}']);
    // The version index is a guard: an update naming the old one is refused.
    await expect(engine.services.update(id, before!.version, changed)).rejects.toThrow(
      /^update service: .*update out of sequence/,
    );

    const updating = Date.now();
    const second = running(
      await waitForTasks(
        engine,
        id,
        '2 updated tasks running',
        (tasks) =>
          running(tasks).length === 2 &&
          running(tasks).every((t) => t.env.includes('GREETING=two')) &&
          tasks.every((t) => t.env.includes('GREETING=two') || t.desiredState !== 'running'),
      ),
    );
    expect(second.map((t) => t.id).filter((tid) => first.some((f) => f.id === tid))).toEqual([]);
    expect(new Set(second.map((t) => t.nodeId))).toEqual(new Set(s.nodes.map((n) => n.nodeId)));
    for (let i = 0; i < 80 && (await engine.services.inspect(id))!.updateState !== 'completed'; i++) await sleep(250);
    expect((await engine.services.inspect(id))!.updateState).toBe('completed');
    timings.push(`rolling update ${Date.now() - updating} ms`);

    // The followed stream saw each updated task's line, and nothing from before `since` (whole seconds).
    for (let i = 0; i < 40 && !second.every((t) => followed.some((l) => l.taskId === t.id)); i++) await sleep(250);
    stopFollowing.abort();
    await following;
    expect(
      followed
        .filter((l) => second.some((t) => t.id === l.taskId))
        .map((l) => [l.taskId, l.nodeId, l.message])
        .sort(),
    ).toEqual(second.map((t) => [t.id, t.nodeId, `hello from slot ${t.slot}: two`]).sort());
    expect(followed.filter((l) => (l.time ?? 0) < Math.floor(followSince / 1000) * 1000)).toEqual([]);

    // --- list by label -----------------------------------------------------------------------------------
    expect((await engine.services.list(label)).map((sv) => sv.name)).toEqual([name]);
    expect(await engine.services.list({ 'dev.deploy.test': `other-${run}` })).toEqual([]);

    // --- logs of all tasks, from both nodes ----------------------------------------------------------------
    let lines = await engine.services.logs(id);
    for (let i = 0; i < 40 && !second.every((t) => lines.some((l) => l.taskId === t.id)); i++) {
      await sleep(250);
      lines = await engine.services.logs(id);
    }
    for (const t of second) {
      const own = lines.filter((l) => l.taskId === t.id);
      expect(own.map((l) => [l.message, l.nodeId, l.stream])).toEqual([
        [`hello from slot ${t.slot}: two`, t.nodeId, 'stdout'],
      ]);
      expect(own[0]!.time).toBeGreaterThan(began - 60_000);
    }
    // The first tasks' lines are there too, told apart by their task.
    for (const t of first)
      expect(lines.filter((l) => l.taskId === t.id).map((l) => l.message)).toEqual([`hello from slot ${t.slot}: one`]);

    // --- remove ----------------------------------------------------------------------------------------------
    expect(await engine.services.remove(id)).toBe('removed');
    expect(await engine.services.inspect(id)).toBeNull();
    expect(await engine.services.list(label)).toEqual([]);
    expect(await engine.services.remove(id)).toBe('gone');
    // Swarm stops the tasks after the service is gone: each node's containers of it go away (bounded).
    for (const node of s.nodes) {
      let left = 'unknown';
      for (let i = 0; i < 80; i++) {
        left = await node.docker('ps', '-aq', '--filter', `label=com.docker.swarm.service.id=${id}`);
        if (left === '') break;
        await sleep(250);
      }
      expect(left, `containers of the service left on ${node.name}`).toBe('');
    }
  });

  it('the host engine says it is in no swarm, and refuses service calls with its own words', async () => {
    const info = await host!.system.info();
    expect(info.swarm).toEqual({
      state: 'inactive',
      nodeId: null,
      nodeAddress: null,
      manager: false,
      clusterId: null,
      nodes: null,
      managers: null,
      error: '',
    });
    expect(info.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    const refused = await host!.services.list(label).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).statusCode).toBe(503);
    expect((refused as ApiError).message).toMatch(
      /^list services: This node is not a swarm manager.*docker swarm init/,
    );
  });
});

describe('what engine.services sends: registry credentials and the version index (a stand-in engine records it)', () => {
  // No registry is reachable from the swarm's nodes here, and the engine never shows stored credentials back:
  // so the requests themselves are checked, against a stand-in engine on a unix socket.
  type Seen = { method: string; url: string; headers: IncomingHttpHeaders; body: string };
  const seen: Seen[] = [];
  let dir: string | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      if (req.url === '/_ping') {
        res.writeHead(200, { 'Api-Version': '1.41' }).end('OK');
        return;
      }
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(req.url?.includes('/create') ? 201 : 200, { 'Content-Type': 'application/json' });
      res.end(req.url?.includes('/create') ? '{"ID":"svc1","Warnings":null}' : '{"Warnings":["w1"]}');
    });
  });
  let engine: Engine | undefined;
  const auth: RegistryAuth = { serveraddress: '10.1.2.1:5000', username: 'ci', password: 's3cret/+=' };
  const spec: ServiceSpec = { Name: 'web', TaskTemplate: { ContainerSpec: { Image: '10.1.2.1:5000/web:1' } } };
  /** X-Registry-Auth decoded (base64url JSON), or undefined when not sent. */
  const sentAuth = (h: IncomingHttpHeaders) => {
    const v = h['x-registry-auth'];
    return typeof v === 'string' ? (JSON.parse(Buffer.from(v, 'base64url').toString('utf8')) as unknown) : undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-fake-engine-'));
    const socket = join(dir, 'engine.sock');
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    engine = await Engine.connect({ url: `unix://${socket}`, source: 'test' });
  });
  afterAll(async () => {
    engine?.close();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('create sends the spec, with X-Registry-Auth only when credentials are given', async () => {
    seen.length = 0;
    expect(await engine!.services.create(spec, auth)).toEqual({ id: 'svc1', warnings: [] });
    await engine!.services.create(spec);
    expect(seen.map((r) => [r.method, r.url, JSON.parse(r.body), sentAuth(r.headers)])).toEqual([
      ['POST', '/v1.41/services/create', spec, auth],
      ['POST', '/v1.41/services/create', spec, undefined],
    ]);
  });

  it('update names the version index, and sends new credentials or keeps those of the spec; rollback asks for the previous spec', async () => {
    seen.length = 0;
    expect(await engine!.services.update('svc1', 7, spec, { auth })).toEqual({ warnings: ['w1'] });
    await engine!.services.update('svc1', 8, spec);
    await engine!.services.update('svc1', 9, spec, { rollback: true });
    expect(seen.map((r) => [r.url, JSON.parse(r.body), sentAuth(r.headers)])).toEqual([
      ['/v1.41/services/svc1/update?version=7', spec, auth],
      ['/v1.41/services/svc1/update?version=8&registryAuthFrom=spec', spec, undefined],
      ['/v1.41/services/svc1/update?version=9&rollback=previous&registryAuthFrom=spec', spec, undefined],
    ]);
  });
});
