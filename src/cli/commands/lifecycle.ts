import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../../main.js';
import { applyLifecycle, containerRunning, planLifecycle, type LifecycleAction } from '../../services/lifecycle.js';
import { resolveFresh } from '../../services/sync.js';
import { confirmPlan } from '../../ui/confirm.js';

/** stop / start / restart: the same shape, three actions. start does not ask (it is the undo of stop). */
function lifecycle(action: LifecycleAction): Handler {
  return async (ctx, [ref], o) => {
    const r = ctx.reporter;
    const d = await resolveFresh(ctx, ref as string, { allowApp: true });
    const plan = planLifecycle(ctx, action, d, await containerRunning(ctx, d));
    if (plan.noop) {
      r.info(plan.noop);
      if (r.json) r.result(publicRecord(d));
      return;
    }
    const asks = action !== 'start';
    if ((asks || o.dryRun) && !(await confirmPlan(ctx, plan, { yes: !asks || Boolean(o.yes), dryRun: Boolean(o.dryRun) }))) return;
    const result = await applyLifecycle(ctx, plan);
    if (r.json) r.result(publicRecord(result.deployment));
    else r.print(result.message);
  };
}

export const stop = lifecycle('stop');
export const start = lifecycle('start');
export const restart = lifecycle('restart');
