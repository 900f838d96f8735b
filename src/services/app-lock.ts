import type { Engine } from '../adapters/docker/engine/engine.js';
import type { Endpoint } from '../adapters/docker/endpoint.js';
import { isDeployError } from '../core/errors.js';
import { isValidAppName, parseDeploymentRef } from '../core/ids.js';
import type { Context } from '../context.js';
import { currentDeployment } from './current.js';
import { endpointOfApp } from './app-endpoint.js';
import { endpointForUrl, resolveEndpoint } from './engines.js';
import { lockSyncRecover } from './lock-sync-recover.js';
import { deploymentByRef } from './deployment-ref.js';

/** The app a command changes, and the engine whose lock guards it. */
export interface AppScope {
  app: string;
  endpoint: Endpoint;
}

/**
 * The app and engine a command will lock, read from the store alone (nothing is planned before the lock): the
 * engine chosen on the command line, else the one the app's current deployment (or the named one) lives on,
 * else the app's pinned or default engine. An app this store does not know yet may be on the engine only.
 */
export function scopeOf(ctx: Context, ref: string): AppScope {
  const flagged = ctx.flags.context !== undefined || ctx.flags.host !== undefined;
  try {
    const d = deploymentByRef(ctx, ref, { allowApp: true });
    const url = currentDeployment(ctx, d.app)?.endpoint ?? d.endpoint;
    return { app: d.app, endpoint: flagged ? resolveEndpoint(ctx) : endpointForUrl(ctx, url) };
  } catch (error) {
    const parsed = parseDeploymentRef(ref);
    const app = parsed.type === 'version' ? parsed.app : parsed.word;
    if (!isDeployError(error, 'not_found') || !isValidAppName(app)) throw error;
    return { app, endpoint: endpointOfApp(ctx, app) };
  }
}

/**
 * Runs a change to an app the only way it may run: the app's lock first (waiting with --lock-wait, else exit
 * 14 naming the holder), then the store brought in line with the engine and any interrupted work cleaned up,
 * and only then reading, planning, asking and acting.
 */
export async function underAppLock<T>(
  ctx: Context,
  scope: AppScope,
  purpose: string,
  work: (engine: Engine) => Promise<T>,
): Promise<T> {
  const engine = await ctx.engine(scope.endpoint);
  return lockSyncRecover(ctx, engine, scope.app, purpose, () => work(engine));
}
