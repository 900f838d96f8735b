import { DeployError, isDeployError } from '../../core/errors.js';
import { assertAppName, isValidAppName, parseDeploymentRef } from '../../core/ids.js';
import { publicRecord } from '../../core/record-view.js';
import type { Deployment } from '../../core/types.js';
import type { Handler } from '../../main.js';
import { endpointOfApp } from '../../services/engine-for-app.js';
import { endpointForUrl } from '../../services/engines.js';
import { currentDeployment } from '../../services/current.js';
import { syncEngine } from '../../services/sync.js';
import { resolveDeployment } from '../../services/resolve.js';
import { applyShip, planRollback, rollbackTarget } from '../../services/ship.js';
import { appFromDirectory } from '../../services/source.js';
import { confirmPlan } from '../../ui/confirm.js';
import { renderOutcome } from '../../ui/outcome.js';

function parseSteps(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new DeployError('usage', `--steps must be a whole number from 1 to 1000, not ${JSON.stringify(raw)}.`);
  return n;
}

export const handler: Handler = async (ctx, [appOrId], o) => {
  const r = ctx.reporter;
  const steps = parseSteps(o.steps);
  const to = o.to as string | undefined;
  if (to !== undefined && steps !== undefined) {
    throw new DeployError('usage', '--to and --steps both choose the target; give one of them.');
  }
  const store = ctx.store();
  let app = o.app === undefined ? undefined : assertAppName(o.app as string);
  let explicit: Deployment | null = null;
  if (appOrId !== undefined) {
    if (store.getApp(appOrId)) {
      app = appOrId;
    } else {
      try {
        explicit = resolveDeployment(ctx, appOrId);
      } catch (error) {
        // Not a deployment this store knows: an app name, perhaps only the engine knows it yet (a CI runner
        // with an empty store). The sync below finds out; an unknown app is said after it.
        if (!(isDeployError(error, 'not_found') && parseDeploymentRef(appOrId).type === 'word' && isValidAppName(appOrId))) throw error;
        app = appOrId;
      }
      if (explicit) {
        app = explicit.app;
        if (to !== undefined || steps !== undefined) throw new DeployError('usage', `Give the target once: either ${appOrId} or --to/--steps.`);
      }
    }
  }
  app ??= (await appFromDirectory(ctx)) ?? undefined;
  if (!app) {
    throw new DeployError('usage', 'Which app? Give its name (deploy rollback APP), --app, or run this inside its repository.');
  }
  // What runs now is what the engine says: deployments made from elsewhere count (a CI runner's store may
  // know nothing yet).
  await syncEngine(ctx, await ctx.engine(explicit ? endpointForUrl(ctx, explicit.endpoint) : endpointOfApp(ctx, app)), app);
  const current = currentDeployment(ctx, app);
  if (!current && !store.getApp(app)) {
    const what = appOrId !== undefined && !explicit ? `app or deployment named "${app}"` : `app named ${app}`;
    throw new DeployError('not_found', `There is no ${what}, in this store or on its engine.`, { hint: 'List apps and their deployments with: deploy ls' });
  }
  if (!current) {
    throw new DeployError('not_found', `${app} has no current deployment to roll back from.`, { hint: `See its history: deploy ls --app ${app}` });
  }
  const byId = (ref: string): Deployment | null => {
    try {
      return resolveDeployment(ctx, ref);
    } catch (error) {
      if (isDeployError(error, 'not_found') || (isDeployError(error, 'usage') && /reference/.test(error.message))) return null;
      throw error;
    }
  };
  if (explicit && explicit.readyAt === null) {
    throw new DeployError('usage', `${explicit.app} v${explicit.version} (${explicit.id}) never became healthy (${explicit.status}); roll back to a deployment that served.`, {
      hint: `List them: deploy ls --app ${explicit.app}`,
    });
  }
  const target = explicit ?? rollbackTarget(ctx, current, { to, steps }, byId);
  const plan = await planRollback(ctx, current, target, Boolean(o.rebuild));
  if (plan.noop) {
    r.info(plan.noop);
    if (r.json) r.result(publicRecord(current));
    return;
  }
  if (!(await confirmPlan(ctx, plan, { yes: Boolean(o.yes), dryRun: Boolean(o.dryRun) }))) return;
  const d = await applyShip(ctx, plan, 'rollback');
  if (r.json) {
    r.result(publicRecord(d));
  } else {
    r.print(renderOutcome(ctx, d));
    r.print(r.colors.dim(`Undo: deploy rollback ${d.app} --to ${current.id}`));
  }
};
