import type { Handler } from '../handler.js';
import type { InspectOptions } from './inspect.command.js';
import { inspectDeployment, inspectionJson, withTasks } from '../../services/inspect.js';
import { chosenRef } from '../../services/chosen-ref.js';
import { deploymentByRef } from '../../services/deployment-ref.js';
import { renderInspection } from '../../ui/inspect-view.js';

export const handler: Handler<InspectOptions> = async (ctx, [positional], o) => {
  const ref = await chosenRef(ctx, positional, o.app, 'inspect');
  await (await import('../../services/reconcile.js')).reconcile(ctx, { ref });
  const d = deploymentByRef(ctx, ref, { allowApp: true });
  const inspection = await withTasks(ctx, inspectDeployment(ctx, d));
  if (ctx.reporter.json) ctx.reporter.result(inspectionJson(inspection));
  else ctx.reporter.print(renderInspection(inspection, ctx.reporter.colors, ctx.now()));
};
