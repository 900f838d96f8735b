import { runtimeFor } from '../adapters/runtime/runtime-for.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { stopGraceSeconds } from '../core/container-spec.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { keepLogs } from './keep-logs.js';

/**
 * A replaced release goes: its container stopped within its grace period (unless it is stopped already), its logs
 * kept with the record, the container removed; the record is superseded by `by`, rolled back away from when `by` is
 * a rollback, and an event says by what (and `how`, where the retiring was not the release's own).
 */
export async function retireReplaced(
  ctx: Context,
  engine: Engine,
  old: Deployment,
  by: Deployment,
  o: { alreadyStopped?: boolean; how?: string } = {},
): Promise<void> {
  const store = ctx.store();
  if (old.containerId) {
    const runtime = runtimeFor(engine, old);
    if (!o.alreadyStopped) await runtime.stop(old.containerId, stopGraceSeconds(old.config));
    await keepLogs(engine, store, old, ctx.now());
    await runtime.remove(old.containerId);
  }
  store.updateDeployment(old.id, {
    status: 'superseded',
    containerId: null,
    supersededBy: by.id,
    rolledBack: by.kind === 'rollback',
  });
  const replaced = `replaced by v${by.version} (${by.id})`;
  store.addEvent(old.id, ctx.now(), 'superseded', o.how ? `${replaced}; ${o.how}` : replaced);
}
