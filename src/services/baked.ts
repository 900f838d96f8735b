import type { Engine } from '../adapters/docker/engine/engine.js';
import { FrontDoorClient, type DoorStatus } from '../adapters/front-door/client.js';
import { runtimeOn } from '../adapters/runtime/containers.js';
import { stopGraceSeconds } from '../core/container-spec.js';
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
  const kept = store.kept(app).filter((d) => d.endpoint === engine.endpoint.url);
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
    if (ctx.now() < until) continue;
    await retireKept(ctx, engine, old);
    done.push(`retired v${old.version} (${old.id}), kept for the bake window`);
  }
  return done;
}

/** The door went back to `old`: the record follows, and the failed release's container goes. */
async function fellBack(ctx: Context, engine: Engine, old: Deployment, by: Deployment): Promise<void> {
  const store = ctx.store();
  const message = `failed the front door's checks in its bake window; traffic went back to v${old.version} (${old.id})`;
  store.transaction(() => {
    store.updateDeployment(by.id, {
      status: 'failed',
      error: { code: 'health_failed', message: `${by.app} v${by.version} (${by.id}) ${message}.` },
    });
    store.addEvent(by.id, ctx.now(), 'fell-back', message);
    store.updateDeployment(old.id, { status: 'running', supersededBy: null, rolledBack: false });
    store.addEvent(old.id, ctx.now(), 'restored', `serves again: v${by.version} failed in its bake window`);
    store.setCurrent(old.app, old.id, ctx.now());
  });
  await retireKept(ctx, engine, { ...by, status: 'failed' });
}

/** Stops a container kept behind the door, keeps its logs, removes it; the record loses its container. */
async function retireKept(ctx: Context, engine: Engine, d: Deployment): Promise<void> {
  const runtime = runtimeOn(engine);
  if (d.containerId) {
    await runtime.stop(d.containerId, stopGraceSeconds(d.config)).catch(() => undefined);
    await keepLogs(engine, ctx.store(), d, ctx.now()).catch(() => []);
    await runtime.remove(d.containerId);
  }
  ctx.store().updateDeployment(d.id, { containerId: null });
}
