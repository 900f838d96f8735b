import { FrontDoorClient } from '../adapters/front-door/client.js';
import { releaseUnusedPorts } from '../adapters/front-door/door-container.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { imagesOn } from '../adapters/images/engine-local.js';
import { runtimeOfKind, workloadsOn } from '../adapters/runtime/runtime-for.js';
import type { RuntimeKind } from '../adapters/runtime/runtime.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { Endpoint } from '../adapters/docker/endpoint.js';
import { DeployError, isDeployError } from '../core/errors.js';
import { LABEL } from '../core/names.js';
import { IN_PROGRESS, type Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { currentDeployment } from './current.js';
import { endpointOfApp } from './app-endpoint.js';
import { endpointForUrl } from './engines.js';
import { keepLogs } from './keep-logs.js';
import { describeHolder, readLock, stalenessHere, withLock } from './lock.js';
import { imagesOf } from './retention.js';

/** What destroy is asked to take away: the app, and with --forget its records, with --volumes its volumes. */
export type DestroyRequest = Pick<DestroyPlan, 'app' | 'forget' | 'removeVolumes'>;

/** What `deploy destroy APP` takes away, as data: shown before asking, printed by --dry-run. */
export interface DestroyPlan {
  app: string;
  endpoint: string;
  /** Its workloads: containers, and Swarm services (`runtime: 'service'`) on a manager. */
  containers: Array<{ id: string; name: string; state: string; deploymentId: string | null; runtime?: RuntimeKind }>;
  images: Array<{ id: string; tag: string }>;
  /** The app's lock on the engine: removed at the end (a live holder makes destroy refuse, exit 14). */
  lock: { present: boolean; holder: string | null; live: boolean };
  /** Names only: values (secrets above all) are never shown. */
  settings: { env: string[]; secrets: string[]; settings: string[] };
  records: number;
  /** --forget: the records (and their events and kept logs) go too; otherwise they stay as history. */
  forget: boolean;
  /** The app's volumes on the engine (found by label): kept, unless --volumes. Bind mounts' host paths are never touched. */
  volumes: string[];
  /** --volumes: the volumes go too (their data with them). */
  removeVolumes: boolean;
}

export interface DestroyResult {
  app: string;
  endpoint: string;
  removed: {
    containers: string[];
    images: string[];
    volumes: string[];
    lock: boolean;
    settings: number;
    records: number;
  };
  /** Volumes kept: all of them without --volumes; with it, those another container still uses (the engine refuses). */
  keptVolumes: string[];
  /** Images the engine refused to remove (another container or tag uses them). */
  keptImages: string[];
  /** The records kept as history (none with --forget). */
  history: number;
}

/**
 * The engine an app lives on: --context/--host when given, else its current (or newest) deployment's, else
 * its pinned endpoint or the usual choice.
 */
export function destroyEndpoint(ctx: Context, app: string): Endpoint {
  if (ctx.flags.context !== undefined || ctx.flags.host !== undefined) return endpointOfApp(ctx, app);
  const d = currentDeployment(ctx, app) ?? ctx.store().list({ app, limit: 1 })[0];
  return d ? endpointForUrl(ctx, d.endpoint) : endpointOfApp(ctx, app);
}

export function assertKnownApp(ctx: Context, app: string): void {
  if (ctx.store().getApp(app)) return;
  throw new DeployError('not_found', `There is no app named ${app} in this store; nothing was changed.`, {
    hint: `See the apps with: deploy status. An app deployed from elsewhere: deploy sync --app ${app}, then destroy it.`,
  });
}

/** Reads what destroying the app would take away. Changes nothing. */
export async function planDestroy(
  ctx: Context,
  engine: Engine,
  { app, forget, removeVolumes }: DestroyRequest,
): Promise<DestroyPlan> {
  const store = ctx.store();
  const [containers, images, held, volumes] = await Promise.all([
    workloadsOn(engine, { [LABEL.app]: app }),
    imagesOf(engine, app),
    readLock(engine, app),
    engine.volumes.list({ [LABEL.managed]: 'true', [LABEL.app]: app }),
  ]);
  const config = store.appConfig(app);
  return {
    app,
    endpoint: engine.endpoint.url,
    containers: containers
      .filter((c) => !c.labels[LABEL.lock])
      .map((c) => ({
        id: c.id,
        name: c.name,
        state: c.state,
        deploymentId: c.labels[LABEL.id] ?? null,
        ...(c.runtime === 'service' ? { runtime: c.runtime } : {}),
      })),
    images: images.map((i) => ({ id: i.id, tag: i.tags[0] ?? i.id })),
    lock: {
      present: held !== null,
      holder: held ? describeHolder(held.holder, ctx.now()) : null,
      live: held !== null && stalenessHere(held, ctx.now()) === null,
    },
    settings: {
      env: config.filter((c) => c.kind === 'env' && !c.secret).map((c) => c.key),
      secrets: config.filter((c) => c.kind === 'env' && c.secret).map((c) => c.key),
      settings: config.filter((c) => c.kind === 'setting').map((c) => c.key),
    },
    records: store.count({ app }),
    forget,
    volumes: volumes.map((v) => v.name),
    removeVolumes,
  };
}

/**
 * Tears the app down under its lock (refused, exit 14, while a live holder has it): its containers (their
 * logs kept with the records first, unless forgetting), its images, its stored settings, and at the end its
 * lock. Its records stay as history, none current any more, unless `forget`. Its volumes stay (their data with
 * them) unless `removeVolumes`, the only way the tool removes a volume.
 */
export async function applyDestroy(ctx: Context, engine: Engine, request: DestroyRequest): Promise<DestroyResult> {
  const { app, forget, removeVolumes } = request;
  const store = ctx.store();
  return withLock(ctx, engine, app, 'destroy', async () => {
    // Read again under the lock: what was planned may have changed while the question was asked.
    const plan = await planDestroy(ctx, engine, request);
    const result: DestroyResult = {
      app,
      endpoint: plan.endpoint,
      removed: { containers: [], images: [], volumes: [], lock: true, settings: 0, records: 0 },
      keptImages: [],
      keptVolumes: removeVolumes ? [] : [...plan.volumes],
      history: 0,
    };
    const records = new Map(store.list({ app }).map((d) => [d.id, d]));
    // Its route goes first (the door answers 404 for it, rather than 502 from a container being removed).
    if ([...records.values()].some((d) => routedByFrontDoor(d.config))) await forgetRoute(ctx, engine, app);
    for (const c of plan.containers) {
      const d = c.deploymentId ? records.get(c.deploymentId) : undefined;
      ctx.reporter.step(`Removing container ${c.name}`);
      if (d && !forget) await keepLogs(engine, store, { ...d, containerId: c.id }, ctx.now());
      await runtimeOfKind(engine, c.runtime ?? 'container').remove(c.id);
      result.removed.containers.push(c.name);
    }
    for (const i of plan.images) {
      ctx.reporter.step(`Removing image ${i.tag}`);
      if (await imagesOn(engine).remove(i.id)) result.removed.images.push(i.tag);
      else result.keptImages.push(i.tag);
    }
    // After the containers: the engine refuses to remove a volume a container still uses.
    if (removeVolumes) {
      for (const name of plan.volumes) {
        ctx.reporter.step(`Removing volume ${name}`);
        const outcome = await engine.volumes.remove(name);
        if (outcome === 'in-use') result.keptVolumes.push(name);
        else result.removed.volumes.push(name);
      }
    }
    store.transaction(() => {
      for (const d of records.values()) retireRecord(ctx, d, plan.endpoint);
    });
    const forgotten = store.forgetApp(app, forget);
    result.removed.settings = forgotten.settings;
    result.removed.records = forgotten.records;
    result.history = forget ? 0 : records.size;
    ctx.reporter.done(`Destroyed ${app} on ${plan.endpoint}`);
    return result;
  });
}

/** Removes the app's route from the engine's front door; a door that is not there has none. */
async function forgetRoute(ctx: Context, engine: Engine, app: string): Promise<void> {
  try {
    await new FrontDoorClient(engine).remove(app);
  } catch (error) {
    const said = (error as Error).message;
    if (!isDeployError(error, 'front_door') || /there is no such container/i.test(said)) return;
    // No route (its releases all failed their gate): its ports may still be listened on.
    if (!/no app named/i.test(said)) {
      ctx.reporter.warn(`The front door kept a route for ${app}: ${said}`);
      return;
    }
  }
  // Its host ports are let go of where no other route needs them.
  try {
    await releaseUnusedPorts(engine);
  } catch (error) {
    if (!isDeployError(error, 'front_door')) throw error;
    ctx.reporter.warn(`The front door still listens on ${app}'s ports: ${(error as Error).message}`);
  }
}

/** A record of a destroyed app: nothing of it runs any more, and it says why. */
function retireRecord(ctx: Context, d: Deployment, endpoint: string): void {
  const store = ctx.store();
  if (d.status === 'running' || d.status === 'exited' || d.status === 'stopped') {
    store.updateDeployment(d.id, { status: 'stopped', containerId: null });
    store.addEvent(d.id, ctx.now(), 'destroyed', `the app was destroyed on ${endpoint}: container and image removed`);
  } else if (IN_PROGRESS.includes(d.status)) {
    const message = 'the app was destroyed while this deployment was left in progress';
    store.updateDeployment(d.id, {
      status: 'interrupted',
      containerId: null,
      worker: null,
      finishedAt: ctx.now(),
      error: { code: 'interrupted', message },
    });
    store.addEvent(d.id, ctx.now(), 'interrupted', message);
  } else if (d.containerId !== null) {
    store.updateDeployment(d.id, { containerId: null });
  }
}
