import type { Handler } from '../../main.js';
import { endpointOfApp } from '../../services/engine-for-app.js';
import { syncEngine } from '../../services/sync.js';

export const handler: Handler = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const app = o.app as string | undefined;
  const engine = await ctx.engine(endpointOfApp(ctx, app));
  r.step(`Reading what ${engine.endpoint.url} holds${app ? ` for ${app}` : ''}`);
  const report = await syncEngine(ctx, engine, app);
  r.stopSpinner();
  if (r.json) {
    r.result(report);
    return;
  }
  const lines = [`Synced with ${report.endpoint}: ${report.added.length} added, ${report.corrected.length} corrected${report.conflicts.length ? `, ${report.conflicts.length} in conflict` : ''}.`];
  for (const a of report.added) lines.push(`  + ${a.id}  ${a.app}@v${a.version}  ${a.status}  (from its ${a.from})`);
  for (const c of report.corrected) lines.push(`  ~ ${c.id}  ${c.app}@v${c.version}  ${c.from} → ${c.to}`);
  for (const c of report.conflicts) lines.push(`  ! ${c.id}  ${c.reason}`);
  r.print(lines.join('\n'));
};
