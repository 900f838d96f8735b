import type { Handler } from '../../main.js';
import { inspectDeployment, inspectionJson } from '../../services/inspect.js';
import { chosenRef } from '../../services/chosen-ref.js';
import { resolveDeployment } from '../../services/resolve.js';
import { renderInspection } from '../../ui/inspect-view.js';

export const handler: Handler = async (ctx, [positional], o) => {
  const ref = await chosenRef(ctx, positional, o.app, 'inspect');
  await (await import('../../services/reconcile.js')).reconcile(ctx, { ref });
  const d = resolveDeployment(ctx, ref, { allowApp: true });
  const inspection = inspectDeployment(ctx, d);
  if (ctx.reporter.json) ctx.reporter.result(inspectionJson(inspection));
  else ctx.reporter.print(renderInspection(inspection, ctx.reporter.colors));
};
