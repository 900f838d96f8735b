import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';

/** The app's current deployment, if any: the one a new deployment replaces and rollback moves away from. */
export function currentDeployment(ctx: Context, app: string): Deployment | null {
  const store = ctx.store();
  const id = store.getApp(app)?.currentId;
  const d = id ? store.getDeployment(id) : null;
  return d && (d.status === 'running' || d.status === 'stopped') ? d : null;
}
