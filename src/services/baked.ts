import type { Engine } from '../adapters/docker/engine/engine.js';
import { FrontDoorClient, type DoorStatus } from '../adapters/front-door/client.js';
import { runtimeFor } from '../adapters/runtime/runtime-for.js';
import { stopGraceSeconds } from '../core/container-spec.js';
import { DeployError } from '../core/errors.js';
import { routedByFrontDoor } from '../core/front-door.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { keepLogs } from './keep-logs.js';
import { routesTo } from '../core/door.js';

/**
 * Releases kept running behind the front door for their successor's bake window (services/release.ts keepForBake),
 * settled by the next change to the app: when the door switched back on its own (the new release failed its checks
 * in the window), the record says so (the new one failed, the old one serves again); when the window has ended, the
 * kept release is retired (stopped, logs kept, removed). Returns what was done, in words.
 */
export async function settleBaked(ctx: Context, engine: Engine, app: string): Promise<string[]> {
  const store = ctx.store();
  const kept = store.kept(app).filter((d) => d.endpoint === engine.endpoint.url && routedByFrontDoor(d.config));
  if (kept.length === 0) return [];
  const done: string[] = [];
  const status = await new FrontDoorClient(engine).status(app).catch((): DoorStatus | null => null);
  for (const old of kept) {
    const by = old.supersededBy ? store.getDeployment(old.supersededBy) : null;
    if (by && by.status === 'running' && routesTo(status, old)) {
      await fellBack(ctx, engine, old, by);
      done.push(
        `v${by.version} (${by.id}) failed the front door's checks in its bake window; it switched back to v${old.version} (${old.id})`,
      );
      continue;
    }
    const until = (by?.readyAt ?? 0) + (by?.config.bakeWindowMs ?? 0);
    // Kept while its successor serves and the window lasts. One rolled back away from (a swap back) only drains,
    // and one whose successor was replaced in turn is no longer the door's to switch back to: retired at once.
    if (!old.rolledBack && by?.status === 'running' && ctx.now() < until) continue;
    await retireKept(ctx, engine, old);
    done.push(`retired v${old.version} (${old.id}), which was kept running for a bake window`);
  }
  return done;
}

/**
 * Whether rolling back from `current` to `target` can be a swap back at the front door: `target` is the release
 * `current` replaced, kept running for `current`'s bake window, which has not ended.
 */
export function swapBackable(ctx: Context, current: Deployment, target: Deployment): boolean {
  return (
    target.status === 'superseded' &&
    target.containerId !== null &&
    target.supersededBy === current.id &&
    target.endpoint === current.endpoint &&
    routedByFrontDoor(current.config) &&
    routedByFrontDoor(target.config) &&
    current.readyAt !== null &&
    ctx.now() < current.readyAt + current.config.bakeWindowMs
  );
}

/**
 * A rollback inside the bake window: the door swaps back to the release it kept (no new container, no gate: it
 * served a moment ago and the door has kept checking it), then the records follow: `target` serves again and is
 * the app's current deployment, `current` is rolled back away from. Its container drains and is retired by the
 * next command. Throws the door's refusal (the window ended there first), and then nothing has changed.
 */
export async function swapBack(
  ctx: Context,
  engine: Engine,
  current: Deployment,
  target: Deployment,
): Promise<Deployment> {
  const store = ctx.store();
  const { target: address } = await new FrontDoorClient(engine).rollback(current.app);
  if (!routesTo({ active: { address } }, target)) {
    throw new DeployError(
      'front_door',
      `The front door swapped ${current.app} back to ${address}, not to v${target.version} (${target.id}).`,
      {
        hint: `See: deploy proxy status. To serve v${target.version} again: deploy rollback ${current.app} --to ${target.id}`,
      },
    );
  }
  store.transaction(() => {
    store.updateDeployment(target.id, { status: 'running', supersededBy: null, rolledBack: false });
    store.addEvent(
      target.id,
      ctx.now(),
      'restored',
      `serves again: deploy rollback inside v${current.version}'s bake window (a swap back at the front door)`,
    );
    store.updateDeployment(current.id, { status: 'superseded', supersededBy: target.id, rolledBack: true });
    store.addEvent(
      current.id,
      ctx.now(),
      'rolled-back',
      `the front door swapped back to v${target.version} (${target.id})`,
    );
    store.setCurrent(target.app, target.id, ctx.now());
  });
  return store.getDeployment(target.id) as Deployment;
}

/** The door went back to `old`: the record follows, and the failed release's container goes. */
async function fellBack(ctx: Context, engine: Engine, old: Deployment, by: Deployment): Promise<void> {
  const store = ctx.store();
  const message = `failed the front door's checks in its bake window; traffic went back to v${old.version} (${old.id})`;
  store.transaction(() => {
    store.updateDeployment(by.id, {
      status: 'failed',
      // Rolled back away from (by the door): a rollback asked afterwards finds it done rather than going further.
      rolledBack: true,
      error: { code: 'health_failed', message: `${by.app} v${by.version} (${by.id}) ${message}.` },
    });
    store.addEvent(by.id, ctx.now(), 'fell-back', message);
    store.updateDeployment(old.id, { status: 'running', supersededBy: null, rolledBack: false });
    store.updateDeployment(by.id, { supersededBy: old.id });
    store.addEvent(old.id, ctx.now(), 'restored', `serves again: v${by.version} failed in its bake window`);
    store.setCurrent(old.app, old.id, ctx.now());
  });
  await retireKept(ctx, engine, { ...by, status: 'failed' });
}

/** Stops a container kept behind the door, keeps its logs, removes it; the record loses its container. */
async function retireKept(ctx: Context, engine: Engine, d: Deployment): Promise<void> {
  const runtime = runtimeFor(engine, d);
  if (d.containerId) {
    await runtime.stop(d.containerId, stopGraceSeconds(d.config)).catch(() => undefined);
    await keepLogs(engine, ctx.store(), d, ctx.now()).catch(() => []);
    await runtime.remove(d.containerId);
  }
  ctx.store().updateDeployment(d.id, { containerId: null });
}
