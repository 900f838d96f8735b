import { DeployError } from '../../core/errors.js';
import { assertAppName } from '../../core/ids.js';
import type { Handler } from '../handler.js';
import type { DestroyOptions } from './destroy.command.js';
import {
  applyDestroy,
  assertKnownApp,
  destroyEndpoint,
  planDestroy,
  type DestroyPlan,
} from '../../services/destroy.js';
import { askYes } from '../../ui/confirm.js';
import type { Colors } from '../../ui/colors.js';

function renderPlan(p: DestroyPlan, c: Colors): string {
  const lines = [c.bold(`Destroy ${p.app} on ${p.endpoint}`)];
  const list = (title: string, items: string[]) =>
    lines.push(`  ${title}: ${items.length === 0 ? c.dim('none') : items.join(', ')}`);
  list(
    'containers',
    p.containers.map((x) => `${x.name} (${x.state})`),
  );
  list(
    'images',
    p.images.map((x) => x.tag),
  );
  lines.push(
    `  lock: ${p.lock.present ? `deploy-lock.${p.app}${p.lock.holder ? `, held by ${p.lock.holder}${p.lock.live ? '' : ' (stale)'}` : ''}` : c.dim('none')}`,
  );
  list('stored settings', [
    ...p.settings.env,
    ...p.settings.secrets.map((k) => `${k} (secret)`),
    ...p.settings.settings,
  ]);
  lines.push(
    p.forget
      ? `  records: ${p.records} deployment record${p.records === 1 ? '' : 's'}, their events and kept logs are deleted (--forget)`
      : `  records: ${p.records} deployment record${p.records === 1 ? '' : 's'} stay as history (--forget deletes them)`,
  );
  if (p.removeVolumes) {
    list(`volumes, ${c.red('their data deleted')} (--volumes)`, p.volumes);
  } else {
    lines.push(
      `  volumes kept: ${p.volumes.length === 0 ? c.dim('none') : p.volumes.join(', ')}${p.volumes.length > 0 ? c.dim(' (--volumes removes them and their data)') : ''}`,
    );
  }
  return lines.join('\n');
}

/** `deploy destroy APP`: tears an app down after a confirmation that lists what goes. */
export const handler: Handler<DestroyOptions> = async (ctx, [positional], o) => {
  const r = ctx.reporter;
  const flag = o.app;
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new DeployError('usage', `Two apps given: ${positional} and --app ${flag}; nothing was changed.`, {
      hint: 'Give the app once: deploy destroy APP',
    });
  }
  const app = positional ?? flag;
  if (app === undefined)
    throw new DeployError('usage', 'Which app? Nothing was changed.', { hint: 'deploy destroy APP (or --app APP)' });
  assertAppName(app, positional !== undefined ? 'the APP argument' : '--app');
  assertKnownApp(ctx, app);
  const forget = Boolean(o.forget);
  const removeVolumes = Boolean(o.volumes);
  const request = { app, forget, removeVolumes };
  const engine = await ctx.engine(destroyEndpoint(ctx, app));
  const plan = await planDestroy(ctx, engine, request);
  if (o.dryRun) {
    if (r.json) r.result({ dryRun: true, plan });
    else r.print(`${renderPlan(plan, r.colors)}\n${r.colors.dim('Dry run: nothing was changed.')}`);
    return;
  }
  if (plan.lock.live && ctx.lockWaitMs === 0) {
    // Said before asking: the answer would not matter (with --lock-wait, applyDestroy waits for the lock).
    throw new DeployError(
      'lock_held',
      `${app} is locked on ${plan.endpoint} by ${plan.lock.holder}; nothing was changed.`,
      {
        hint: `Wait for it, or retry with --lock-wait 5m. If it is stuck: deploy lock release ${app}`,
      },
    );
  }
  r.info(renderPlan(plan, r.colors));
  const doomed = removeVolumes && plan.volumes.length > 0 ? ` and delete the data in ${plan.volumes.join(', ')}` : '';
  await askYes(ctx, `Destroy ${app}${doomed} now? This cannot be undone.`, `"Destroy ${app}"`, {
    yes: Boolean(o.yes),
    hint: 'Pass --yes to go ahead, or --dry-run to see what would go.',
    cancelled: 'Cancelled; nothing was changed.',
  });
  const result = await applyDestroy(ctx, engine, request);
  if (r.json) {
    r.result(result);
    return;
  }
  const parts = [
    `${result.removed.containers.length} container${result.removed.containers.length === 1 ? '' : 's'}`,
    `${result.removed.images.length} image${result.removed.images.length === 1 ? '' : 's'}`,
    `${result.removed.settings} stored setting${result.removed.settings === 1 ? '' : 's'}`,
    ...(removeVolumes
      ? [`${result.removed.volumes.length} volume${result.removed.volumes.length === 1 ? '' : 's'}`]
      : []),
  ];
  r.print(
    `Destroyed ${app}: removed ${parts.join(', ')}.${forget ? ` Forgot ${result.removed.records} record${result.removed.records === 1 ? '' : 's'}.` : ` Its ${result.history} record${result.history === 1 ? '' : 's'} stay as history (deploy ls --app ${app}).`}`,
  );
  if (!removeVolumes && result.keptVolumes.length > 0)
    r.info(
      `Kept the volume${result.keptVolumes.length === 1 ? '' : 's'} ${result.keptVolumes.join(', ')} and ${result.keptVolumes.length === 1 ? 'its' : 'their'} data (deploy destroy ${app} --volumes removes them).`,
    );
  if (removeVolumes && result.keptVolumes.length > 0)
    r.warn(
      `Kept ${result.keptVolumes.join(', ')}: the engine says another container still uses ${result.keptVolumes.length === 1 ? 'it' : 'them'}.`,
    );
  if (result.keptImages.length > 0)
    r.warn(
      `Kept ${result.keptImages.join(', ')}: the engine says another container or tag still uses ${result.keptImages.length === 1 ? 'it' : 'them'}.`,
    );
};
