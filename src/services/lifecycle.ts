import { runtimeFor } from '../adapters/runtime/runtime-for.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { planTarget, type ActionPlan } from '../core/action-plan.js';
import { DeployError } from '../core/errors.js';
import { containerName } from '../core/names.js';
import { CURRENT_STATUSES, type Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { engineFor } from './engines.js';
import { chooseGate, startGated } from './health.js';
import { secretValues } from './keep-logs.js';
import { planGate, servingNow } from './planning.js';
import { currentDeployment } from './current.js';
import { trafficFor } from './traffic/traffic.js';
import { createAppContainer } from './volumes.js';
import { releaseImageOn } from './release-image.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { holdAndDrain, resumeRoute, routeNew } from './traffic/door-steps.js';
import { restartBehindDoor } from './service-restart.js';

export type LifecycleAction = 'stop' | 'start' | 'restart';

export interface LifecycleResult {
  deployment: Deployment;
  changed: boolean;
  message: string;
}

function who(d: Deployment): string {
  return `${d.app} v${d.version} (${d.id})`;
}

/** Is the deployment's container really running? null when it has none. */
export async function containerRunning(ctx: Context, d: Deployment): Promise<boolean | null> {
  if (!d.containerId || !CURRENT_STATUSES.includes(d.status)) return null;
  const engine = await engineFor(ctx, d.endpoint);
  const state = await runtimeFor(engine, d).inspect(d.containerId);
  return state ? state.running : null;
}

/**
 * What stop / start / restart would do to a deployment; `noop` says when there is nothing to do. `running`
 * is what the engine says of its container, so a record that says "running" over a dead container is
 * started, not declared already running.
 */
export async function planLifecycle(
  ctx: Context,
  engine: Engine,
  action: LifecycleAction,
  d: Deployment,
  running: boolean | null,
): Promise<ActionPlan> {
  const current = currentDeployment(ctx, d.app);
  let noop: string | null = null;
  let serving: string;
  if (action === 'stop') {
    if (d.status === 'stopped') noop = `${who(d)} is already stopped.`;
    else if (d.status !== 'running' && d.status !== 'exited')
      noop = `${who(d)} is not running (${d.status}); nothing to stop.`;
    const v = `v${d.version} (${d.id})`;
    serving =
      d.status === 'exited'
        ? `${v} exited on its own; it is recorded as stopped (deploy start brings it back)`
        : `${v} stops; nothing serves ${d.app} until: deploy start ${d.app}`;
  } else {
    if (!CURRENT_STATUSES.includes(d.status)) {
      throw new DeployError(
        'usage',
        `${who(d)} is ${d.status}: only the app's current deployment can be ${action === 'start' ? 'started' : 'restarted'}.`,
        {
          hint: current
            ? `To run it again, roll back to it: deploy rollback ${d.app} --to ${d.id}`
            : `To run it again: deploy redeploy ${d.id}`,
        },
      );
    }
    if (action === 'start' && d.status === 'running' && running === true) noop = `${who(d)} is already running.`;
    serving =
      action === 'restart'
        ? routedByFrontDoor(d.config) && d.runtime === 'service'
          ? `a new service of v${d.version} (${d.id}) starts beside it (same image and settings); the front door moves traffic to it once its check passes, and the old one drains and goes`
          : routedByFrontDoor(d.config)
            ? `v${d.version} (${d.id}) restarts in place (same image and settings); the front door holds new requests meanwhile`
            : `v${d.version} (${d.id}) restarts in place (same image and settings); down while it restarts`
        : `v${d.version} (${d.id}) starts again (same image and settings, no build)`;
  }
  const image = { how: 'existing' as const, ref: d.image, imageId: d.imageId };
  return {
    action,
    app: d.app,
    title: `${action[0]?.toUpperCase()}${action.slice(1)} ${d.app}@v${d.version} (${d.id})`,
    endpoint: d.endpoint,
    target: d,
    source: d,
    newVersion: null,
    image,
    config: d.config,
    overrides: d.overrides,
    current: servingNow(current),
    commitRange: null,
    gate: action === 'stop' || noop ? null : await planGate(engine, null, image, null, d.config),
    serving,
    switchStrategy: null,
    changes: [],
    changesAgainst: null,
    noop,
    warnings: [],
  };
}

/**
 * The deployment's container, made again from its image and snapshot when it was removed (or never
 * survived an engine reset). Returns its id.
 */
async function ensureContainer(
  ctx: Context,
  engine: Engine,
  d: Deployment,
): Promise<{ id: string; recreated: boolean }> {
  if (d.containerId) {
    const state = await runtimeFor(engine, d).inspect(d.containerId);
    if (state) return { id: state.id, recreated: false };
  }
  const image = d.imageId ?? d.image;
  // Pulled from the app's registry (by digest) when the engine lost it; else it must be built again.
  if (!image || !(await releaseImageOn(ctx, engine, d))) {
    throw new DeployError(
      'image_gone',
      `The container of ${who(d)} is gone, and so is its image ${d.image ?? ''}; it cannot be made again.`,
      {
        hint: `Build it again: deploy redeploy ${d.id} --no-cache`,
      },
    );
  }
  const name = d.containerName ?? containerName(d.app, d.version, d.id);
  await runtimeFor(engine, d).remove(name);
  ctx.reporter.step(`Recreating ${name} from ${d.image ?? image}`);
  const id = await createAppContainer(ctx, engine, d, d.image ?? image, name);
  ctx.store().updateDeployment(d.id, { containerId: id, containerName: name });
  ctx.store().addEvent(d.id, ctx.now(), 'recreated', `container was gone; made again from ${d.image ?? image}`);
  return { id, recreated: true };
}

/** Starts or restarts the container and waits for its gate; the record follows what really happened. */
async function bringUp(ctx: Context, engine: Engine, d: Deployment, restart: boolean): Promise<Deployment> {
  const store = ctx.store();
  const r = ctx.reporter;
  const { id, recreated } = await ensureContainer(ctx, engine, d);
  const image = await releaseImageOn(ctx, engine, d);
  const target = chooseGate(
    d.config,
    image?.hasHealthcheck ?? false,
    engine.endpoint.url,
    image?.healthcheckIntervalMs ?? null,
  );
  const runtime = runtimeFor(engine, d);
  const routed = routedByFrontDoor(d.config);
  const secrets = secretValues(store, d);
  // A Swarm release behind the door restarts as a new service beside the old one, switched to like a release.
  const beside = routed && restart && !recreated && d.runtime === 'service';
  if (!beside) r.step(`${restart && !recreated ? 'Restarting' : 'Starting'} ${d.containerName ?? id.slice(0, 12)}`);
  try {
    if (beside) {
      await restartBehindDoor(ctx, engine, { ...d, containerId: id }, target, secrets);
      await resumeRoute(engine, d.app);
    } else {
      // Behind the door, a restart holds the app's new requests (up to its health timeout) instead of refusing them.
      if (routed && restart && !recreated)
        await holdAndDrain(engine, d.app, d.config.healthCheck.timeoutMs, d.config.drainTimeoutMs);
      await startGated(ctx, runtime, d, id, target, { restart: restart && !recreated, secrets });
      if (routed) {
        await routeNew(ctx, engine, { ...d, containerId: id }, id, secrets);
        await resumeRoute(engine, d.app);
      }
    }
  } catch (error) {
    // Held requests are let through (to whatever answers) rather than kept waiting for a release that failed.
    if (routed) await resumeRoute(engine, d.app).catch(() => undefined);
    if (!(error instanceof DeployError)) throw error;
    if (error.code === 'interrupted') {
      throw new DeployError(
        'interrupted',
        `Interrupted while ${who(d)} was starting; it was left as the engine has it.`,
        { hint: `See: deploy inspect ${d.id}`, cause: error },
      );
    }
    if (error.code !== 'health_failed') throw error;
    const state = await runtime.inspect(id);
    // Not running after a start it was asked for: it died on its own (exited), it was not stopped on purpose. After
    // a restart beside, the new service is gone and the one that served serves on.
    const status = beside || state?.running ? 'running' : 'exited';
    store.updateDeployment(
      d.id,
      status === 'exited' ? { status, exitCode: state?.exitCode ?? null, exitedAt: ctx.now() } : { status },
    );
    store.addEvent(d.id, ctx.now(), 'unhealthy', error.message.replace(/^.*? failed its health check: /, ''));
    throw new DeployError(
      'health_failed',
      `${error.message.replace(' failed its health check', ` ${restart ? 'restarted' : 'started'} but failed its health check`)}.`,
      {
        hint: `See its output: deploy logs ${d.id}. To go back to an earlier release: deploy rollback ${d.app}`,
        cause: error,
      },
    );
  }
  store.updateDeployment(d.id, { status: 'running' });
  store.addEvent(d.id, ctx.now(), restart ? 'restarted' : 'started', restart ? 'restarted in place' : 'started again');
  store.setCurrent(d.app, d.id, ctx.now());
  return store.getDeployment(d.id) as Deployment;
}

/**
 * Carries out a stop / start / restart plan on the engine the deployment lives on, under the app's lock (taken by
 * the caller before the plan was made, so the plan is of the app as it is).
 */
export async function applyLifecycle(
  ctx: Context,
  engine: Engine,
  plan: ActionPlan,
  { holdMs = 0 }: { holdMs?: number } = {},
): Promise<LifecycleResult> {
  const d = planTarget(plan);
  if (plan.noop) return { deployment: d, changed: false, message: plan.noop };
  const store = ctx.store();
  if (plan.action === 'stop') {
    ctx.reporter.step(`Stopping ${d.containerName ?? d.id}`);
    await trafficFor(d.config).withdraw(ctx, engine, d, holdMs);
    store.updateDeployment(d.id, { status: 'stopped' });
    store.addEvent(d.id, ctx.now(), 'stopped', 'stopped on request');
    ctx.reporter.done(`Stopped ${who(d)}`);
    return {
      deployment: store.getDeployment(d.id) as Deployment,
      changed: true,
      message: `${who(d)} is stopped. Start it again with: deploy start ${d.id}`,
    };
  }
  const up = await bringUp(ctx, engine, d, plan.action === 'restart');
  return { deployment: up, changed: true, message: `${who(up)} is running.` };
}
