import { imagesOn } from '../adapters/images/engine-local.js';
import { runtimeFor } from '../adapters/runtime/runtime-for.js';
import { stopGraceSeconds } from '../core/container-spec.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { ImageInfo } from '../adapters/docker/engine/types.js';
import { DeployError, reasonOf } from '../core/errors.js';
import { containerName, imageRef, unprovenName } from '../core/names.js';
import type { SwitchStrategy } from '../core/plan.js';
import { stepsOf, switchPlan } from '../core/switch-over.js';
import { formatPort } from '../core/ports.js';
import { redactValues } from '../core/redact.js';
import type { DeployConfig, Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { sanitize } from '../ui/sanitize.js';
import { engineFor } from './engines.js';
import { currentDeployment } from './current.js';
import { chooseGate, startGated } from './health.js';
import { keepLogs, secretValues } from './keep-logs.js';
import { retireReplaced } from './retire.js';
import type { Tracker } from './tracker.js';
import { routeBack, routeNew } from './traffic/door-steps.js';
import { runSwitchOver } from './traffic/run-switch-over.js';
import { ensureDoorNetwork } from '../adapters/front-door/door-container.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { DOOR_NAMES, routesTo } from '../core/door.js';
import { createAppContainer } from './volumes.js';

/** Log lines of a failed container shown under the error. */
const FAILED_TAIL = 15;

/**
 * The ports an image EXPOSEs that the app publishes nowhere, when it publishes none of them and joins no network of
 * its own (where other containers reach it unpublished): a hint, since a web app nobody can reach is a common slip.
 */
export function unpublishedPorts(config: DeployConfig, exposed: readonly string[]): string[] {
  if ((config.networks ?? []).length > 0) return [];
  const published = new Set(config.ports.map((p) => `${p.containerPort}/${p.protocol}`));
  if (exposed.some((e) => published.has(e))) return [];
  return exposed.filter((e) => e.endsWith('/tcp'));
}

/**
 * Runs an image as the deployment's container and switches the app over to it, as the switch-over plan says
 * (core/switch-over.ts): start (beside the old one, or after stopping it when they share a host port), pass the
 * health gate, then retire the old one. Any failure before the new one serves is undone as the plan says: the new
 * container removed and the old one serving.
 */
export async function release(
  ctx: Context,
  engine: Engine,
  tracker: Tracker,
  image: ImageInfo & { ref: string },
  strategy: SwitchStrategy,
): Promise<Deployment> {
  const store = ctx.store();
  const r = ctx.reporter;
  const d = tracker.deployment;
  const current = currentDeployment(ctx, d.app);
  const replaces = current && current.id !== d.id ? current : null;
  // The plan's decision (start-first, or stop-first when the old one holds the same host port), made once.
  // Behind the front door, traffic moves by a route step once the door's check passes (services/traffic/door-steps).
  const routed = routedByFrontDoor(d.config);
  const plan = switchPlan({
    strategy,
    replaces: !replaces ? 'nothing' : replaces.status === 'running' && replaces.containerId ? 'serving' : 'idle',
    routed,
  });
  const name = containerName(d.app, d.version, d.id);
  const secrets = secretValues(store, d);

  const target = chooseGate(d.config, image.hasHealthcheck, engine.endpoint.url, image.healthcheckIntervalMs ?? null);
  if (target.note) r.warn(`Health check: ${target.note}.`);
  const unpublished = unpublishedPorts(d.config, image.exposed ?? []);
  if (unpublished.length > 0) {
    const first = unpublished[0] as string;
    const port = first.replace(/\/tcp$/, '');
    r.info(
      `The image EXPOSEs ${unpublished.join(', ')}, which nothing publishes: to reach it from outside the engine, publish it (--port ${port}:${port}, or "ports" in deploy.json).`,
    );
  }

  const ports = d.config.ports.map(formatPort).join(', ');
  r.step(`Starting ${name}${ports ? (routed ? ` behind the front door (${ports})` : ` on ${ports}`) : ''}`);
  tracker.update(
    { status: 'starting', containerName: name },
    { type: 'starting', message: `creating container ${name}` },
  );

  let containerId: string | null = null;
  let oldEngine: Engine | null = null;
  /** The release the front door keeps for the bake window after the route step (its upstream address), if any. */
  let doorKept: string | null = null;
  try {
    oldEngine = replaces ? await engineFor(ctx, replaces.endpoint, engine) : null;
    // The plan names the old release's steps only when there is one (stop-old only when it runs with a container).
    const replaced = replaces && oldEngine ? { d: replaces, engine: oldEngine } : null;
    const old = () => {
      if (!replaced) throw new Error('the switch-over plan acts on a release it replaces, and there is none');
      return replaced;
    };
    await runSwitchOver(plan, {
      steps: {
        'stop-old': async () => {
          const o = old();
          r.step(`Stopping v${o.d.version} first: it holds ${o.d.config.ports.map(formatPort).join(', ')}`);
          // Recorded before the engine is asked: if this process dies now, the recovery knows a stop may be in flight.
          tracker.event('stopping-old', `stopping v${o.d.version} (${o.d.id}) to free its ports`);
          await runtimeFor(o.engine, o.d).stop(o.d.containerId as string, stopGraceSeconds(o.d.config));
          store.addEvent(o.d.id, ctx.now(), 'stopped', `stopped to free its ports for v${d.version}`);
        },
        'create-new': async () => {
          // Behind the door it joins the door's network at its creation (the door itself is made sure of when routing).
          // A Swarm service's tasks join its overlay network instead, on whichever node they run.
          if (routed) await ensureDoorNetwork(engine, DOOR_NAMES, { swarm: d.runtime === 'service' });
          // The tag is unique to its build and never moves, and reads better than an id in `docker ps`.
          const id = await createAppContainer(ctx, engine, d, image, unprovenName(name));
          // Recorded at once, so that a process killed during the stop leaves a container the recovery finds.
          containerId = id;
          tracker.update({ containerId: id });
        },
        'gate-new': async () => {
          const created = containerId as string;
          await startGated(ctx, runtimeFor(engine, d), d, created, target, {
            secrets,
            onStarted: () =>
              tracker.update(
                { startedAt: ctx.now() },
                { type: 'started', message: `container ${created.slice(0, 12)} started` },
              ),
          });
        },
        // Proven: the engine is told first (its name loses ".starting"), then the store, in one write retried while
        // another process holds the store; if either cannot be done, the switch is undone rather than left half told.
        'prove-new': async () => {
          await runtimeFor(engine, d).rename(containerId as string, name);
          await recordServing(ctx, tracker);
        },
        'route-new': async () => {
          const routedTo = await routeNew(ctx, engine, d, containerId as string, secrets);
          doorKept = routedTo.bakeUntil !== null ? routedTo.previous : null;
        },
        // Kept for the bake window only where the door kept it as its previous release (a door made again just
        // now, its saved routes lost, has nothing to switch back to: the old release is retired as without one).
        'retire-old': () =>
          routed &&
          old().d.config.proxy !== false &&
          d.config.bakeWindowMs > 0 &&
          routesTo({ active: { address: doorKept } }, old().d)
            ? keepForBake(ctx, old().d, d)
            : retire(ctx, old().engine, old().d, d, stepsOf(plan).includes('stop-old')),
      },
      compensations: {
        'route-old': () => routeBack(ctx, engine, d, replaces),
        'remove-new': () => removeNew(ctx, engine, tracker, containerId, secrets),
        'start-old': () => startOld(ctx, old(), d),
      },
      // The failure itself is reported once, where the command ends (main); the compensations say what it leaves.
      failed: () => r.stopSpinner(),
      // Ctrl-C between steps: what is done is undone now, within the 2 s the command has left, rather than after a
      // start and a health wait.
      interrupted: () =>
        ctx.signal.aborted
          ? new DeployError(
              'interrupted',
              `${d.app} v${d.version} (${d.id}) was interrupted before it became healthy`,
              { hint: 'Run the command again when ready.' },
            )
          : null,
      // The new deployment serves now, whatever happens to the old one: a failure to retire it is a warning.
      warn: (_step, error) => {
        const o = old().d;
        r.warn(
          `${d.app} v${d.version} serves, but v${o.version} (${o.id}) could not be retired: ${reasonOf(error)}. Stop it with: deploy stop ${o.id}`,
        );
      },
    });
  } catch (error) {
    r.stopSpinner();
    // An image this deployment built and that never served goes too: every image left on the engine then
    // belongs to a deployment that served (what `deploy sync` relies on), and no broken build lingers.
    if (image.ref === imageRef(d.app, d.id))
      await imagesOn(engine)
        .remove(image.ref)
        .catch(() => false);
    if (error instanceof DeployError && replaces?.status === 'running') {
      // Said only as the engine has it: the old container is looked at, not assumed.
      const old = replaces;
      const state =
        old.containerId && oldEngine
          ? await runtimeFor(oldEngine, old)
              .inspect(old.containerId)
              .catch(() => undefined)
          : null;
      const still =
        state === undefined
          ? ` Whether v${old.version} (${old.id}) still serves could not be checked: the engine did not answer.`
          : state?.running
            ? ` ${d.app} v${old.version} (${old.id}) is still serving.`
            : ` ${d.app} v${old.version} (${old.id}) is not running; start it with: deploy start ${old.id}`;
      const wrapped = new DeployError(error.code, `${error.message}.${still}`, {
        hint: error.hint,
        details: error.details,
        cause: error,
      });
      const status = wrapped.code === 'interrupted' ? 'interrupted' : 'failed';
      tracker.update(
        { status, finishedAt: ctx.now(), error: { code: wrapped.code, message: wrapped.message } },
        { type: status, message: error.message },
      );
      throw wrapped;
    }
    if (error instanceof DeployError) {
      const status = error.code === 'interrupted' ? 'interrupted' : 'failed';
      tracker.update(
        { status, finishedAt: ctx.now(), error: { code: error.code, message: `${error.message}.` } },
        { type: status, message: error.message },
      );
      throw new DeployError(error.code, `${error.message}.`, {
        hint: error.hint,
        details: error.details,
        cause: error,
      });
    }
    throw error;
  }
  tracker.update({ finishedAt: ctx.now() });
  return d;
}

/** How often, and after how long, recording a healthy deployment is tried again while the store is locked. */
const RECORD_RETRIES = [1_000, 3_000];

async function recordServing(ctx: Context, tracker: Tracker): Promise<void> {
  const store = ctx.store();
  const d = tracker.deployment;
  for (let attempt = 0; ; attempt++) {
    try {
      store.transaction(() => {
        const readyAt = ctx.now();
        tracker.update({ status: 'running', readyAt }, { type: 'ready', message: 'passed its health gate' });
        store.markFirstReady(d.id);
        store.setCurrent(d.app, d.id, readyAt);
      });
      return;
    } catch (error) {
      const wait = RECORD_RETRIES[attempt];
      if (!(error instanceof DeployError && error.details?.busy) || wait === undefined || ctx.signal.aborted)
        throw error;
      ctx.reporter.warn(`${error.message} Trying again in ${wait / 1000}s.`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Undoes create-new after a later step failed: keeps the new container's logs and shows their end, then removes
 * it. Best effort; never throws over the real failure.
 */
async function removeNew(
  ctx: Context,
  engine: Engine,
  tracker: Tracker,
  containerId: string | null,
  secrets: string[],
): Promise<void> {
  if (containerId === null) return;
  const r = ctx.reporter;
  const d = tracker.deployment;
  const lines = await keepLogs(engine, ctx.store(), d, ctx.now());
  const tail = lines.slice(-FAILED_TAIL);
  if (tail.length > 0) {
    r.info(r.colors.dim(`Last ${tail.length} log lines of ${d.containerName}:`));
    for (const l of tail)
      r.info(
        r.colors.dim(`  ${l.stream === 'stderr' ? 'err' : 'out'} | ${sanitize(redactValues(l.message, secrets))}`),
      );
  }
  try {
    await runtimeFor(engine, d).remove(containerId);
    tracker.update({ containerId: null });
  } catch (error) {
    r.warn(`Could not remove container ${containerId.slice(0, 12)}: ${(error as Error).message}`);
  }
}

/** Undoes stop-old after a later step failed: the old release is started again. Never throws over the real failure. */
async function startOld(ctx: Context, old: { d: Deployment; engine: Engine }, by: Deployment): Promise<void> {
  const r = ctx.reporter;
  if (!old.d.containerId) return;
  try {
    r.step(`Starting v${old.d.version} again`);
    await runtimeFor(old.engine, old.d).start(old.d.containerId);
    r.done(`v${old.d.version} (${old.d.id}) is serving again`);
    ctx.store().addEvent(old.d.id, ctx.now(), 'restored', `started again after v${by.version} failed`);
  } catch (error) {
    r.fail(`Could not start v${old.d.version} again: ${reasonOf(error)}. Run: deploy start ${old.d.id}`);
  }
}

/**
 * The replaced deployment behind the front door, for the bake window: superseded, but its container keeps running
 * so that the door can switch back to it at once (its own fallback, or deploy rollback). The next change to the app
 * after the window retires it (services/baked.ts).
 */
function keepForBake(ctx: Context, old: Deployment, by: Deployment): Promise<void> {
  const store = ctx.store();
  store.updateDeployment(old.id, { status: 'superseded', supersededBy: by.id, rolledBack: by.kind === 'rollback' });
  const seconds = Math.round(by.config.bakeWindowMs / 1000);
  store.addEvent(
    old.id,
    ctx.now(),
    'superseded',
    `replaced by v${by.version} (${by.id}); kept running ${seconds}s for a switch back`,
  );
  ctx.reporter.done(
    `v${old.version} (${old.id}) drains and is kept running ${seconds}s: deploy rollback ${by.app} switches back at once`,
  );
  return Promise.resolve();
}

/** The replaced deployment: stopped, its logs kept, its container removed, marked superseded. */
async function retire(
  ctx: Context,
  engine: Engine,
  old: Deployment,
  by: Deployment,
  alreadyStopped = false,
): Promise<void> {
  if (old.containerId) ctx.reporter.step(`Retiring v${old.version}`);
  await retireReplaced(ctx, engine, old, by, { alreadyStopped });
  ctx.reporter.done(`Retired v${old.version} (${old.id}): superseded, logs kept`);
}
