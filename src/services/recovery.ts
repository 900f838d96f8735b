import { imagesOn } from '../adapters/images/engine-local.js';
import { runtimeFor, runtimeOfKind, workloadsOn } from '../adapters/runtime/runtime-for.js';
import { stopGraceSeconds } from '../core/container-spec.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { machineId, processAlive } from '../adapters/machine.js';
import { isDeployError } from '../core/errors.js';
import { isUnproven, LABEL } from '../core/names.js';
import { eventsToRead, planRecovery, restartCurrent } from '../core/recovery-plan.js';
import { IN_PROGRESS, type Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { endpointForUrl } from './engines.js';
import { keepLogs } from './keep-logs.js';
import { retireReplaced } from './retire.js';
import { settleBaked } from './baked.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { withLock } from './lock.js';
import { doorBackTo } from './traffic/door-steps.js';
import { currentDeployment } from './current.js';

/** How long after an engine failed to answer a leftover container on it is left for a later command. */
const LEFTOVER_RETRY_MS = 60_000;

function who(d: Deployment): string {
  return `${d.app} v${d.version} (${d.id})`;
}

function markInterrupted(ctx: Context, d: Deployment, why: string): void {
  const message = `interrupted while ${d.status}: ${why}`;
  ctx.store().updateDeployment(d.id, {
    status: 'interrupted',
    worker: null,
    finishedAt: ctx.now(),
    error: { code: 'interrupted', message },
  });
  ctx.store().addEvent(d.id, ctx.now(), 'interrupted', message);
}

/**
 * Deployments whose process on this machine is gone (kill -9, a crash): one in progress is marked interrupted at
 * once, from the store alone; one that already serves (killed while retiring the one it replaced) keeps serving,
 * and is left to the engine-side clean-up. Returns them all.
 */
function markDeadWorkers(ctx: Context): Deployment[] {
  const here = machineId();
  const store = ctx.store();
  const dead = store.working().filter((d) => d.worker && d.worker.machine === here && !processAlive(d.worker.pid));
  for (const d of dead) {
    if (IN_PROGRESS.includes(d.status)) markInterrupted(ctx, d, `its process (pid ${d.worker?.pid}) died`);
    else {
      store.updateDeployment(d.id, { worker: null, finishedAt: ctx.now() });
      store.addEvent(
        d.id,
        ctx.now(),
        'orphaned',
        `its process (pid ${d.worker?.pid}) died before the deployment it replaced was retired`,
      );
    }
  }
  return dead;
}

/**
 * Cleans up after interrupted and failed deployments of an app on an engine, as planRecovery decides
 * (core/recovery-plan.ts). Run under the app's lock, so any deployment still "in progress" there has no process
 * working on it: it is marked interrupted; a container it left is removed (its logs kept first) with its
 * never-served image; and the app's current deployment, if the interrupted switch-over had stopped it, is started
 * again. Returns what it did, in words.
 */
export async function recoverApp(ctx: Context, engine: Engine, app: string): Promise<string[]> {
  const store = ctx.store();
  const url = engine.endpoint.url;
  const done: string[] = [];
  const inProgress = store.list({ app, statuses: IN_PROGRESS });
  const interruptedOrFailed = store.list({ app, statuses: ['interrupted', 'failed'] });
  const events = new Map(
    eventsToRead({ endpoint: url, inProgress, interruptedOrFailed }).map((id) => [
      id,
      store.events(id).map((e) => e.type),
    ]),
  );
  const containers = await workloadsOn(engine, { [LABEL.app]: app });
  const named = containers.flatMap((c) =>
    isUnproven(c.name) && c.labels[LABEL.id] ? (store.getDeployment(c.labels[LABEL.id] as string) ?? []) : [],
  );
  const plan = planRecovery({
    endpoint: url,
    inProgress,
    interruptedOrFailed,
    events,
    containers,
    named,
    current: currentDeployment(ctx, app),
    runningOrStopped: store.list({ app, statuses: ['running', 'stopped'] }),
  });

  for (const action of plan.actions) {
    switch (action.kind) {
      case 'mark-interrupted': {
        const d = action.deployment;
        markInterrupted(ctx, d, action.why);
        done.push(`${who(d)} was left ${d.status}: marked interrupted`);
        break;
      }
      case 'note-recovered':
        store.addEvent(
          action.deployment.id,
          ctx.now(),
          'recovered',
          'the recovery saw to the deployment it was replacing',
        );
        break;
      case 'remove-container': {
        const d = action.deployment;
        await keepLogs(engine, store, d, ctx.now());
        await runtimeFor(engine, d).remove(d.containerId);
        if (action.image)
          await imagesOn(engine)
            .remove(action.image)
            .catch(() => false);
        store.updateDeployment(d.id, { containerId: null });
        store.addEvent(d.id, ctx.now(), 'cleaned', 'its container was removed by the recovery (logs kept)');
        done.push(
          `removed the container ${d.containerName ?? d.containerId.slice(0, 12)} of ${who(d)} (its logs are kept)`,
        );
        break;
      }
      case 'remove-unproven': {
        const { container: c, deployment: d } = action;
        if (d && action.keepLogs) await keepLogs(engine, store, { ...d, containerId: c.id }, ctx.now());
        await runtimeOfKind(engine, containers.find((w) => w.id === c.id)?.runtime ?? 'container').remove(c.id);
        if (d) {
          if (action.markInterrupted) markInterrupted(ctx, d, action.why);
          // A Swarm release's restart beside it (services/service-restart.ts) left unproven: the record keeps its own.
          if (d.containerId === null || d.containerId === c.id) store.updateDeployment(d.id, { containerId: null });
          store.addEvent(
            d.id,
            ctx.now(),
            'cleaned',
            'its container (never past its health gate) was removed by the recovery (logs kept)',
          );
        }
        done.push(`removed the container ${c.name}, which never passed its health gate${d ? ` (${who(d)})` : ''}`);
        break;
      }
      case 'door-to-current':
      case 'door-forget': {
        const said = await doorBackTo(engine, app, action.kind === 'door-to-current' ? action.deployment : null);
        if (said) done.push(said);
        break;
      }
      case 'make-current':
        store.setCurrent(app, action.deployment.id, ctx.now());
        break;
      case 'retire': {
        const { deployment: d, by: current } = action;
        await retireReplaced(ctx, engine, d, current, { how: 'retired by the recovery' });
        done.push(`retired ${who(d)}, which v${current.version} had replaced when its process died`);
        break;
      }
    }
  }
  const current = plan.current;
  if (current && plan.lookAt) {
    const restart = restartCurrent(await runtimeFor(engine, current).inspect(plan.lookAt), plan.stopsInFlight);
    if (restart === 'wait-then-start') {
      // Stopping it ourselves waits for the stop in flight; then it is started.
      await runtimeFor(engine, current).stop(plan.lookAt, stopGraceSeconds(current.config));
      await runtimeFor(engine, current).start(plan.lookAt);
      store.addEvent(
        current.id,
        ctx.now(),
        'restored',
        'started again once the interrupted switch-over had stopped it',
      );
      done.push(
        `started ${who(current)} again once the engine had finished stopping it for the interrupted switch-over`,
      );
    } else if (restart === 'start') {
      await runtimeFor(engine, current).start(plan.lookAt);
      store.addEvent(current.id, ctx.now(), 'restored', 'started again: an interrupted switch-over had stopped it');
      done.push(`started ${who(current)} again: the interrupted switch-over had stopped it`);
    }
  }
  return done;
}

/**
 * At the start of any command: finds deployments whose process died on this machine and cleans up after them
 * on their engines (under each app's lock). Best effort: an unreachable engine is reported, never fatal here.
 */
/** Kept releases (services/baked.ts) whose successor's bake window has ended. */
function keptDue(ctx: Context): Deployment[] {
  const store = ctx.store();
  return store.kept().filter((d) => {
    if (!routedByFrontDoor(d.config)) return false;
    const by = d.supersededBy ? store.getDeployment(d.supersededBy) : null;
    // One rolled back away from (a swap back) only drains: it is retired at once.
    return d.rolledBack || !by || by.status !== 'running' || (by.readyAt ?? 0) + by.config.bakeWindowMs <= ctx.now();
  });
}

export async function recoverDeadWorkers(ctx: Context): Promise<void> {
  const dead = markDeadWorkers(ctx);
  const r = ctx.reporter;
  for (const d of dead) r.warn(`Found ${who(d)} interrupted: its process died while it was ${d.status}.`);
  // A failed deployment whose container could not be removed (its engine went away mid-way) may be what answers
  // on the port now: cleaned up as soon as its engine answers again, by whatever command comes next. An engine a
  // reading command found silent a moment ago is not waited on again.
  const leftovers = ctx
    .store()
    .leftovers()
    .filter((d) => {
      const memo = ctx.store().engineCheck(d.endpoint);
      return !(
        memo.failedAt !== null &&
        (memo.answeredAt ?? 0) < memo.failedAt &&
        ctx.now() - memo.failedAt < LEFTOVER_RETRY_MS
      );
    });
  // Releases kept running behind the front door whose successor's bake window has ended: settled by whatever
  // command comes next (services/baked.ts), so the record says whether the door switched back.
  const due = keptDue(ctx).filter((d) => !leftovers.some((l) => l.app === d.app && l.endpoint === d.endpoint));
  if (dead.length === 0 && leftovers.length === 0 && due.length === 0) return;
  const apps = new Map([...dead, ...leftovers, ...due].map((d) => [`${d.app}\u0000${d.endpoint}`, d]));
  for (const d of apps.values()) {
    try {
      const engine = await ctx.engine(endpointForUrl(ctx, d.endpoint));
      const [done, settled] = await withLock(
        ctx,
        engine,
        d.app,
        'recovery after an interrupted deployment',
        async () => [await recoverApp(ctx, engine, d.app), await settleBaked(ctx, engine, d.app)],
      );
      for (const line of done) r.warn(`Recovered ${d.app}: ${line}.`);
      for (const line of settled) r.info(r.colors.dim(`${d.app}: ${line}.`));
    } catch (error) {
      if (isDeployError(error, 'docker_unreachable'))
        ctx.store().recordEngineCheck(d.endpoint, ctx.now(), error.message);
      r.warn(
        `Could not clean up after ${who(d)} on ${d.endpoint} now (${(error as Error).message}); the next command that reaches it will.`,
      );
    }
  }
}
