import { parseSince } from '../../core/duration.js';
import { assembleStats } from '../../core/stats.js';
import type { Handler } from '../../main.js';
import { countsTable, renderDetails } from '../../ui/stats-view.js';
import { plainTable, terminalTable } from '../../ui/table.js';

export const handler: Handler = async (ctx, _args, o) => {
  await (await import('../../services/reconcile.js')).reconcile(ctx, { app: o.app as string | undefined });
  const r = ctx.reporter;
  const until = ctx.now();
  const since = parseSince((o.since as string | undefined) ?? '30d', until);
  const app = (o.app as string | undefined) ?? null;
  const raw = ctx.store().statistics({ app: app ?? undefined, since, until });
  const stats = assembleStats(raw, { since, until }, app);
  if (r.json) {
    r.result(stats);
    return;
  }
  const onTerminal = Boolean(ctx.stdout.isTTY);
  r.print(r.colors.bold(`Deployments since ${stats.window.since.slice(0, 10)} (${stats.window.days} days)${app ? ` · ${app}` : ' · all apps'}`));
  if (stats.total === 0 && stats.running === 0 && stats.stopped === 0) {
    r.print(r.colors.dim(app ? `No deployments of ${app} in this window.` : 'No deployments in this window.'));
    return;
  }
  const { headers, rows } = countsTable(stats);
  r.print(onTerminal ? await terminalTable(headers, rows, r.colors, [1, 2, 3, 4, 5, 6, 7, 8, 9]) : plainTable(headers, rows));
  r.print(renderDetails(stats, r.colors, (ctx.stdout as { columns?: number }).columns ?? 100));
};
