import { DeployError } from './errors.js';

/** Everything that can decide which engine a command talks to. */
export interface EndpointInputs {
  flagContext?: string | undefined;
  flagHost?: string | undefined;
  /** The app's `endpoint` setting (a context name or a URL) and the layer it came from. */
  setting?: { value: string; origin: string } | undefined;
  env: {
    DOCKER_HOST?: string | undefined;
    DOCKER_CONTEXT?: string | undefined;
  };
  /** `currentContext` of $DOCKER_CONFIG/config.json. */
  currentContext?: string | undefined;
}

export type EndpointChoice =
  { kind: 'context'; name: string; source: string } | { kind: 'host'; url: string; source: string };

const DEFAULT_CONTEXT = 'default';

/** The local engine's socket, where the docker CLI looks when nothing else is said. */
export const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/** An engine as a one-line view names it: "local" for the default socket, else its address without unix:// or tcp://. */
export function engineLabel(url: string): string {
  if (url === DEFAULT_SOCKET) return 'local';
  return url.replace(/^(unix|tcp):\/\//, '');
}

/** An endpoint setting is a URL when it has a scheme; otherwise it names a docker context. */
export function isEndpointUrl(value: string): boolean {
  return /^(unix|tcp|ssh|npipe|http|https):\/\//.test(value);
}

/**
 * Decides the engine, as docker/cli's resolveContextName does, with the app's pinned endpoint slotted in
 * after the command line and before the environment (a pin is deliberate and per app; DOCKER_HOST is
 * whatever the shell happens to carry):
 *   --context, then --host (both: an error), then the app's `endpoint` setting, then DOCKER_HOST, then
 *   DOCKER_CONTEXT, then the current context of the docker CLI's config, then the default.
 * The "default" context means DOCKER_HOST or the local socket, as in the docker CLI.
 */
export function chooseEndpoint(i: EndpointInputs): EndpointChoice {
  if (i.flagContext && i.flagHost) {
    throw new DeployError('usage', 'Conflicting options: give either --host or --context, not both.', {
      hint: 'As with the docker CLI: --context NAME picks a docker context; --host URL names an engine directly.',
    });
  }
  if (i.flagContext) return contextOrDefault(i.flagContext, '--context', i);
  if (i.flagHost) return { kind: 'host', url: normalizeHost(i.flagHost), source: '--host' };
  if (i.setting) {
    const { value, origin } = i.setting;
    return isEndpointUrl(value)
      ? { kind: 'host', url: normalizeHost(value), source: `endpoint (${origin})` }
      : contextOrDefault(value, `endpoint (${origin})`, i);
  }
  if (i.env.DOCKER_HOST) return { kind: 'host', url: normalizeHost(i.env.DOCKER_HOST), source: 'DOCKER_HOST' };
  if (i.env.DOCKER_CONTEXT) return contextOrDefault(i.env.DOCKER_CONTEXT, 'DOCKER_CONTEXT', i);
  if (i.currentContext) return contextOrDefault(i.currentContext, 'docker config (currentContext)', i);
  return { kind: 'host', url: DEFAULT_SOCKET, source: 'default' };
}

function contextOrDefault(name: string, source: string, i: EndpointInputs): EndpointChoice {
  if (name !== DEFAULT_CONTEXT) return { kind: 'context', name, source };
  // The default context is whatever DOCKER_HOST says, else the local socket.
  return i.env.DOCKER_HOST
    ? { kind: 'host', url: normalizeHost(i.env.DOCKER_HOST), source: `${source}: default context, DOCKER_HOST` }
    : { kind: 'host', url: DEFAULT_SOCKET, source: `${source}: default context` };
}

/** `host:port` alone means tcp, as the docker CLI reads it; checks the URL is one the tool can reach. */
export function normalizeHost(raw: string): string {
  const value = raw.trim();
  const url = /^[a-z]+:\/\//.test(value) ? value : `tcp://${value}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DeployError('usage', `Invalid Docker host ${JSON.stringify(raw)}.`, {
      hint: 'Write unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST[:PORT].',
    });
  }
  if (!['unix:', 'tcp:', 'ssh:', 'http:', 'https:'].includes(parsed.protocol)) {
    throw new DeployError(
      'usage',
      `Unsupported Docker host ${JSON.stringify(raw)} (${parsed.protocol.replace(':', '')}).`,
      {
        hint: 'Supported: unix://, tcp:// (with or without TLS) and ssh://.',
      },
    );
  }
  if (parsed.protocol === 'ssh:' && !parsed.hostname) {
    throw new DeployError('usage', `Invalid ssh host ${JSON.stringify(raw)}: no host name.`, {
      hint: 'Write ssh://USER@HOST[:PORT].',
    });
  }
  if (parsed.protocol === 'ssh:' && parsed.pathname !== '' && parsed.pathname !== '/') {
    throw new DeployError('usage', `An ssh Docker host takes no path (${JSON.stringify(raw)}).`, {
      hint: 'Write ssh://USER@HOST[:PORT].',
    });
  }
  return url;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/**
 * Where the ports an engine publishes can be reached from this machine: the engine's host name, and whether it
 * is this machine (a unix socket, or a tcp/ssh URL to a loopback address).
 */
export function engineHost(url: string): { host: string; local: boolean } {
  try {
    const u = new URL(url);
    if (u.protocol === 'unix:') return { host: '127.0.0.1', local: true };
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return { host, local: isLoopback(host) };
  } catch {
    return { host: '127.0.0.1', local: true };
  }
}
