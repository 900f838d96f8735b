// The typed options of each control verb, checked field by field; the same checks read the state file back.
import { DOOR_VERBS } from './client.js';
import { bool, int, object, only, OptionError, parseRequest, show, str } from './checks.js';
import { DEFAULT_HEALTH, type HealthOptions } from './health.js';
import type { AppRoute, Timing, TlsOptions } from './service.js';

export { OptionError };

export const DEFAULT_TIMING: Timing = {
  drainMs: 30_000,
  streamDrainMs: 120_000,
  bakeMs: 60_000,
  deployTimeoutMs: 60_000,
  responseTimeoutMs: 30_000,
};

const APP = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
// host:port with a DNS name, an IPv4 address or a bracketed IPv6 address.
const ADDRESS =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
const HOST = /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9](?:[a-z0-9-]{0,62}))*$/;
const MAX_MS = 24 * 3600_000;

export function parseApp(value: unknown, where: string): string {
  return str(
    value,
    `${where}: "app"`,
    APP,
    'must be letters, digits, ".", "_" or "-", starting with a letter or digit',
  );
}

function parseAddress(value: unknown, where: string): string {
  const address = str(value, where, ADDRESS, 'must be HOST:PORT');
  int(Number(address.slice(address.lastIndexOf(':') + 1)), `${where}'s port`, 1, 65535);
  return address;
}

function parseHealth(value: unknown, where: string, kind: AppRoute['kind']): HealthOptions {
  const h = object(value ?? {}, where);
  only(h, ['type', 'path', 'successes', 'failures', 'intervalMs', 'timeoutMs'], where);
  const type = h['type'] ?? (kind === 'tcp' ? 'tcp' : 'http');
  if (type !== 'http' && type !== 'tcp')
    throw new OptionError(`${where}.type must be "http" or "tcp" (got ${show(type)})`);
  const path =
    h['path'] === undefined
      ? DEFAULT_HEALTH.path
      : str(h['path'], `${where}.path`, /^\/[^\s]*$/, 'must start with "/" and have no spaces');
  return {
    type,
    path,
    successes:
      h['successes'] === undefined ? DEFAULT_HEALTH.successes : int(h['successes'], `${where}.successes`, 1, 100),
    failures: h['failures'] === undefined ? DEFAULT_HEALTH.failures : int(h['failures'], `${where}.failures`, 1, 100),
    intervalMs:
      h['intervalMs'] === undefined
        ? DEFAULT_HEALTH.intervalMs
        : int(h['intervalMs'], `${where}.intervalMs`, 10, 3600_000),
    timeoutMs:
      h['timeoutMs'] === undefined ? DEFAULT_HEALTH.timeoutMs : int(h['timeoutMs'], `${where}.timeoutMs`, 10, 3600_000),
  };
}

function parseTiming(value: unknown, where: string): Timing {
  const t = object(value ?? {}, where);
  only(t, Object.keys(DEFAULT_TIMING), where);
  const out = { ...DEFAULT_TIMING };
  for (const key of Object.keys(DEFAULT_TIMING) as (keyof Timing)[]) {
    if (t[key] !== undefined)
      out[key] = int(
        t[key],
        `${where}.${key}`,
        key === 'deployTimeoutMs' || key === 'responseTimeoutMs' ? 1 : 0,
        MAX_MS,
      );
  }
  return out;
}

function parseTls(value: unknown, where: string): TlsOptions | null {
  if (value === undefined || value === null) return null;
  const t = object(value, where);
  only(t, ['certFile', 'keyFile', 'port', 'redirect'], where);
  return {
    certFile: str(t['certFile'], `${where}.certFile`, /^\//, 'must be an absolute path'),
    keyFile: str(t['keyFile'], `${where}.keyFile`, /^\//, 'must be an absolute path'),
    port: t['port'] === undefined ? 443 : int(t['port'], `${where}.port`, 0, 65535),
    redirect: t['redirect'] === undefined ? false : bool(t['redirect'], `${where}.redirect`),
  };
}

const ROUTE_KEYS = ['app', 'target', 'kind', 'hosts', 'port', 'tls', 'health', 'timing', 'trustForwarded', 'expect'];

/**
 * A route as the deploy verb sends it (defaults filled in) or as the state file holds it (`stored`: `paused` too).
 * Port 0 is accepted (tests: any free port).
 */
export function parseRoute(value: unknown, where: string, { stored = false }: { stored?: boolean } = {}): AppRoute {
  const r = object(value, where);
  only(r, stored ? [...ROUTE_KEYS, 'paused'] : [...ROUTE_KEYS, 'waitDrain'], where);
  const app = parseApp(r['app'], where);
  const kind = r['kind'] ?? 'http';
  if (kind !== 'http' && kind !== 'tcp')
    throw new OptionError(`${where}: "kind" must be "http" or "tcp" (got ${show(kind)})`);
  if (kind === 'tcp' && r['port'] === undefined) throw new OptionError(`${where}: a tcp route needs "port"`);
  const port = r['port'] === undefined ? 80 : int(r['port'], `${where}: "port"`, 0, 65535);
  const hostsRaw = r['hosts'] ?? [];
  if (!Array.isArray(hostsRaw)) throw new OptionError(`${where}: "hosts" must be a list of host names`);
  const hosts = hostsRaw.map((h, i) =>
    str(h, `${where}: hosts[${i}]`, HOST, 'must be a lower-case host name (a leading "*." for one label)'),
  );
  if (new Set(hosts).size !== hosts.length) throw new OptionError(`${where}: "hosts" lists a name twice`);
  const tls = parseTls(r['tls'], `${where}: tls`);
  if (kind === 'tcp' && (tls || hosts.length > 0))
    throw new OptionError(`${where}: a tcp route has no "hosts" or "tls"`);
  if (tls && tls.port === port && port !== 0) throw new OptionError(`${where}: tls.port and port are both ${port}`);
  let paused: AppRoute['paused'] = null;
  if (stored && r['paused'] !== undefined && r['paused'] !== null) {
    const p = object(r['paused'], `${where}: paused`);
    only(p, ['holdMs'], `${where}: paused`);
    paused = { holdMs: int(p['holdMs'], `${where}: paused.holdMs`, 0, 3600_000) };
  }
  return {
    app,
    kind,
    hosts,
    port,
    tls,
    target: parseAddress(r['target'], `${where}: "target"`),
    ...(r['expect'] === undefined ? {} : { expect: int(r['expect'], `${where}: "expect"`, 1, 1000) }),
    health: parseHealth(r['health'], `${where}: health`, kind),
    timing: parseTiming(r['timing'], `${where}: timing`),
    trustForwarded: r['trustForwarded'] === undefined ? false : bool(r['trustForwarded'], `${where}: "trustForwarded"`),
    paused,
  };
}

export type Command =
  | { verb: 'deploy'; route: AppRoute; waitDrain: boolean }
  | { verb: 'rollback'; app: string }
  | { verb: 'pause'; app: string; holdMs: number }
  | { verb: 'resume'; app: string }
  | { verb: 'remove'; app: string }
  | { verb: 'status'; app: string | null }
  | { verb: 'ping' };

/** One control request: `{"verb": ..., "options": {...}}`. */
export function parseCommand(value: unknown): Command {
  const { verb, options } = parseRequest(value, DOOR_VERBS);
  switch (verb) {
    case 'deploy': {
      const waitDrain = options['waitDrain'] === undefined ? false : bool(options['waitDrain'], 'deploy: "waitDrain"');
      return { verb, route: parseRoute(options, 'deploy'), waitDrain };
    }
    case 'pause': {
      only(options, ['app', 'holdMs'], verb);
      const holdMs = options['holdMs'] === undefined ? 0 : int(options['holdMs'], 'pause: "holdMs"', 0, 3600_000);
      return { verb, app: parseApp(options['app'], verb), holdMs };
    }
    case 'rollback':
    case 'resume':
    case 'remove':
      only(options, ['app'], verb);
      return { verb, app: parseApp(options['app'], verb) };
    case 'status':
      only(options, ['app'], verb);
      return { verb, app: options['app'] === undefined ? null : parseApp(options['app'], verb) };
    default:
      only(options, [], verb);
      return { verb: 'ping' };
  }
}
