/**
 * What a person sees of an app on a swarm, through the CLI (main(argv) in-process) on a real 2-node swarm of the
 * harness (test/helpers/swarm.ts) with a real registry the nodes pull from (test/helpers/registry.ts on the host's
 * address on the swarm's network): `status`/`inspect` list the tasks per node, `logs` prefixes each line with its
 * task and node (and `-f` follows every task, until the service is gone), and a node that cannot get a release's
 * image is named. That node is made real: its network namespace gets a route that makes the registry unreachable
 * from it (as a firewall between a node and the registry would), so its dockerd's pull fails for real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { TaskInfo } from '../../src/adapters/docker/engine/types.js';
import { startSwarm, type Swarm } from '../helpers/swarm.js';
import { commitWebApp, workspace, type Workspace } from '../helpers/workspace.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import type { TempRepo } from '../helpers/git-repo.js';
import { cli } from '../helpers/cli.js';
import type { TaskView } from '../../src/core/tasks.js';

let swarm: Swarm | undefined;
let engine: Engine | undefined;
let registry: Registry | undefined;
let w: Workspace | undefined;

beforeAll(async () => {
  swarm = await startSwarm({ nodes: 2 });
  engine = await Engine.connect({ url: swarm.manager.url, source: 'test' });
  registry = await startRegistry({ address: swarm.hostAddress });
}, 180_000);

afterAll(async () => {
  engine?.close();
  registry?.stop();
  w?.remove();
  await swarm?.stop();
}, 120_000);

/** A task as status and inspect --json show it. */
type TaskJson = TaskView;

async function runningTasks(serviceId: string): Promise<TaskInfo[]> {
  return (await engine!.services.tasks(serviceId)).filter((t) => t.desiredState === 'running' && t.state === 'running');
}

const waitFor = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('an app of 2 tasks on 2 nodes, as a person sees it', () => {
  let app = '';
  let repo: TempRepo;
  let serviceId = '';
  let serviceName = '';
  let deploymentId = '';
  const run = (...args: string[]) => w!.run(repo.dir, '-H', swarm!.manager.url, ...args);
  const deployJson = () => ({
    ports: [],
    healthCheck: { path: null },
    registry: registry!.host,
    runtime: 'swarm',
    replicas: 2,
  });

  beforeAll(() => {
    w = workspace({ DOCKER_CONFIG: registry!.loggedIn() });
    app = w.newApp('swv');
    repo = w.newRepo();
    commitWebApp(repo, app, 0, { deployJson: deployJson() });
  });

  it('deploy --replicas 2: status and inspect show a task on each node, running, desired against running', async () => {
    const r = await run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<{ id: string; version: number; workload: string }>();
    deploymentId = d.id;
    serviceId = d.workload;
    serviceName = `${app}-v1-${d.id}`;
    const running = await runningTasks(serviceId);
    expect(running).toHaveLength(2);
    const hostnames = swarm!.nodes.map((n) => n.name).sort();

    const status = await run('status', app, '--json');
    expect(status.code, status.stderr).toBe(0);
    const [s] = status.json<Array<{ tasks: TaskJson[]; replicas: unknown }>>();
    expect(s?.replicas).toEqual({
      desired: 2,
      running: 2,
      nodes: hostnames.map((node) => ({ node, desired: 1, running: 1 })),
    });
    expect(s?.tasks.map((t) => t.node).sort()).toEqual(hostnames);
    for (const t of s?.tasks ?? []) {
      expect(t).toMatchObject({ state: 'running', desiredState: 'running', error: '', exitCode: null });
      expect(running.map((x) => x.id.slice(0, 12))).toContain(t.id);
      expect(t.id).toHaveLength(12);
      expect(Date.parse(t.since ?? '')).toBeGreaterThan(Date.now() - 120_000);
    }

    const inspect = await run('inspect', app, '--json');
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(
      inspect
        .json<{ tasks: TaskJson[] }>()
        .tasks.map((t) => t.node)
        .sort(),
    ).toEqual(hostnames);

    // For a person, in a terminal of 80 columns: the table, then the tasks under it, no line wider.
    const human = await cli(['-H', swarm!.manager.url, 'status', app], {
      cwd: repo.dir,
      env: w!.env,
      tty: true,
      columns: 80,
    });
    expect(human.code, human.stderr).toBe(0);
    // eslint-disable-next-line no-control-regex
    const plain = human.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    // Wrapped, when too wide, at the dot before the nodes.
    expect(plain).toMatch(/2 of 2 tasks running(?: ·|\n) +per node: /);
    for (const h of hostnames) expect(plain).toMatch(new RegExp(`\\b${h}\\s+running\\s+running\\b`));
    for (const line of plain.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    const inspectHuman = await run('inspect', app);
    expect(inspectHuman.stdout).toMatch(/Tasks\n {2}2 of 2 tasks running/);
  });

  it('logs: every line prefixed TASK@NODE as the docker CLI does; --json has task and node; --tail per task', async () => {
    const tasks = await runningTasks(serviceId);
    const nodeName = new Map(swarm!.nodes.map((n) => [n.nodeId, n.name]));
    const prefixes = tasks.map((t) => `${serviceName}.${t.slot}.${t.id.slice(0, 12)}@${nodeName.get(t.nodeId)}`);

    const logs = await run('logs', app);
    expect(logs.code, logs.stderr).toBe(0);
    for (const p of prefixes) {
      expect(logs.stdout).toContain(`${p} | starting on 8080\n`);
      expect(logs.stderr).toContain(`${p} | to stderr\n`);
    }

    const json = await run('logs', app, '--json', '--tail', '1');
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { task: string; node: string; message: string; stream: string });
    // The last line of each task.
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => `${l.task}@${l.node}`).sort()).toEqual([...prefixes].sort());

    // Ctrl-C ends a follow at once, exit 0, the lines so far printed.
    const ctrlC = new AbortController();
    const following = cli(['-H', swarm!.manager.url, 'logs', app, '-f'], {
      cwd: repo.dir,
      env: w!.env,
      signal: ctrlC.signal,
    });
    await new Promise((r) => setTimeout(r, 1000));
    const abortedAt = Date.now();
    ctrlC.abort();
    const followed = await following;
    expect(followed.code, followed.stderr).toBe(0);
    expect(Date.now() - abortedAt).toBeLessThan(500);
    for (const p of prefixes) expect(followed.stdout).toContain(`${p} | starting on 8080\n`);

    const since = await run('logs', app, '--since', new Date(Date.now() + 60_000).toISOString());
    expect(since.code, since.stderr).toBe(0);
    expect(since.stdout).toBe('');
  });

  it('a node that cannot pull the new image: the deploy fails naming it and the image, the old release serves', async () => {
    const worker = swarm!.nodes.find((n) => !n.manager)!;
    // The worker's network loses its way to the registry (the manager, which pushes, keeps it).
    execFileSync('ip', ['-n', worker.name, 'route', 'add', 'unreachable', `${swarm!.hostAddress}/32`]);
    try {
      commitWebApp(repo, app, 0, { body: 'two', deployJson: deployJson() });
      const r = await run('deploy', '--json');
      expect(r.code, r.stderr).toBe(10);
      const e = JSON.parse(r.stdout) as {
        error: { code: string; message: string; hint: string; details: { nodes: string[]; image: string } };
      };
      expect(e.error.code).toBe('start_failed');
      expect(e.error.details.nodes).toEqual([worker.name]);
      expect(e.error.details.image).toMatch(new RegExp(`^${registry!.host}/${app}@sha256:`));
      expect(e.error.message).toContain(`node ${worker.name} could not get the image ${e.error.details.image}`);
      expect(e.error.hint).toMatch(new RegExp(`pulls it from ${registry!.host}.*drain`));

      // v1 serves on: its service and its 2 tasks, untouched; v2 is recorded failed with that reason.
      expect(await runningTasks(serviceId)).toHaveLength(2);
      const ls = await run('ls', '--app', app, '--all', '--json');
      const records = ls.json<Array<{ version: number; status: string; error: { message: string } | null }>>();
      expect(records.find((x) => x.version === 1)?.status).toBe('running');
      const v2 = records.find((x) => x.version === 2);
      expect(v2?.status).toBe('failed');
      expect(v2?.error?.message).toContain(`node ${worker.name} could not get the image`);
      const status = await run('status', app, '--json');
      expect(status.json<Array<{ deployment: { id: string } }>>()[0]?.deployment.id).toBe(deploymentId);
    } finally {
      execFileSync('ip', ['-n', worker.name, 'route', 'del', 'unreachable', `${swarm!.hostAddress}/32`]);
    }
  });

  it('logs -f follows every task, one started meanwhile too, until the service is gone', async () => {
    const follow = run('logs', app, '-f');
    // The initial lines of both tasks are read before the scale.
    await new Promise((r) => setTimeout(r, 1500));
    const scaled = await run('scale', app, '3');
    expect(scaled.code, scaled.stderr).toBe(0);
    const third = (await runningTasks(serviceId)).find((t) => t.slot === 3);
    expect(third).toBeDefined();
    await new Promise((r) => setTimeout(r, 2000));
    const status = await run('status', app, '--json');
    expect(status.json<Array<{ replicas: { desired: number; running: number } }>>()[0]?.replicas).toMatchObject({
      desired: 3,
      running: 3,
    });
    const began = Date.now();
    const destroyed = await run('destroy', app, '--yes');
    expect(destroyed.code, destroyed.stderr).toBe(0);
    let ended = false;
    void follow.then(() => (ended = true));
    await waitFor('logs -f to end once the service is gone', () => ended, 15_000);
    const f = await follow;
    expect(f.code, f.stderr).toBe(0);
    process.stderr.write(`logs -f ended ${Date.now() - began} ms after destroy began\n`);
    const nodeName = new Map(swarm!.nodes.map((n) => [n.nodeId, n.name]));
    expect(f.stdout).toContain(
      `${serviceName}.3.${third!.id.slice(0, 12)}@${nodeName.get(third!.nodeId)} | starting on 8080\n`,
    );
    expect(new Set(f.stdout.match(/\.\d\.[a-z0-9]{12}@/g)).size).toBe(3);
  });
});
