import { FrontDoorClient, type DoorStatus } from '../adapters/front-door/client.js';
import { DOOR_NAMES, routesTo } from '../core/door.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { urlsOf } from '../core/urls.js';
import { describeContainer } from '../core/observed.js';
import { DeployError } from '../core/errors.js';
import { formatPort } from '../core/ports.js';
import type { Deployment, Status } from '../core/types.js';
import type { Context } from '../context.js';
import { engineFor } from './engines.js';
import { reconcile } from './reconcile.js';
import { serviceTasks } from './tasks.js';
import type { TaskCounts, TaskView } from '../core/tasks.js';

/** One app as `deploy status` shows it: what should run, and what the engine says of it. */
export interface AppStatus {
  app: string;
  deployment: { id: string; version: number; kind: Deployment['kind']; commit: string; image: string | null } | null;
  /** The record's status, after comparing it with the engine. */
  status: Status | null;
  container: {
    name: string;
    /** running, paused, restarting (1), exited (137), created, dead, or gone. */
    state: string;
    exitCode: number | null;
    /** From the engine: healthy, unhealthy, starting, or none (the image has no HEALTHCHECK). */
    health: string;
    startedAt: string | null;
    /** While it runs: how long since it (last) started. */
    uptimeMs: number | null;
    restarts: number;
  } | null;
  ports: string[];
  url: string | null;
  /**
   * An app behind the front door: whether the door routes to this deployment now (null: the door did not answer),
   * its state there (active, paused, …), and what is wrong when it does not.
   */
  frontDoor: { routed: boolean | null; state: string | null; problem: string | null } | null;
  /** A Swarm service's tasks (each with its node and state) and desired against running, per node; null for a container. */
  tasks: TaskView[] | null;
  replicas: TaskCounts | null;
  endpoint: string;
  /** engine: seen just now; store: the engine did not answer in time (or someone is changing the app): as recorded. */
  source: 'engine' | 'store';
  checkedAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * `deploy status [APP]`: each app's current deployment and its container as the engine has it now (state,
 * health, uptime, restarts), after recording what changed outside the tool. Apps whose engine does not answer
 * in time are shown as the store has them (source: store), and the command says so.
 */
export async function appStatuses(ctx: Context, app?: string): Promise<AppStatus[]> {
  const store = ctx.store();
  if (app !== undefined && !store.getApp(app)) {
    throw new DeployError('not_found', `There is no app named ${app} in this store.`, {
      hint: `See the apps with: deploy status. One deployed from elsewhere shows after: deploy sync --app ${app}`,
    });
  }
  const seen = await reconcile(ctx, { app, inspect: true, askAgain: true });
  const stale = new Set([...seen.fromStore.map((s) => s.app), ...seen.busy.map((b) => b.app)]);
  const now = ctx.now();
  const rows: AppStatus[] = store.currentDeployments(app).map((d) => {
    const look = seen.seen.get(d.id);
    const state = look?.inspected;
    const summary = look?.summary ?? null;
    const running = state ? state.running && !state.restarting : summary?.state === 'running';
    const fromEngine = look !== undefined && !stale.has(d.app);
    const container: AppStatus['container'] = !fromEngine
      ? null
      : !summary
        ? {
            name: d.containerName ?? '-',
            state: 'gone',
            exitCode: d.exitCode,
            health: 'none',
            startedAt: null,
            uptimeMs: null,
            restarts: 0,
          }
        : {
            name: summary.name,
            state: describeContainer(
              state
                ? {
                    state: state.restarting ? 'restarting' : state.status,
                    exitCode: state.running ? null : state.exitCode,
                  }
                : summary,
            ),
            exitCode: state ? (state.running ? null : state.exitCode) : summary.exitCode,
            health: state?.health ?? 'none',
            startedAt: iso(state?.startedAt ?? null),
            uptimeMs: running && state?.startedAt ? Math.max(0, now - state.startedAt) : null,
            restarts: state?.restartCount ?? 0,
          };
    return {
      app: d.app,
      deployment: { id: d.id, version: d.version, kind: d.kind, commit: d.commit, image: d.image },
      status: d.status,
      container,
      ports: d.config.ports.map(formatPort),
      url: urlsOf(d)[0] ?? null,
      frontDoor: null,
      tasks: null,
      replicas: null,
      endpoint: d.endpoint,
      source: fromEngine ? 'engine' : 'store',
      checkedAt: iso(fromEngine ? now : d.checkedAt),
    };
  });
  const current = store.currentDeployments(app);
  await Promise.all([askFrontDoors(ctx, rows, current), askManagers(ctx, rows, current)]);
  if (app !== undefined && rows.length === 0) {
    rows.push({
      app,
      deployment: null,
      status: null,
      container: null,
      ports: [],
      url: null,
      frontDoor: null,
      tasks: null,
      replicas: null,
      endpoint: '-',
      source: 'store',
      checkedAt: null,
    });
  }
  return rows;
}

/** For the apps that run as Swarm services (seen on their engine just now), their tasks as the manager has them. */
async function askManagers(ctx: Context, rows: AppStatus[], current: Deployment[]): Promise<void> {
  const byApp = new Map(current.map((d) => [d.app, d]));
  await Promise.all(
    rows.map(async (r) => {
      const d = byApp.get(r.app);
      if (!d || r.source !== 'engine' || r.container?.state === 'gone') return;
      const report = await serviceTasks(ctx, d);
      if (report?.error === null) {
        r.tasks = report.tasks;
        r.replicas = report.counts;
      }
    }),
  );
}

/**
 * For the running apps the front door routes, what the door of their engine says (one command per engine): whether
 * it routes to the deployment the store has as current. A door that is gone or does not answer says so.
 */
async function askFrontDoors(ctx: Context, rows: AppStatus[], current: Deployment[]): Promise<void> {
  const routed = new Map(current.filter((d) => routedByFrontDoor(d.config)).map((d) => [d.app, d]));
  const asked = rows.filter((r) => routed.has(r.app) && r.source === 'engine' && r.container?.state === 'running');
  const endpoints = [...new Set(asked.map((r) => r.endpoint))];
  const answers = await Promise.all(
    endpoints.map(async (url) => {
      try {
        const engine = await engineFor(ctx, url);
        // Gone (removed outside the tool): nothing routes these apps; an empty answer says so below.
        if (!(await engine.containers.inspect(DOOR_NAMES.container))) return [url, 'gone'] as const;
        const all = await new FrontDoorClient(engine).status();
        return [url, new Map(all.apps.map((a) => [a.app, a]))] as const;
      } catch (error) {
        return [url, (error instanceof Error ? error.message : String(error)).replace(/\.$/, '')] as const;
      }
    }),
  );
  const byEndpoint = new Map<string, Map<string, DoorStatus> | string>(answers);
  for (const r of asked) {
    const d = routed.get(r.app) as Deployment;
    const door = byEndpoint.get(r.endpoint);
    if (door === 'gone') {
      r.frontDoor = { routed: false, state: null, problem: 'there is no front door on its engine' };
      continue;
    }
    if (typeof door === 'string' || door === undefined) {
      r.frontDoor = { routed: null, state: null, problem: `the front door did not answer: ${door ?? 'no answer'}` };
      continue;
    }
    const seen = door.get(r.app) ?? null;
    const routes = routesTo(seen, d);
    const address = (seen?.active as { address?: string } | null | undefined)?.address;
    r.frontDoor = {
      routed: routes,
      state: seen?.state ?? null,
      problem: routes
        ? null
        : !seen
          ? 'the front door has no route for it'
          : `the front door routes it to ${address ?? 'nothing'}`,
    };
  }
}
