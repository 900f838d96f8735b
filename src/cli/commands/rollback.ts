import { DeployError, isDeployError } from '../../core/errors.js';
import { assertAppName, isValidAppName, parseDeploymentRef } from '../../core/ids.js';
import { publicRecord } from '../../core/record-view.js';
import type { Deployment } from '../../core/types.js';
import type { Handler } from '../handler.js';
import type { RollbackOptions } from './rollback.command.js';
import { wholeNumber } from '../parse.js';
import { scopeOf, underAppLock } from '../../services/app-lock.js';
import { currentDeployment } from '../../services/current.js';
import { deploymentByRef } from '../../services/deployment-ref.js';
import { actorOf } from '../../services/deploy.js';
import { applyRedeployOrRollback, planRollback, rollbackTarget } from '../../services/redeploy-rollback.js';
import { swapBack, swapBackable } from '../../services/baked.js';
import { appFromDirectory } from '../../services/source.js';
import { confirmPlan } from '../../ui/confirm.js';
import { renderOutcome } from '../../ui/outcome.js';

/** The door's bake window ended before its swap back could be made: the rollback starts the release instead. */
function refusedSwap(error: unknown): null {
  if (isDeployError(error, 'front_door') && /bake window has ended/.test((error as Error).message)) return null;
  throw error;
}

export const handler: Handler<RollbackOptions> = async (ctx, [appOrId], o) => {
  const r = ctx.reporter;
  const steps = wholeNumber(o.steps, '--steps', 1, 1000);
  const to = o.to;
  if (to !== undefined && steps !== undefined) {
    throw new DeployError('usage', '--to and --steps both choose the target; give one of them.');
  }
  const store = ctx.store();
  let app = o.app === undefined ? undefined : assertAppName(o.app);
  // Which app, from the store alone: nothing about it is read or planned before its lock is held.
  let explicitRef: string | null = null;
  if (appOrId !== undefined) {
    if (store.getApp(appOrId)) {
      app = appOrId;
    } else {
      let explicit: Deployment | null = null;
      try {
        explicit = deploymentByRef(ctx, appOrId);
      } catch (error) {
        // Not a deployment this store knows: an app name, perhaps only the engine knows it yet (a CI runner
        // with an empty store). The sync under the lock finds out; an unknown app is said after it.
        if (!(
          isDeployError(error, 'not_found') &&
          parseDeploymentRef(appOrId).type === 'word' &&
          isValidAppName(appOrId)
        ))
          throw error;
        app = appOrId;
      }
      if (explicit) {
        if (app !== undefined && explicit.app !== app)
          throw new DeployError('usage', `${appOrId} is a deployment of ${explicit.app}, not of ${app}.`);
        app = explicit.app;
        explicitRef = explicit.id;
        if (to !== undefined || steps !== undefined)
          throw new DeployError('usage', `Give the target once: either ${appOrId} or --to/--steps.`);
      }
    }
  }
  app ??= (await appFromDirectory(ctx)) ?? undefined;
  if (!app) {
    throw new DeployError(
      'usage',
      'Which app? Give its name (deploy rollback APP), --app, or run this inside its repository.',
    );
  }
  const scope = scopeOf(ctx, app);
  // Who is acting (git's user.email) is asked while the lock is taken.
  const actor = actorOf(ctx, ctx.cwd);
  actor.catch(() => undefined);
  await underAppLock(ctx, scope, `rollback of ${app}`, async (engine) => {
    // What runs now is what the engine says (synced under the lock): deployments made from elsewhere count.
    const current = currentDeployment(ctx, scope.app);
    if (!current && !store.getApp(scope.app)) {
      const what =
        appOrId !== undefined && !explicitRef ? `app or deployment named "${scope.app}"` : `app named ${scope.app}`;
      throw new DeployError('not_found', `There is no ${what}, in this store or on its engine.`, {
        hint: 'List apps and their deployments with: deploy ls',
      });
    }
    if (!current) {
      throw new DeployError('not_found', `${scope.app} has no current deployment to roll back from.`, {
        hint: `See its history: deploy ls --app ${scope.app}`,
      });
    }
    const byId = (ref: string): Deployment | null => {
      try {
        return deploymentByRef(ctx, ref);
      } catch (error) {
        if (isDeployError(error, 'not_found') || (isDeployError(error, 'usage') && /reference/.test(error.message)))
          return null;
        throw error;
      }
    };
    const target = rollbackTarget(ctx, current, { to: explicitRef ?? to, steps }, byId);
    // Inside the bake window behind the front door, the release kept running is swapped back to (services/baked.ts).
    const swap = !o.rebuild && swapBackable(ctx, current, target);
    const planned = await planRollback(ctx, engine, current, target, Boolean(o.rebuild));
    const plan = swap
      ? {
          ...planned,
          title: `Roll back ${target.app} from v${current.version} (${current.id}) to v${target.version} (${target.id}): a swap back`,
          newVersion: null,
          gate: null,
          serving: `v${target.version} still runs (kept for v${current.version}'s bake window): the front door sends traffic back to it at once, and v${current.version} drains`,
        }
      : planned;
    if (plan.noop) {
      r.info(plan.noop);
      if (r.json) r.result(publicRecord(current));
      return;
    }
    if (!(await confirmPlan(ctx, plan, { yes: Boolean(o.yes), dryRun: Boolean(o.dryRun) }))) return;
    const swapStarted = ctx.now();
    const swapped = swap ? await swapBack(ctx, engine, current, target).catch(refusedSwap) : null;
    if (swapped)
      r.done(`Swapped back: the front door routes ${swapped.app} to v${swapped.version} (${swapped.id}) again`);
    const d = swapped ?? (await applyRedeployOrRollback(ctx, engine, planned, 'rollback', actor));
    if (r.json) {
      r.result(publicRecord(d));
    } else {
      r.print(renderOutcome(ctx, d, swapped ? ctx.now() - swapStarted : undefined));
      r.print(r.colors.dim(`Undo: deploy rollback ${d.app} --to ${current.id}`));
    }
  });
};
