import type { Engine } from '../adapters/docker/engine/engine.js';
import type { Context } from '../context.js';
import { withLock } from './lock.js';
import { settleBaked } from './baked.js';
import { recoverApp } from './recovery.js';
import { syncEngine } from './sync.js';

/**
 * How every change to an app runs: under the app's lock on its engine, after bringing this store in line
 * with what the engine holds (a deployment made from another machine is then known, replaced properly and
 * counted in the version sequence) and cleaning up after any deployment that was interrupted.
 */
export async function lockSyncRecover<T>(
  ctx: Context,
  engine: Engine,
  app: string,
  purpose: string,
  work: () => Promise<T>,
): Promise<T> {
  return withLock(ctx, engine, app, purpose, async (lock) => {
    // Synced a moment ago by this command (to plan) and the lock came at the first try, so no one held it:
    // a change on the engine in those milliseconds would need another machine to have started and finished
    // in between. A second look costs a few requests on every command; it is skipped.
    const key = `${engine.endpoint.url} ${app}`;
    const fresh = !lock.contended && ctx.now() - (ctx.syncedAt.get(key) ?? -Infinity) < 2_000;
    const report = fresh ? { added: [], corrected: [] } : await syncEngine(ctx, engine, app, { underLock: true });
    for (const line of await recoverApp(ctx, engine, app)) ctx.reporter.warn(`Recovered ${app}: ${line}.`);
    for (const line of await settleBaked(ctx, engine, app))
      ctx.reporter.info(ctx.reporter.colors.dim(`${app}: ${line}.`));
    const n = report.added.length + report.corrected.length;
    if (n > 0) {
      ctx.reporter.info(
        ctx.reporter.colors.dim(
          `Synced ${app} with ${engine.endpoint.url} first: ${report.added.length} deployment${report.added.length === 1 ? '' : 's'} made elsewhere, ${report.corrected.length} status${report.corrected.length === 1 ? '' : 'es'} corrected.`,
        ),
      );
    }
    return work();
  });
}
