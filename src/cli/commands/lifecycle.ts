import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../handler.js';
import type { LifecycleOptions } from './lifecycle.command.js';
import { scopeOf, underAppLock } from '../../services/app-lock.js';
import { chosenRef } from '../../services/chosen-ref.js';
import { applyLifecycle, containerRunning, planLifecycle, type LifecycleAction } from '../../services/lifecycle.js';
import { deploymentByRef } from '../../services/deployment-ref.js';
import { confirmPlan } from '../../ui/confirm.js';
import { parseDuration } from '../../core/duration.js';

/**
 * stop / start / restart: the same shape, three actions. The app's lock comes first; the deployment meant is
 * read, planned and shown under it. start does not ask (it is the undo of stop); --yes is accepted anyway.
 */
function lifecycle(action: LifecycleAction): Handler<LifecycleOptions> {
  return async (ctx, [positional], o) => {
    const r = ctx.reporter;
    const ref = await chosenRef(ctx, positional, o.app, action);
    const scope = scopeOf(ctx, ref);
    await underAppLock(ctx, scope, `${action} of ${scope.app}`, async (engine) => {
      const d = deploymentByRef(ctx, ref, { allowApp: true });
      const plan = await planLifecycle(ctx, engine, action, d, await containerRunning(ctx, d));
      if (plan.noop) {
        r.info(plan.noop);
        if (r.json) r.result(publicRecord(d));
        return;
      }
      const asks = action !== 'start';
      if (
        (asks || o.dryRun) &&
        !(await confirmPlan(ctx, plan, { yes: !asks || Boolean(o.yes), dryRun: Boolean(o.dryRun) }))
      )
        return;
      const holdMs = o.pause === undefined ? 0 : parseDuration(o.pause, '--pause');
      const result = await applyLifecycle(ctx, engine, plan, { holdMs });
      if (r.json) r.result(publicRecord(result.deployment));
      else r.print(result.message);
    });
  };
}

export const stop = lifecycle('stop');
export const start = lifecycle('start');
export const restart = lifecycle('restart');
