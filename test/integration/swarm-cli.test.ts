/**
 * `--runtime swarm`, `replicas` and `deploy scale` through the CLI (main(argv) in-process, as a user runs it) on a
 * real 2-node swarm of the harness (test/helpers/swarm.ts), the CLI pointed at its manager with -H. Without a
 * `registry` the image is on the manager only, so the tasks are placed on the manager's node (said in the record
 * of the service's placement). And on the host's engine, which is in no swarm: the refusal naming docker swarm init.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { TaskInfo } from '../../src/adapters/docker/engine/types.js';
import { LABEL } from '../../src/core/names.js';
import { containersOf } from '../helpers/docker.js';
import { execFileSync } from 'node:child_process';
import { startSwarm, type Swarm } from '../helpers/swarm.js';
import { commitWebApp, inspectAfterSync, workspace } from '../helpers/workspace.js';
import { cli } from '../helpers/cli.js';
import { startRegistry, type Registry } from '../helpers/registry.js';

let swarm: Swarm | undefined;
let engine: Engine | undefined;
const w = workspace();
const timings: string[] = [];

beforeAll(async () => {
  swarm = await startSwarm({ nodes: 2 });
  engine = await Engine.connect({ url: swarm.manager.url, source: 'test' });
}, 180_000);

afterAll(async () => {
  engine?.close();
  await swarm?.stop();
  w.remove();
  process.stderr.write(`swarm cli timings: ${timings.join(', ')}\n`);
}, 120_000);

interface Record {
  id: string;
  app: string;
  version: number;
  status: string;
  runtime: string;
  workload: string | null;
  containerId?: string | null;
  config: { runtime: string; replicas: number };
}

/** The app's service tasks that Swarm wants running and that run, with the node each is on. */
async function runningTasks(serviceId: string): Promise<TaskInfo[]> {
  const tasks = await engine!.services.tasks(serviceId);
  return tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');
}

describe('an app on a swarm, through the CLI', () => {
  const app = w.newApp('sw');
  const repo = w.newRepo();
  // No published port (a service publishes on every address of a node; the health check settles instead).
  beforeAll(() => commitWebApp(repo, app, 0, { deployJson: { ports: [], healthCheck: { path: null } } }));
  const run = (...args: string[]) => w.run(repo.dir, '-H', swarm!.manager.url, ...args);
  let serviceId = '';

  it('deploy --runtime swarm --replicas 2: a Swarm service running 2 tasks, the record says so', async () => {
    const began = Date.now();
    const r = await run('deploy', '--runtime', 'swarm', '--replicas', '2', '--json');
    timings.push(`deploy ${Date.now() - began} ms`);
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<Record>();
    expect(d).toMatchObject({ app, status: 'running', runtime: 'service', config: { runtime: 'swarm', replicas: 2 } });
    expect(d).not.toHaveProperty('containerId');
    serviceId = d.workload as string;
    const service = await engine!.services.inspect(serviceId);
    expect(service).toMatchObject({ name: `${app}-v1-${d.id}`, replicas: 2 });
    expect(service?.labels[LABEL.id]).toBe(d.id);
    const running = await runningTasks(serviceId);
    expect(running).toHaveLength(2);
    // No registry: the image is on the manager, which built it, and the tasks are placed there.
    expect(new Set(running.map((t) => t.nodeId))).toEqual(new Set([swarm!.manager.nodeId]));
    expect(service?.spec.TaskTemplate.Placement?.Constraints).toEqual([`node.id==${swarm!.manager.nodeId}`]);

    // ls and status read the service's state from the manager (not a missing container).
    const ls = await run('ls', '--json');
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.stringify(ls.json())).toContain(`"status":"running"`);
    const status = await run('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(status.json())).toContain(d.id);
    expect(JSON.stringify(status.json())).not.toMatch(/exited|gone/);
  });

  it('scale 3 then 1: the tasks follow and the record keeps the count', async () => {
    let r = await run('scale', app, '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ runtime: 'service', from: 2, config: { replicas: 3 } });
    expect(await runningTasks(serviceId)).toHaveLength(3);

    r = await run('scale', app, '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/runs 1 task \(was 3\)/);
    expect(await runningTasks(serviceId)).toHaveLength(1);
    expect((await engine!.services.inspect(serviceId))?.replicas).toBe(1);
    const inspect = await run('inspect', app, '--json');
    expect(inspect.json()).toMatchObject({ config: { replicas: 1 } });
  });

  it('stop: no task runs, the record is stopped; start: back to the recorded count', async () => {
    await run('scale', app, '2');
    let r = await run('stop', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: 'stopped' });
    expect(await runningTasks(serviceId)).toHaveLength(0);
    expect((await engine!.services.inspect(serviceId))?.replicas).toBe(0);

    r = await run('start', app, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: 'running', config: { replicas: 2 } });
    expect(await runningTasks(serviceId)).toHaveLength(2);
  });

  it("logs read every task's output; restart replaces the tasks; a store rebuilt by sync knows the service", async () => {
    const logs = await run('logs', app);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout.match(/starting on 8080/g)?.length).toBeGreaterThanOrEqual(2);

    const before = new Set((await runningTasks(serviceId)).map((t) => t.id));
    const restarted = await run('restart', app, '--yes');
    expect(restarted.code, restarted.stderr).toBe(0);
    const after = await runningTasks(serviceId);
    expect(after).toHaveLength(2);
    expect(after.some((t) => before.has(t.id))).toBe(false);

    // Another machine's store, empty: sync --all adopts the app from the service's record label.
    expect(await inspectAfterSync(repo.dir, swarm!.manager.url, app)).toMatchObject({
      status: 'running',
      runtime: 'service',
      workload: serviceId,
    });
  });

  it('redeploy keeps the scaled count: a new service with 2 tasks, the old one removed', async () => {
    const r = await run('redeploy', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<Record>();
    expect(d).toMatchObject({ version: 2, status: 'running', runtime: 'service', config: { replicas: 2 } });
    expect(await engine!.services.inspect(serviceId)).toBeNull();
    serviceId = d.workload as string;
    expect(await runningTasks(serviceId)).toHaveLength(2);
  });

  it('a move to containers without --yes is refused (exit 5, naming --yes), nothing recorded', async () => {
    const before = (await run('ls', '--app', app, '--all', '--json')).stdout;
    const r = await run('deploy', '--runtime', 'containers');
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`Moving ${app} from runtime swarm to containers asks for confirmation`));
    expect(r.stderr).toMatch(/--yes/);
    expect((await run('ls', '--app', app, '--all', '--json')).stdout).toBe(before);
    expect(await runningTasks(serviceId)).toHaveLength(2);
  });

  it('scale of an app that runs as a container is refused', async () => {
    const other = w.newApp('swc');
    const otherRepo = w.newRepo();
    commitWebApp(otherRepo, other, 0, { deployJson: { ports: [], healthCheck: { path: null } } });
    const deployed = await w.run(otherRepo.dir, '-H', swarm!.manager.url, 'deploy', '--json');
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.json()).toMatchObject({ runtime: 'container' });
    const r = await w.run(otherRepo.dir, '-H', swarm!.manager.url, 'scale', other, '2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/runs as one container \(runtime containers\): only a Swarm service scales/);
  });

  it('destroy removes the service', async () => {
    const r = await run('destroy', app, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await engine!.services.inspect(serviceId)).toBeNull();
  });
});

describe("an app with a registry on a swarm: the nodes pull it with the app's credentials", () => {
  let registry: Registry | undefined;
  beforeAll(async () => {
    registry = await startRegistry({ address: swarm!.hostAddress });
  });
  afterAll(() => registry?.stop());

  it('deploy --runtime swarm --replicas 2: pushed, the service names it by digest, a task on each node', async () => {
    const app = w.newApp('swr');
    const repo = w.newRepo();
    commitWebApp(repo, app, 0, {
      deployJson: { ports: [], healthCheck: { path: null }, registry: registry!.host },
    });
    const env = { ...w.env, DOCKER_CONFIG: registry!.loggedIn() };
    const began = Date.now();
    const r = await cli(['-H', swarm!.manager.url, 'deploy', '--runtime', 'swarm', '--replicas', '2', '--json'], {
      cwd: repo.dir,
      env,
    });
    timings.push(`deploy through the registry ${Date.now() - began} ms`);
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<Record & { imageDigest: string }>();
    const service = await engine!.services.inspect(d.workload as string);
    expect(service?.spec.TaskTemplate.ContainerSpec.Image).toBe(`${registry!.host}/${app}@${d.imageDigest}`);
    expect(service?.spec.TaskTemplate.Placement?.Constraints ?? []).toEqual([]);
    const running = await runningTasks(d.workload as string);
    expect(running).toHaveLength(2);
    // Swarm spreads the replicas: the worker pulled the image from the registry with the credentials sent.
    expect(new Set(running.map((t) => t.nodeId))).toEqual(new Set(swarm!.nodes.map((n) => n.nodeId)));
    const destroyed = await cli(['-H', swarm!.manager.url, 'destroy', app, '--yes'], { cwd: repo.dir, env });
    expect(destroyed.code, destroyed.stderr).toBe(0);
  });
});

describe('runtime swarm on an engine in no swarm (the host engine)', () => {
  it('is refused before anything is built or recorded, naming docker swarm init (exit 8)', async () => {
    const app = w.newApp('swno');
    const repo = w.newRepo();
    commitWebApp(repo, app, 0, { deployJson: { ports: [], healthCheck: { path: null } } });
    const r = await w.run(repo.dir, '-H', 'unix:///var/run/docker.sock', 'deploy', '--runtime', 'swarm', '--json');
    expect(r.code).toBe(8);
    const e = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    expect(e.error.code).toBe('config');
    expect(e.error.message).toBe(
      `${app} is set to run on a swarm (runtime swarm), but the engine is not part of a swarm.`,
    );
    expect(e.error.hint).toMatch(/docker swarm init/);
    const ls = await w.run(repo.dir, 'ls', '--all', '--json');
    expect(JSON.stringify(ls.json())).not.toContain(app);
    const images = execFileSync('docker', ['images', '-q', '--filter', `reference=deploy/${app}`], {
      encoding: 'utf8',
    });
    expect(images.trim()).toBe('');
    expect(containersOf(app)).toEqual([]);
  });
});
