/**
 * An app on a swarm without a registry, with the worker's Docker endpoint given in `nodes`, through the CLI
 * (main(argv) in-process) on a real 2-node swarm of the harness (test/helpers/swarm.ts): the image built on the
 * manager is streamed into the worker's engine, and the tasks run on both nodes. An endpoint that is not a node of
 * the swarm is refused before anything is built. A task that a node refuses for its image during the health gate is
 * reported as that (the node and the image), not as an exit. And what the issue asks of every app: `ls`, `stats`,
 * `sync` and the lock work for a Swarm app.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { TaskInfo } from '../../src/adapters/docker/engine/types.js';
import { LABEL } from '../../src/core/names.js';
import { startSwarm, type Swarm, type SwarmNode } from '../helpers/swarm.js';
import { commitWebApp, inspectAfterSync, workspace, type Workspace } from '../helpers/workspace.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import type { UsageRow } from '../../src/core/usage.js';

let swarm: Swarm | undefined;
let manager: Engine | undefined;
let worker: Engine | undefined;
let workerNode: SwarmNode | undefined;
let w: Workspace | undefined;
const timings: string[] = [];

beforeAll(async () => {
  swarm = await startSwarm({ nodes: 2 });
  manager = await Engine.connect({ url: swarm.manager.url, source: 'test' });
  workerNode = swarm.nodes.find((n) => !n.manager);
  worker = await Engine.connect({ url: workerNode!.url, source: 'test' });
  w = workspace();
}, 180_000);

afterAll(async () => {
  manager?.close();
  worker?.close();
  w?.remove();
  await swarm?.stop();
  process.stderr.write(`swarm nodes timings: ${timings.join(', ')}\n`);
}, 120_000);

interface Record {
  id: string;
  version: number;
  status: string;
  image: string;
  imageId: string;
  workload: string | null;
  config: { nodes: string[]; replicas: number };
}

async function runningTasks(serviceId: string): Promise<TaskInfo[]> {
  return (await manager!.services.tasks(serviceId)).filter(
    (t) => t.desiredState === 'running' && t.state === 'running',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An engine endpoint (a unix socket) that passes every call to `socket` but answers an image load as a full disk. */
async function refusingLoads(socket: string): Promise<{ url: string; refused(): number; close(): Promise<void> }> {
  const path = join(mkdtempSync(join(tmpdir(), 'deploy-full-')), 'docker.sock');
  let refused = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && /\/images\/load/.test(req.url ?? '')) {
      req.resume();
      req.on('end', () => {
        refused++;
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message: 'write /var/lib/docker/tmp/docker-import: no space left on device' }));
      });
      return;
    }
    const up = request({ socketPath: socket, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    url: `unix://${path}`,
    refused: () => refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dirname(path), { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

describe("no registry, the worker's endpoint in nodes", () => {
  let app = '';
  let repo: ReturnType<Workspace['newRepo']>;
  const run = (...args: string[]) => w!.run(repo.dir, '-H', swarm!.manager.url, ...args);
  let first: Record | undefined;

  beforeAll(() => {
    app = w!.newApp('swn');
    repo = w!.newRepo();
    commitWebApp(repo, app, 0, {
      deployJson: { ports: [], healthCheck: { path: null }, runtime: 'swarm', nodes: [workerNode!.url] },
    });
  });

  it('deploy --replicas 2: the image is streamed into the worker, a task runs on each node; the lock is held meanwhile', async () => {
    const began = Date.now();
    const deploying = run('deploy', '--replicas', '2', '--json');
    // The app's lock lives on the manager's engine while the deploy runs (another store sees it held).
    const other = workspace();
    let heldSeen = false;
    try {
      while (!heldSeen && Date.now() - began < 60_000) {
        const s = await other.run(repo.dir, '-H', swarm!.manager.url, 'lock', 'status', app, '--json');
        heldSeen = s.code === 0 && (s.json<{ held: boolean }>().held as boolean);
        if (!heldSeen) await sleep(100);
      }
    } finally {
      other.remove();
    }
    const r = await deploying;
    timings.push(`deploy with a node ${Date.now() - began} ms`);
    expect(r.code, r.stderr).toBe(0);
    expect(heldSeen).toBe(true);
    expect(r.stderr).toContain(`Node ${workerNode!.name}: Copied ${r.json<Record>().image} from ${swarm!.manager.url}`);
    first = r.json<Record>();
    expect(first).toMatchObject({ status: 'running', config: { nodes: [workerNode!.url], replicas: 2 } });

    // The worker's engine has the very image (same id, same tag) the manager built.
    expect((await worker!.images.inspect(first.image))?.id).toBe(first.imageId);
    const service = await manager!.services.inspect(first.workload as string);
    // Both nodes hold it: no constraint left (with a third node, it would be excluded by node.id!=).
    expect(service?.spec.TaskTemplate.Placement?.Constraints ?? []).toEqual([]);
    const running = await runningTasks(first.workload as string);
    expect(running).toHaveLength(2);
    expect(new Set(running.map((t) => t.nodeId))).toEqual(new Set(swarm!.nodes.map((n) => n.nodeId)));

    const lock = await run('lock', 'status', app, '--json');
    expect(lock.json()).toMatchObject({ held: false });
  });

  it('ls and stats count it running; a store rebuilt by sync knows it and its nodes', async () => {
    const ls = await run('ls', '--app', app, '--json');
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.json<Array<{ id: string; status: string }>>()).toMatchObject([{ id: first!.id, status: 'running' }]);
    const stats = await run('stats', '--app', app, '--json');
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.stringify(stats.json())).toMatch(/"successful":1,"failed":0,"running":1,"stopped":0/);

    expect(await inspectAfterSync(repo.dir, swarm!.manager.url, app)).toMatchObject({
      id: first!.id,
      status: 'running',
      runtime: 'service',
      config: { nodes: [workerNode!.url] },
    });
  });

  it("stats --now: each task's CPU, memory and network, read on its own node (the worker through nodes)", async () => {
    const r = await run('stats', '--app', app, '--now', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = r.json<UsageRow[]>();
    const service = (await manager!.services.inspect(first!.workload as string))!.name;
    expect(new Set(rows.map((x) => x.node))).toEqual(new Set(swarm!.nodes.map((n) => n.name)));
    // One row per task, SERVICE.SLOT@NODE: slots 1 and 2.
    for (const x of rows) expect(x.name).toMatch(new RegExp(`^${service}\\.[12]@${x.node}$`));
    expect(new Set(rows.map((x) => x.name.slice(service.length, service.length + 2)))).toEqual(new Set(['.1', '.2']));
    for (const x of rows) {
      expect(x).toMatchObject({ app, deployment: first!.id, note: null });
      // A running busybox httpd: some memory, and the bytes of the overlay network's own chatter at least.
      expect(x.usage?.memoryBytes).toBeGreaterThan(0);
      expect(x.usage?.cpuPercent).toBeGreaterThanOrEqual(0);
    }
  });

  it('redeploy: the worker has the image already, nothing is sent; the new tasks run on both nodes', async () => {
    const r = await run('redeploy', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Copied|Loading/);
    const d = r.json<Record>();
    expect(d).toMatchObject({ version: 2, status: 'running' });
    const running = await runningTasks(d.workload as string);
    expect(new Set(running.map((t) => t.nodeId))).toEqual(new Set(swarm!.nodes.map((n) => n.nodeId)));
    expect(await manager!.services.inspect(first!.workload as string)).toBeNull();
  });

  it('an endpoint that is not a node of the swarm (the host engine, in none) is refused before a build (exit 8)', async () => {
    const before = (await run('ls', '--app', app, '--all', '--json')).stdout;
    const r = await run('deploy', '--set', 'nodes=unix:///var/run/docker.sock', '--json');
    expect(r.code, r.stderr).toBe(8);
    const e = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    expect(e.error).toMatchObject({
      code: 'config',
      message: `${app}'s nodes name unix:///var/run/docker.sock, which is not a node of the swarm ${swarm!.manager.url} manages: its engine is in no swarm.`,
    });
    expect(e.error.hint).toContain(`lists ${swarm!.nodes.map((n) => n.name).join(', ')}`);
    expect((await run('ls', '--app', app, '--all', '--json')).stdout).toBe(before);
  });

  it('a node that cannot load the image: the release fails naming it (exit 10), the previous release serves on', async () => {
    // A stand-in for the worker's engine that refuses every image load as a full disk does (a fault this machine
    // cannot make for real on one node); everything else it passes to the worker's engine.
    const full = await refusingLoads(workerNode!.socket);
    try {
      commitWebApp(repo, app, 0, {
        body: 'three',
        deployJson: { ports: [], healthCheck: { path: null }, runtime: 'swarm', nodes: [full.url] },
      });
      const serving = (await run('inspect', app, '--json')).json<Record>();
      const r = await run('deploy', '--json');
      expect(r.code, r.stderr).toBe(10);
      const e = JSON.parse(r.stdout) as {
        error: { code: string; message: string; hint: string; details: { nodes: string[]; image: string } };
      };
      expect(e.error.code).toBe('start_failed');
      expect(e.error.details.nodes).toEqual([workerNode!.name]);
      expect(e.error.message).toMatch(
        new RegExp(
          `could not start: node ${workerNode!.name} \\(${full.url}\\) could not load the image deploy/${app}:.*no space left on device`,
        ),
      );
      expect(e.error.message).toContain(`${app} v${serving.version} (${serving.id}) is still serving`);
      expect(e.error.hint).toMatch(/leave it out of nodes .* or set a registry/);
      expect(full.refused()).toBeGreaterThan(0);
      // The previous release serves on, both its tasks; the new one is recorded failed and has no service.
      expect(await runningTasks(serving.workload as string)).toHaveLength(2);
      const records = (await run('ls', '--app', app, '--all', '--json')).json<
        Array<{ version: number; status: string }>
      >();
      expect(records[0]).toMatchObject({ version: serving.version + 1, status: 'failed' });
      expect(await manager!.services.list({ [LABEL.app]: app })).toHaveLength(1);
    } finally {
      await full.close();
    }
  });

  it('destroy removes the service', async () => {
    const r = await run('destroy', app, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await manager!.services.list({ [LABEL.app]: app })).toEqual([]);
  });
});

describe('stats --now of tasks on a node it cannot reach (pulled from a registry, no nodes given)', () => {
  let registry: Registry | undefined;
  let wr: Workspace | undefined;
  beforeAll(async () => {
    registry = await startRegistry({ address: swarm!.hostAddress });
    wr = workspace({ DOCKER_CONFIG: registry.loggedIn() });
  });
  afterAll(() => {
    wr?.remove();
    registry?.stop();
  });

  it("reads the manager's task, and says of the worker's where to give its endpoint; fits 80 columns", async () => {
    const app = wr!.newApp('sws');
    const repo = wr!.newRepo();
    commitWebApp(repo, app, 0, {
      deployJson: { ports: [], healthCheck: { path: null }, runtime: 'swarm', replicas: 2, registry: registry!.host },
    });
    const run = (...args: string[]) => wr!.run(repo.dir, '-H', swarm!.manager.url, ...args);
    const deployed = await run('deploy', '--json');
    expect(deployed.code, deployed.stderr).toBe(0);
    const r = await run('stats', '--app', app, '--now', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = r.json<UsageRow[]>();
    const onManager = rows.find((x) => x.node === swarm!.manager.name);
    const onWorker = rows.find((x) => x.node === workerNode!.name);
    expect(onManager).toMatchObject({ note: null, usage: { memoryBytes: expect.any(Number) as number } });
    expect(onWorker).toMatchObject({
      usage: null,
      note: `on node ${workerNode!.name}: give its endpoint in \`nodes\` to see its figures`,
    });

    const plain = await run('stats', '--app', app, '--now');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain(`  on node ${workerNode!.name}: give its endpoint in \`nodes\``);
    for (const line of plain.stdout.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);

    // Given the worker's endpoint now (config set), its task's figures are read too.
    expect((await run('config', 'set', 'nodes=' + workerNode!.url, '--app', app)).code).toBe(0);
    const both = (await run('stats', '--app', app, '--now', '--json')).json<UsageRow[]>();
    expect(both.every((x) => x.usage !== null && x.note === null)).toBe(true);
    expect((await run('destroy', app, '--yes')).code).toBe(0);
  });
});

describe('stats --now of an app that runs as a container', () => {
  it('one row, its container', async () => {
    const app = w!.newApp('swk');
    const repo = w!.newRepo();
    commitWebApp(repo, app, 0, { deployJson: { ports: [], healthCheck: { path: null } } });
    const run = (...args: string[]) => w!.run(repo.dir, '-H', swarm!.manager.url, ...args);
    const d = (await run('deploy', '--json')).json<Record & { containerName: string }>();
    const r = await run('stats', '--app', app, '--now', '--json');
    expect(r.code, r.stderr).toBe(0);
    const rows = r.json<UsageRow[]>();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ app, deployment: d.id, name: `${app}-v1-${d.id}`, node: null, note: null });
    expect(rows[0]?.usage?.memoryBytes).toBeGreaterThan(0);
    expect((await run('destroy', app, '--yes')).code).toBe(0);
  });
});

/** Once the app's service has a task running for a second, places it on the worker (which lacks its image). */
async function moveToWorkerOnceRunning(app: string): Promise<boolean> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [service] = await manager!.services.list({ [LABEL.app]: app });
    const tasks = service ? await runningTasks(service.id) : [];
    const since = tasks[0]?.stateSince ?? null;
    if (service && since !== null && Date.now() - since > 1000) {
      const spec = structuredClone(service.spec);
      spec.TaskTemplate.Placement = { Constraints: [`node.id==${workerNode!.nodeId}`] };
      await manager!.services.update(service.id, service.version, spec);
      return true;
    }
    await sleep(100);
  }
  return false;
}

describe('a task a node refuses for its image during the health gate', () => {
  it('fails the release naming the node and the image (exit 10), not as an exit', async () => {
    const app = w!.newApp('swg');
    const repo = w!.newRepo();
    // No nodes: the image is on the manager only. The gate watches the tasks for 20 s.
    commitWebApp(repo, app, 0, {
      deployJson: { ports: [], healthCheck: { path: null, settle: '20s' }, runtime: 'swarm' },
    });
    const deploying = w!.run(repo.dir, '-H', swarm!.manager.url, 'deploy', '--json');
    // Once its task has run for a second (the start is over, the gate is watching), the service is moved to the
    // worker, as someone changing it by hand would: the worker has no such image and refuses the new task.
    expect(await moveToWorkerOnceRunning(app)).toBe(true);
    const r = await deploying;
    expect(r.code, r.stderr).toBe(10);
    const e = JSON.parse(r.stdout) as {
      error: { code: string; message: string; hint: string; details: { nodes: string[]; image: string } };
    };
    expect(e.error.code).toBe('start_failed');
    expect(e.error.details.nodes).toEqual([workerNode!.name]);
    expect(e.error.details.image).toMatch(new RegExp(`^deploy/${app}:[a-z0-9]+$`));
    expect(e.error.message).toContain(`node ${workerNode!.name} could not get the image deploy/${app}:`);
    expect(e.error.message).not.toMatch(/exited/);
    expect(e.error.hint).toMatch(/deploy config set nodes=/);
    // Nothing serves: the record is failed with that reason, and its service is gone.
    const ls = await w!.run(repo.dir, '-H', swarm!.manager.url, 'ls', '--app', app, '--all', '--json');
    expect(ls.json<Array<{ status: string }>>()).toMatchObject([{ status: 'failed' }]);
    expect(await manager!.services.list({ [LABEL.app]: app })).toEqual([]);
  });

  it("behind the front door (the door's gate), the same: the node and the image, exit 10", async () => {
    // The door's image is built on the manager from the base the set-up keeps offline.
    execFileSync('sh', ['-c', `docker save node:24-slim | docker -H ${swarm!.manager.url} load -q`], {
      stdio: 'ignore',
    });
    const app = w!.newApp('swd');
    const repo = w!.newRepo();
    // Its health path never answers, so the door's gate waits (40 s at most) while the service is moved.
    commitWebApp(repo, app, 0, {
      deployJson: {
        ports: ['18093:8080'],
        proxy: true,
        healthCheck: { path: '/missing', timeout: '40s' },
        runtime: 'swarm',
      },
    });
    const deploying = w!.run(repo.dir, '-H', swarm!.manager.url, 'deploy', '--json');
    expect(await moveToWorkerOnceRunning(app)).toBe(true);
    const r = await deploying;
    expect(r.code, r.stderr).toBe(10);
    const e = JSON.parse(r.stdout) as { error: { code: string; message: string; details: { nodes: string[] } } };
    expect(e.error.code).toBe('start_failed');
    expect(e.error.details.nodes).toEqual([workerNode!.name]);
    expect(e.error.message).toContain(`node ${workerNode!.name} could not get the image deploy/${app}:`);
  }, 120_000);
});
