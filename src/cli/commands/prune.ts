import { resolveConfig } from '../../core/config.js';
import type { Handler } from '../handler.js';
import type { PruneOptions } from './prune.command.js';
import { wholeNumber } from '../parse.js';
import { layersFor } from '../../services/app-config.js';
import { endpointOfApp } from '../../services/app-endpoint.js';
import { imagesOf, planPrune, removeImages } from '../../services/retention.js';
import { askYes } from '../../ui/confirm.js';

/**
 * `deploy prune`: removes an app's old images, keeping what runs, what is stopped or exited but current, what
 * is in progress, and the newest N successful releases (rollback targets). Never other apps' images, images
 * the tool did not make, or images of deployments this store does not know. Without --app, only the apps this
 * store deployed itself (it made one of their deployments; an app only synced in is left alone).
 */
export const handler: Handler<PruneOptions> = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const keepFlag = wholeNumber(o.keep, '--keep', 0, 1000);
  const only = o.app;
  const engine = await ctx.engine(endpointOfApp(ctx, only));
  const apps = only
    ? [only]
    : // Only apps this store deployed itself: an app it merely synced (another person's, on a shared engine) is theirs to prune.
      [...new Set((await imagesOf(engine)).map((i) => i.app))].filter((a) => ctx.store().deployedHere(a)).sort();
  const plans = [];
  for (const app of apps) {
    const keep = keepFlag ?? resolveConfig(layersFor(ctx, app, {})).config.retention;
    plans.push({ app, keep, decision: await planPrune(ctx, engine, app, keep) });
  }
  const removable = plans.flatMap((p) => p.decision.remove);
  const doc = {
    endpoint: engine.endpoint.url,
    dryRun: Boolean(o.dryRun),
    apps: plans.map((p) => ({
      app: p.app,
      keep: p.keep,
      remove: p.decision.remove.map((i) => i.tags[0] ?? i.id),
      kept: p.decision.keep.map((i) => ({ image: i.tags[0] ?? i.id, why: i.why })),
    })),
  };
  if (!r.json) {
    for (const p of doc.apps) {
      r.print(
        `${p.app} (keeping ${p.keep} rollback target${p.keep === 1 ? '' : 's'}): ${p.remove.length === 0 ? 'nothing to remove' : `remove ${p.remove.join(', ')}`}`,
      );
      for (const k of p.kept) r.print(r.colors.dim(`  keep ${k.image}: ${k.why}`));
    }
  }
  if (o.dryRun || removable.length === 0) {
    if (r.json) r.result({ ...doc, removed: [] });
    else if (o.dryRun) r.print(r.colors.dim('Dry run: nothing was removed.'));
    return;
  }
  const count = `${removable.length} image${removable.length === 1 ? '' : 's'}`;
  await askYes(ctx, `Remove ${count} from ${engine.endpoint.url}?`, `Pruning ${count}`, {
    yes: Boolean(o.yes),
    hint: 'Pass --yes to go ahead, or --dry-run to see the list only.',
    cancelled: 'Cancelled; nothing was removed.',
  });
  const removed = await removeImages(engine, removable);
  if (r.json) r.result({ ...doc, removed });
  else r.print(`Removed ${removed.length} image${removed.length === 1 ? '' : 's'}.`);
};
