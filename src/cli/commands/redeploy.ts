import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../../main.js';
import { resolveFresh } from '../../services/sync.js';
import { applyShip, planRedeploy } from '../../services/ship.js';
import { confirmPlan } from '../../ui/confirm.js';
import { renderOutcome } from '../../ui/outcome.js';

export const handler: Handler = async (ctx, [ref], o) => {
  const target = await resolveFresh(ctx, ref as string, { allowApp: true });
  const plan = await planRedeploy(ctx, target, { noCache: o.cache === false, pull: Boolean(o.pull) });
  if (!(await confirmPlan(ctx, plan, { yes: Boolean(o.yes), dryRun: Boolean(o.dryRun) }))) return;
  const d = await applyShip(ctx, plan, 'redeploy');
  if (ctx.reporter.json) ctx.reporter.result(publicRecord(d));
  else ctx.reporter.print(renderOutcome(ctx, d));
};
