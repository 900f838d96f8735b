import { parseSince } from '../../core/duration.js';
import { assembleStats } from '../../core/stats.js';
import type { Handler } from '../handler.js';
import type { StatsOptions } from './stats.command.js';
import { countsTable, renderCountsTable, renderDetails, renderTitle } from '../../ui/stats-view.js';
import { plainTable } from '../../ui/table.js';

/** What a terminal that does not say its width is taken to have. */
const DEFAULT_COLUMNS = 80;

export const handler: Handler<StatsOptions> = async (ctx, _args, o) => {
  await (await import('../../services/reconcile.js')).reconcile(ctx, { app: o.app });
  const r = ctx.reporter;
  if (o.now) {
    const rows = await (await import('../../services/usage.js')).usageRows(ctx, o.app);
    if (r.json) return r.result(rows);
    if (rows.length === 0) return r.print(`No release of ${o.app ?? 'any app'} is running.`);
    const width = (ctx.stdout.isTTY ? (ctx.stdout as { columns?: number }).columns : undefined) || DEFAULT_COLUMNS;
    r.print((await import('../../ui/usage-view.js')).renderUsage(rows, r.colors, width));
    return;
  }
  const until = ctx.now();
  const since = parseSince(o.since, until);
  const app = o.app ?? null;
  const raw = ctx.store().statistics({ app: app ?? undefined, since, until });
  const stats = assembleStats(raw, { since, until }, app);
  if (r.json) {
    r.result(stats);
    return;
  }
  const onTerminal = Boolean(ctx.stdout.isTTY);
  const width = (onTerminal ? (ctx.stdout as { columns?: number }).columns : undefined) || DEFAULT_COLUMNS;
  r.print(renderTitle(stats, r.colors, width));
  if (stats.total === 0 && stats.running === 0 && stats.stopped === 0) {
    r.print(r.colors.dim(app ? `No deployments of ${app} in this window.` : 'No deployments in this window.'));
    return;
  }
  if (onTerminal) {
    r.print(await renderCountsTable(stats, r.colors, width));
  } else {
    const { headers, rows } = countsTable(stats);
    r.print(plainTable(headers, rows));
  }
  r.print(renderDetails(stats, r.colors, width));
};
