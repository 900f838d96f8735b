import type { Engine } from '../adapters/docker/engine/engine.js';
import { currentContext, envTls, listContexts, readContext } from '../adapters/docker/contexts.js';
import type { Endpoint } from '../adapters/docker/endpoint.js';
import { chooseEndpoint, isEndpointUrl, normalizeHost } from '../core/endpoint-choice.js';
import type { Context } from '../context.js';

/** TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, for a tcp:// host named directly. */
function tlsFromEnv(ctx: Context, url: string): Endpoint['tls'] {
  if (!url.startsWith('tcp://') || !ctx.env.DOCKER_TLS_VERIFY) return undefined;
  return { ...envTls(ctx.env), verify: true };
}

/**
 * The engine a command talks to: --context / --host, else the app's pinned `endpoint` setting, else
 * DOCKER_HOST, DOCKER_CONTEXT, the docker CLI's current context, else the local socket (see
 * core/endpoint-choice.ts for the order and why).
 */
export function resolveEndpoint(ctx: Context, setting?: { value: string; origin: string }): Endpoint {
  const choice = chooseEndpoint({
    flagContext: ctx.flags.context,
    flagHost: ctx.flags.host,
    setting,
    env: ctx.env,
    currentContext: currentContext(ctx.env),
  });
  if (choice.kind === 'context') return contextEndpoint(ctx, choice.name, `context ${choice.name} (${choice.source})`);
  return hostEndpoint(ctx, choice.url, choice.source);
}

/** The engine a docker context names, with its TLS material. */
function contextEndpoint(ctx: Context, name: string, source: string): Endpoint {
  const c = readContext(ctx.env, name);
  return {
    url: c.host,
    source,
    context: name,
    tls: c.tls
      ? { ...c.tls, verify: !c.skipTlsVerify }
      : c.host.startsWith('tcp://') && c.skipTlsVerify
        ? { verify: false }
        : undefined,
    apiVersion: ctx.env.DOCKER_API_VERSION || undefined,
  };
}

/** An engine named by URL (TLS from the environment for tcp://, as -H takes it). */
function hostEndpoint(ctx: Context, url: string, source: string): Endpoint {
  return { url, source, tls: tlsFromEnv(ctx, url), apiVersion: ctx.env.DOCKER_API_VERSION || undefined };
}

/**
 * An engine named as one item of a setting names it (`nodes`): a URL, as -H takes it, or a docker context name,
 * as --context does; no flag or environment variable stands in for it.
 */
export function endpointOfText(ctx: Context, text: string, source: string): Endpoint {
  return isEndpointUrl(text) ? hostEndpoint(ctx, normalizeHost(text), source) : contextEndpoint(ctx, text, source);
}

/**
 * How to reach the engine a record names by URL, whatever the current default is: the endpoint commands
 * resolve to now if it is the same engine, else the docker context with that host (for its TLS material),
 * else the URL itself.
 */
export function endpointForUrl(ctx: Context, url: string): Endpoint {
  try {
    const now = resolveEndpoint(ctx);
    if (now.url === url) return now;
  } catch {
    // the current choice may be broken (a missing context); the record's URL still works
  }
  const context = listContexts(ctx.env).find((c) => c.host === url);
  if (context) {
    return {
      url,
      source: `context ${context.name} (record)`,
      context: context.name,
      tls: context.tls ? { ...context.tls, verify: !context.skipTlsVerify } : undefined,
      apiVersion: ctx.env.DOCKER_API_VERSION || undefined,
    };
  }
  return hostEndpoint(ctx, url, 'record');
}

/** The engine a recorded deployment lives on. */
export async function engineFor(ctx: Context, url: string, known?: Engine): Promise<Engine> {
  if (known && known.endpoint.url === url) return known;
  return ctx.engine(endpointForUrl(ctx, url));
}
