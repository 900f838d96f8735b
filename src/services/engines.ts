import type { Engine } from '../adapters/docker/engine.js';
import { DEFAULT_SOCKET, type Endpoint } from '../adapters/docker/endpoint.js';
import type { Context } from '../context.js';

/** The engine commands use when nothing else decides: DOCKER_HOST, else the local socket. */
export function defaultEndpoint(ctx: Context): Endpoint {
  const host = ctx.env.DOCKER_HOST;
  if (host) return { url: host, source: 'DOCKER_HOST', apiVersion: ctx.env.DOCKER_API_VERSION };
  return { url: DEFAULT_SOCKET, source: 'default', apiVersion: ctx.env.DOCKER_API_VERSION };
}

/** The engine a recorded deployment lives on, whatever the current default is. */
export async function engineFor(ctx: Context, url: string, known?: Engine): Promise<Engine> {
  if (known && known.endpoint.url === url) return known;
  return ctx.engine({ url, source: 'record', apiVersion: ctx.env.DOCKER_API_VERSION });
}
