import { DeployError } from '../../core/errors.js';
import { assertAppName } from '../../core/ids.js';
import type { Handler } from '../handler.js';
import type { SyncOptions } from './sync.command.js';
import { endpointOfApp } from '../../services/app-endpoint.js';
import { syncEngine } from '../../services/sync.js';

export const handler: Handler<SyncOptions> = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const app = o.app;
  if (app !== undefined && o.all)
    throw new DeployError('usage', '--app and --all both say which apps to sync; give one of them.', {
      hint: 'deploy sync --app APP brings in one app; deploy sync --all every app on the engine.',
    });
  if (app !== undefined) assertAppName(app);
  const engine = await ctx.engine(endpointOfApp(ctx, app));
  r.step(
    `Reading what ${engine.endpoint.url} holds${app ? ` for ${app}` : o.all ? ' (every app)' : ' for the apps this store knows'}`,
  );
  const dryRun = Boolean(o.dryRun);
  const sync = () => syncEngine(ctx, engine, app, { all: Boolean(o.all) });
  // --dry-run: the same sync, its writes rolled back: it says exactly what it would add and correct.
  const report = dryRun ? await ctx.store().rehearse(sync) : await sync();
  r.stopSpinner();
  if (r.json) {
    r.result(dryRun ? { ...report, dryRun: true } : report);
    return;
  }
  const lines = [
    `${dryRun ? 'Would sync' : 'Synced'} with ${report.endpoint}: ${report.added.length} added, ${report.corrected.length} corrected${report.conflicts.length ? `, ${report.conflicts.length} in conflict` : ''}.`,
  ];
  for (const a of report.added) lines.push(`  + ${a.id}  ${a.app}@v${a.version}  ${a.status}  (from its ${a.from})`);
  for (const c of report.corrected) lines.push(`  ~ ${c.id}  ${c.app}@v${c.version}  ${c.from} → ${c.to}`);
  for (const c of report.rolledBack) lines.push(`  ↩ ${c.id}  ${c.app}@v${c.version}  marked rolled back`);
  for (const c of report.conflicts) lines.push(`  ! ${c.id}  ${c.reason}`);
  if (report.adopted.length > 0)
    lines.push(
      `Adopted ${report.adopted.length} app${report.adopted.length === 1 ? '' : 's'} new to this store: ${report.adopted.join(', ')}`,
    );
  if (dryRun) lines.push('Dry run: nothing was changed.');
  r.print(lines.join('\n'));
  if (report.busy.length > 0)
    r.info(
      r.colors.dim(
        `Left as recorded, being changed by another command right now: ${report.busy.join(', ')}. Sync again once it is done.`,
      ),
    );
  if (report.notAdopted.length > 0) {
    const n = report.notAdopted.length;
    r.info(
      r.colors.dim(
        `${n} other app${n === 1 ? '' : 's'} on this engine ${n === 1 ? 'is' : 'are'} not known to this store and ${n === 1 ? 'was' : 'were'} left alone: ${report.notAdopted.join(', ')}. Bring one in with deploy sync --app APP, or all with deploy sync --all.`,
      ),
    );
  }
};
