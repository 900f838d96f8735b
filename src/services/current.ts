import { CURRENT_STATUSES, type Deployment } from '../core/types.js';
import type { Context } from '../context.js';

/**
 * The app's current deployment, if any: the one a new deployment replaces and rollback moves away from.
 * A current deployment that is stopped (on purpose) or exited (its container died unasked) is still current.
 */
export function currentDeployment(ctx: Context, app: string): Deployment | null {
  const store = ctx.store();
  const id = store.getApp(app)?.currentId;
  const d = id ? store.getDeployment(id) : null;
  return d && CURRENT_STATUSES.includes(d.status) ? d : null;
}
