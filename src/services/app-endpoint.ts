import type { Endpoint } from '../adapters/docker/endpoint.js';
import { endpointSetting } from '../core/config.js';
import type { Context } from '../context.js';
import { appLayer, globalLayer } from './app-config.js';
import { resolveEndpoint } from './engines.js';

/**
 * The engine of an app for commands that do not read its repository (sync, lock): --context/--host, else
 * its pinned endpoint in the store or the user-wide defaults, else the docker CLI's choice.
 */
export function endpointOfApp(ctx: Context, app: string | undefined): Endpoint {
  if (!app) return resolveEndpoint(ctx);
  return resolveEndpoint(
    ctx,
    endpointSetting([
      { origin: 'app', settings: appLayer(ctx, app) },
      { origin: 'global', settings: globalLayer(ctx) },
    ]),
  );
}
