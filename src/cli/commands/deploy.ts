import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../../main.js';
import { deploy } from '../../services/deploy.js';
import { renderOutcome } from '../../ui/outcome.js';

export const handler: Handler = async (ctx, [source], o) => {
  const d = await deploy(ctx, {
    source,
    app: o.app as string | undefined,
    ref: o.ref as string | undefined,
    allowDirty: Boolean(o.allowDirty),
    port: o.port as string[] | undefined,
    env: o.env as string[] | undefined,
    envFile: o.envFile as string[] | undefined,
    noCache: o.cache === false,
    pull: Boolean(o.pull),
    healthPath: o.healthPath as string | undefined,
    healthTimeout: o.healthTimeout as string | undefined,
  });
  if (ctx.reporter.json) ctx.reporter.result(publicRecord(d));
  else ctx.reporter.print(renderOutcome(ctx, d));
};
