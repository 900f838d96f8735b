import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../handler.js';
import type { RedeployOptions } from './redeploy.command.js';
import { scopeOf, underAppLock } from '../../services/app-lock.js';
import { chosenRef } from '../../services/chosen-ref.js';
import { actorOf, flagSettings } from '../../services/deploy.js';
import { deploymentByRef } from '../../services/deployment-ref.js';
import { applyRedeployOrRollback, planRedeploy } from '../../services/redeploy-rollback.js';
import { oneOffOptions } from './one-off.js';
import { confirmPlan } from '../../ui/confirm.js';
import { renderOutcome } from '../../ui/outcome.js';

export const handler: Handler<RedeployOptions> = async (ctx, [positional], o) => {
  // One-off settings are checked before anything else: bad input changes nothing and takes no lock.
  const flags = flagSettings(ctx, oneOffOptions(o));
  const ref = await chosenRef(ctx, positional, o.app, 'redeploy');
  const scope = scopeOf(ctx, ref);
  // Who is acting (git's user.email) is asked while the lock is taken.
  const actor = actorOf(ctx, ctx.cwd);
  actor.catch(() => undefined);
  await underAppLock(ctx, scope, `redeploy of ${ref}`, async (engine) => {
    const target = deploymentByRef(ctx, ref, { allowApp: true });
    const plan = await planRedeploy(ctx, engine, target, { noCache: o.cache === false, pull: Boolean(o.pull), flags });
    if (!(await confirmPlan(ctx, plan, { yes: Boolean(o.yes), dryRun: Boolean(o.dryRun) }))) return;
    const d = await applyRedeployOrRollback(ctx, engine, plan, 'redeploy', actor);
    if (ctx.reporter.json) ctx.reporter.result(publicRecord(d));
    else ctx.reporter.print(renderOutcome(ctx, d));
  });
};
