/**
 * A Swarm app behind the front door, through the CLI (main(argv) in-process) pointed at the manager of a real
 * 2-node swarm (test/helpers/swarm.ts), with a registry on the host's address of the swarm's network so that the
 * tasks spread over both nodes. The door (and its relay, on the manager's host network: the manager's namespace)
 * owns the app's port; the services publish nothing and sit on the door's overlay network. Every switch runs
 * under bounded keep-alive load on the manager's address (reached from here over the namespace's veth), and every
 * failed request is counted.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { TaskInfo } from '../../src/adapters/docker/engine/types.js';
import { DOOR_NAMES, swarmNetworkOf } from '../../src/core/door.js';
import { LABEL } from '../../src/core/names.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import { upstreamHost } from '../../src/core/front-door.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, type CliResult } from '../helpers/cli.js';
import { webApp } from '../helpers/git-repo.js';
import { load, type Outcome } from '../helpers/load.js';
import { startRegistry, type Registry } from '../helpers/registry.js';
import { startSwarm, type Swarm } from '../helpers/swarm.js';
import { workspace } from '../helpers/workspace.js';

let swarm: Swarm | undefined;
let engine: Engine | undefined;
let registry: Registry | undefined;
const w = workspace();
const figures: string[] = [];

beforeAll(async () => {
  swarm = await startSwarm({ nodes: 2 });
  // The door's image is built on the manager from the base the set-up keeps offline (the workers need none).
  execFileSync('sh', ['-c', `docker save node:24-slim | docker -H ${swarm.manager.url} load -q`], { stdio: 'ignore' });
  engine = await Engine.connect({ url: swarm.manager.url, source: 'test' });
  registry = await startRegistry({ address: swarm.hostAddress });
}, 240_000);

afterAll(async () => {
  engine?.close();
  registry?.stop();
  await swarm?.stop();
  w.remove();
  process.stderr.write(`swarm door figures: ${figures.join('; ')}\n`);
}, 120_000);

/** Writes the app's health CGI (GET /cgi-bin/health answers STATUS), then serves /www, logging each request. */
function startScript(status: '200 OK' | '500 Internal Server Error'): string {
  return [
    'mkdir -p /www/cgi-bin',
    `printf '#!/bin/sh\\nprintf "Status: ${status}\\\\r\\\\nContent-Type: text/plain\\\\r\\\\n\\\\r\\\\nhealth\\\\n"\\n' > /www/cgi-bin/health`,
    'chmod +x /www/cgi-bin/health',
    'echo "starting on 8080"',
    'exec httpd -f -vv -p 8080 -h /www',
    '',
  ].join('\n');
}

function failures(outcomes: readonly Outcome[]): string[] {
  return outcomes.filter((o) => o.error !== null).map((o) => o.error as string);
}

function bodies(outcomes: readonly Outcome[]): string[] {
  return [...new Set(outcomes.map((o) => o.body).filter((b): b is string => b !== null))].sort();
}

async function runningTasks(serviceId: string): Promise<TaskInfo[]> {
  return (await engine!.services.tasks(serviceId)).filter((t) => t.desiredState === 'running' && t.state === 'running');
}

async function answer(port: number, path = '/'): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(`http://${swarm!.manager.address}:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: res.status, body: (await res.text()).trim() };
  } catch {
    return null;
  }
}

describe('a 2-replica Swarm app behind the front door', () => {
  const app = w.newApp('swd');
  const repo = w.newRepo();
  const port = 18_000 + Math.floor(Math.random() * 2000);
  const deployJson = () => ({
    app,
    ports: [`${port}:8080`],
    proxy: true,
    runtime: 'swarm',
    replicas: 2,
    registry: registry!.host,
    bakeWindow: '0s',
    healthCheck: { path: '/cgi-bin/health', interval: '250ms', timeout: '15s' },
  });
  const commit = (body: string, status: '200 OK' | '500 Internal Server Error' = '200 OK') =>
    repo.commit(body, webApp(body, { start: startScript(status), deployJson: deployJson() }));
  const run = (...args: string[]): Promise<CliResult> =>
    cli(['-H', swarm!.manager.url, ...args], {
      cwd: repo.dir,
      env: { ...w.env, DOCKER_CONFIG: registry!.loggedIn() },
    });
  /** Runs the command under load on the manager's address; the outcomes of every request. */
  const underLoad = async (what: string, ...args: string[]): Promise<{ r: CliResult; outcomes: Outcome[] }> => {
    const l = load(port, { clients: 6, maxMs: 120_000, host: swarm!.manager.address });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const began = Date.now();
    const r = await run(...args);
    const tookMs = Date.now() - began;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outcomes = await l.stop();
    figures.push(`${what}: ${failures(outcomes).length} failed of ${outcomes.length} (${tookMs} ms)`);
    return { r, outcomes };
  };
  let current: PublicRecord | undefined;

  it('deploy: the service publishes nothing, its tasks (one per node) sit on the door overlay; the door routes it', async () => {
    commit('one');
    const r = await run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    current = r.json<PublicRecord>();
    expect(current).toMatchObject({ status: 'running', runtime: 'service', config: { replicas: 2 } });
    const service = await engine!.services.inspect(current.workload as string);
    expect(service?.spec.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(service?.spec.TaskTemplate.Networks).toEqual([
      expect.objectContaining({ Target: expect.any(String), Aliases: [upstreamHost(current)] }),
    ]);
    const overlay = await engine!.networks.inspect(swarmNetworkOf(DOOR_NAMES));
    expect(overlay).toMatchObject({ driver: 'overlay' });
    const running = await runningTasks(current.workload as string);
    expect(new Set(running.map((t) => t.nodeId))).toEqual(new Set(swarm!.nodes.map((n) => n.nodeId)));
    // The door joined the overlay (and its own bridge).
    const door = JSON.parse(await swarm!.manager.docker('inspect', DOOR_NAMES.container)) as Array<{
      NetworkSettings: { Networks: Record<string, unknown> };
    }>;
    expect(Object.keys(door[0]!.NetworkSettings.Networks).sort()).toEqual(
      [DOOR_NAMES.network, swarmNetworkOf(DOOR_NAMES)].sort(),
    );
    expect(await answer(port)).toEqual({ status: 200, body: 'one' });

    const status = await run('status', app, '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(status.json())).toMatch(/"frontDoor":\{"routed":true/);
  });

  it('a deploy of the next commit under load: no request fails, the new release answers', async () => {
    commit('two');
    const { r, outcomes } = await underLoad('redeploy', 'deploy', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(failures(outcomes)).toEqual([]);
    expect(bodies(outcomes)).toEqual(['one', 'two']);
    const next = r.json<PublicRecord>();
    expect(next).toMatchObject({ runtime: 'service', config: { replicas: 2 } });
    expect(await engine!.services.inspect(current!.workload as string)).toBeNull();
    expect(await runningTasks(next.workload as string)).toHaveLength(2);
    current = next;
  });

  it('restart under load: a new service of the same release beside the old one, switched to; no request fails', async () => {
    const { r, outcomes } = await underLoad('restart', 'restart', app, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(failures(outcomes)).toEqual([]);
    expect(bodies(outcomes)).toEqual(['two']);
    const inspected = await run('inspect', app, '--json');
    const after = inspected.json<PublicRecord>();
    expect(after).toMatchObject({ id: current!.id, status: 'running' });
    expect(after.workload).not.toBe(current!.workload);
    expect(await engine!.services.inspect(current!.workload as string)).toBeNull();
    const service = await engine!.services.inspect(after.workload as string);
    expect(service?.name).toBe(`${app}-v${current!.version}-${current!.id}-r1`);
    expect(service?.spec.TaskTemplate.Networks?.[0]?.Aliases).toEqual([`${app}-${current!.id}-r1`]);
    expect(await runningTasks(after.workload as string)).toHaveLength(2);
    current = after;
  });

  it('rollback under load (to v1: its recorded image behind the same gate): no request fails', async () => {
    const { r, outcomes } = await underLoad('rollback', 'rollback', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(failures(outcomes)).toEqual([]);
    expect(bodies(outcomes)).toEqual(['one', 'two']);
    current = r.json<PublicRecord>();
    expect(await answer(port)).toEqual({ status: 200, body: 'one' });
  });

  it('a release whose health path answers 500 never receives a request; the old one serves throughout', async () => {
    commit('bad', '500 Internal Server Error');
    const { r, outcomes } = await underLoad('failing deploy', 'deploy', '--yes', '--json');
    expect(r.code, r.stdout).toBe(EXIT_CODES.health_failed);
    expect(failures(outcomes)).toEqual([]);
    expect(bodies(outcomes)).toEqual(['one']);
    const ls = await run('ls', '--app', app, '--all', '--json');
    expect(JSON.stringify(ls.json())).toMatch(/"status":"failed"/);
    expect(await runningTasks(current!.workload as string)).toHaveLength(2);
  });

  it('scale 3 then 1 under load: it keeps serving', async () => {
    const up = await underLoad('scale 2→3', 'scale', app, '3');
    expect(up.r.code, up.r.stderr).toBe(0);
    expect(await runningTasks(current!.workload as string)).toHaveLength(3);
    const down = await underLoad('scale 3→1', 'scale', app, '1');
    expect(down.r.code, down.r.stderr).toBe(0);
    expect(await runningTasks(current!.workload as string)).toHaveLength(1);
    // Swarm drops a task's DNS record when it stops it; the door's pooled connections to it may be cut: measured.
    expect(bodies([...up.outcomes, ...down.outcomes])).toEqual(['one']);
    expect(await answer(port)).toEqual({ status: 200, body: 'one' });
  });

  it('stop: the door answers 503 and no task runs; start: it serves again', async () => {
    let r = await run('stop', app, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect((await answer(port))?.status).toBe(503);
    expect(await runningTasks(current!.workload as string)).toHaveLength(0);
    r = await run('start', app);
    expect(r.code, r.stderr).toBe(0);
    expect(await answer(port)).toEqual({ status: 200, body: 'one' });
    expect(await runningTasks(current!.workload as string)).toHaveLength(1);
  });

  it('rollback inside the bake window: a swap back, no request fails', async () => {
    commit('three');
    const v = await run('deploy', '--set', 'bakeWindow=60s', '--yes', '--json');
    expect(v.code, v.stderr).toBe(0);
    const { r, outcomes } = await underLoad('rollback in the bake window', 'rollback', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(failures(outcomes)).toEqual([]);
    expect(r.json<PublicRecord>().id).toBe(current!.id);
    expect(await answer(port)).toEqual({ status: 200, body: 'one' });
  });

  it('deploy proxy restart under load: the new door joins the overlay before it answers; no request fails', async () => {
    const { r, outcomes } = await underLoad('proxy restart', 'proxy', 'restart', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(failures(outcomes)).toEqual([]);
    expect(bodies(outcomes)).toEqual(['one']);
    const door = JSON.parse(await swarm!.manager.docker('inspect', DOOR_NAMES.container)) as Array<{
      NetworkSettings: { Networks: Record<string, unknown> };
    }>;
    expect(Object.keys(door[0]!.NetworkSettings.Networks)).toContain(swarmNetworkOf(DOOR_NAMES));
  });

  it('destroy removes the services and the route', async () => {
    const r = await run('destroy', app, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await engine!.services.list({ [LABEL.app]: app })).toEqual([]);
  });
});
