/**
 * The runtime contract for one Swarm service per deployment (src/adapters/runtime/services.ts), on a real 2-node
 * swarm of the harness (test/helpers/swarm.ts): one swarm for the file, the runtime on its manager. Then what
 * only a service does: its tasks on the nodes, a forced restart, a stop that scales to 0, restarts Swarm made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { ServiceRuntime } from '../../src/adapters/runtime/services.js';
import { LABEL } from '../../src/core/names.js';
import type { Deployment } from '../../src/core/types.js';
import { startSwarm, type Swarm } from '../helpers/swarm.js';
import { makeConfig, makeDeployment, portMapping } from '../helpers/unit.js';
import { runtimeContract } from './runtime-contract.js';

let swarm: Swarm | undefined;
const timings: string[] = [];

beforeAll(async () => {
  swarm = await startSwarm({ nodes: 2 });
  timings.push(`swarm set-up ${swarm.startedInMs} ms`);
}, 180_000);

afterAll(async () => {
  await swarm?.stop();
  process.stderr.write(`service runtime timings: ${timings.join(', ')}\n`);
}, 120_000);

runtimeContract(
  'one Swarm service per deployment',
  async () => {
    if (!swarm) throw new Error('the swarm did not start');
    const engine = await Engine.connect({ url: swarm.manager.url, source: 'test' });
    return { runtime: new ServiceRuntime(engine), close: () => engine.close() };
  },
  { renames: 'proven-only' },
);

describe('one Swarm service per deployment: what only a service does', () => {
  let engine: Engine;
  let runtime: ServiceRuntime;
  const app = `rs-${Math.random().toString(36).slice(2, 8)}`;
  let n = 0;
  const deployment = (script: string, config: Partial<Deployment['config']> = {}): Deployment => {
    n += 1;
    return makeDeployment({
      id: `rs${n}${app.slice(3)}`,
      app,
      version: n,
      config: makeConfig({ command: ['sh', '-c', script], ...config }),
    });
  };
  /** The containers of a service's tasks on every node, as `docker ps -a` ids. */
  const containersOf = async (id: string) =>
    (
      await Promise.all(
        swarm!.nodes.map((node) => node.docker('ps', '-aq', '--filter', `label=com.docker.swarm.service.id=${id}`)),
      )
    )
      .join('\n')
      .split('\n')
      .filter(Boolean);

  beforeAll(async () => {
    engine = await Engine.connect({ url: swarm!.manager.url, source: 'test' });
    runtime = new ServiceRuntime(engine);
  });
  afterAll(async () => {
    for (const w of await runtime.list({ [LABEL.app]: app }).catch(() => [])) await runtime.remove(w.id);
    engine.close();
  });

  it('runs a task on a node (its container without the record labels), restarts it with a new task, stops it to 0 tasks', async () => {
    const d = deployment('trap "exit 0" TERM; while true; do sleep 0.1; done', { restart: 'always' });
    const id = await runtime.create(d, 'busybox:1.36', `${app}-v${d.version}`, []);
    expect((await engine.services.inspect(id))?.replicas).toBe(0);

    let began = Date.now();
    await runtime.start(id);
    timings.push(`start → running ${Date.now() - began} ms`);
    const first = (await engine.services.tasks(id)).filter((t) => t.state === 'running');
    expect(first).toHaveLength(1);
    const node = swarm!.nodes.find((x) => x.nodeId === first[0]!.nodeId)!;
    const labels = JSON.parse(
      await node.docker('inspect', '--format', '{{json .Config.Labels}}', first[0]!.containerId!),
    );
    expect(labels['com.docker.swarm.service.id']).toBe(id);
    expect(Object.keys(labels).filter((k) => k.startsWith('dev.deploy.'))).toEqual([]);
    const started = await runtime.inspect(id);
    expect(started).toMatchObject({ running: true, status: 'running', restartCount: 0, exitCode: 0 });
    expect(started?.startedAt).toBeGreaterThan(began - 5_000);

    began = Date.now();
    await runtime.restart(id, 5);
    timings.push(`forced restart ${Date.now() - began} ms`);
    const second = (await engine.services.tasks(id)).filter((t) => t.state === 'running');
    expect(second).toHaveLength(1);
    expect(second[0]!.id).not.toBe(first[0]!.id);
    // Replaced on purpose, not after a failure: no restart counted.
    expect(await runtime.inspect(id)).toMatchObject({ running: true, restartCount: 0 });

    began = Date.now();
    await runtime.stop(id, 5);
    timings.push(`stop (to 0 tasks) ${Date.now() - began} ms`);
    expect((await engine.services.inspect(id))?.replicas).toBe(0);
    expect(await runtime.inspect(id)).toMatchObject({ running: false, status: 'exited', exitCode: 0 });
    // Swarm removes the stopped task's container (bounded wait).
    let left = await containersOf(id);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      left = await containersOf(id);
    }
    expect(left).toEqual([]);
    // Started again, the kept exit code is gone with the stop.
    await runtime.start(id);
    expect((await engine.services.inspect(id))?.labels).not.toHaveProperty(LABEL.lastExit);
  });

  it('counts a task Swarm replaced after it failed as a restart, with the exit code of the last', async () => {
    const d = deployment('exit 4', { restart: 'on-failure:1' });
    const id = await runtime.create(d, 'busybox:1.36', `${app}-v${d.version}`, []);
    await runtime.start(id);
    // Swarm makes the replacement at once, but starts it after its restart delay (5 s by default); the policy
    // allows one attempt, after which the service stays exited.
    let state = await runtime.inspect(id);
    for (let i = 0; i < 80 && !(state?.restartCount === 1 && state.status === 'exited'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      state = await runtime.inspect(id);
    }
    expect(state).toMatchObject({
      running: false,
      status: 'exited',
      restartCount: 1,
      exitCode: 4,
      error: 'task: non-zero exit (4)',
    });
    const tasks = await engine.services.tasks(id);
    expect(tasks.map((t) => [t.state, t.exitCode])).toEqual([
      ['failed', 4],
      ['failed', 4],
    ]);
  });

  it('a watch reports its task starting (healthy, with a health command), and destroy when the service is removed', async () => {
    const d = deployment('exec sleep 60', {
      healthCheck: { path: null, port: null, timeoutMs: 1, intervalMs: 1, settleMs: 1, command: 'true' },
    });
    const id = await runtime.create(d, 'busybox:1.36', `${app}-v${d.version}`, []);
    const events: string[] = [];
    const watch = await runtime.watch(id, (e) => events.push(e.action));
    try {
      await runtime.start(id);
      expect(await runtime.inspect(id)).toMatchObject({ running: true, health: 'healthy' });
      for (let i = 0; i < 40 && !events.includes('health_status: healthy'); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(events).toEqual(['start', 'health_status: healthy']);
      await runtime.remove(id);
      for (let i = 0; i < 40 && !events.includes('destroy'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(events).toEqual(['start', 'health_status: healthy', 'destroy']);
    } finally {
      watch.close();
    }
  });

  it('refuses settings a service cannot carry yet, and makes no service', async () => {
    // Published by the service itself (proxy false): behind the front door, the door binds the address instead.
    const d = deployment('exec sleep 60', { proxy: false, ports: [portMapping(18080, 80, '127.0.0.1')] });
    await expect(runtime.create(d, 'busybox:1.36', `${app}-v${d.version}`, [])).rejects.toThrow(
      /cannot carry these settings of .*port 127\.0\.0\.1:18080:80/,
    );
    expect(await engine.services.list({ [LABEL.id]: d.id })).toEqual([]);
  });
});
