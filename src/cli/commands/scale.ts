import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../handler.js';
import type { ScaleOptions } from './scale.command.js';
import { scopeOf, underAppLock } from '../../services/app-lock.js';
import { scaleApp } from '../../services/scale.js';
import { wholeNumber } from '../parse.js';

export const handler: Handler<ScaleOptions> = async (ctx, [app, count]) => {
  const replicas = wholeNumber(count, 'replicas', 1, 1000) as number;
  const scope = scopeOf(ctx, app as string);
  await underAppLock(ctx, scope, `scale of ${scope.app}`, async (engine) => {
    const result = await scaleApp(ctx, engine, scope.app, replicas);
    if (ctx.reporter.json) ctx.reporter.result({ ...publicRecord(result.deployment), from: result.from });
    else ctx.reporter.print(result.message);
  });
};
