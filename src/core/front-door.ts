import { containerName } from './names.js';
import type { DeployConfig, Deployment, PortMapping } from './types.js';

/**
 * What the front door (a proxy on each engine, proxy/) does for an app, decided from its settings alone: whether
 * it routes the app, which host ports it must publish for it, and where it sends requests. Pure, unit-tested.
 */

/** The host address and port the front door binds for an app's published port. */
export interface Binding {
  hostIp: string;
  hostPort: number;
}

type Routable = Pick<DeployConfig, 'proxy' | 'ports'>;

/**
 * Whether the front door routes the app's traffic: it has TCP ports to publish and `proxy` is not false. UDP is
 * not proxied: an app with a UDP port publishes its ports itself (as with `proxy: false`). A Swarm service (runtime
 * swarm) is routed the same way: the door on its manager reaches the tasks over an overlay network
 * (core/service-spec.ts), whichever node they run on.
 */
export function routedByFrontDoor(config: Routable): boolean {
  return config.proxy !== false && config.ports.length > 0 && config.ports.every((p) => p.protocol === 'tcp');
}

/** Why an app with ports is not routed, in words (null when it is, or has no ports). */
export function unroutedReason(config: Routable): string | null {
  if (config.ports.length === 0 || routedByFrontDoor(config)) return null;
  if (config.proxy === false) return 'proxy is false';
  return 'it publishes a UDP port, which the front door does not carry';
}

function key(b: Binding): string {
  return `${b.hostIp}|${b.hostPort}`;
}

/** The bindings the front door needs for an app: its published ports, on their host addresses. */
export function bindingsOf(ports: readonly PortMapping[]): Binding[] {
  const seen = new Map<string, Binding>();
  for (const p of ports) seen.set(key(p), { hostIp: p.hostIp, hostPort: p.hostPort });
  return [...seen.values()];
}

/** Whether every binding wanted is among those the front door has. */
export function covers(has: readonly Binding[], wanted: readonly Binding[]): boolean {
  const have = new Set(has.map(key));
  // A port published on every interface covers the same port on one address.
  return wanted.every(
    (w) =>
      have.has(key(w)) ||
      have.has(key({ hostIp: '', hostPort: w.hostPort })) ||
      have.has(key({ hostIp: '0.0.0.0', hostPort: w.hostPort })),
  );
}

/** The union of two binding lists, in a stable order. */
export function union(a: readonly Binding[], b: readonly Binding[]): Binding[] {
  const out = new Map<string, Binding>();
  for (const x of [...a, ...b]) out.set(key(x), x);
  return [...out.values()].sort((x, y) => x.hostPort - y.hostPort || x.hostIp.localeCompare(y.hostIp));
}

/**
 * Two routed apps may share a host port only by name: each must have domains. Returns the app (other than `app`)
 * that holds one of `ports` without domains, or that `app` would collide with when it has none.
 */
export function portConflict(
  app: string,
  config: Pick<DeployConfig, 'ports' | 'domains'>,
  others: ReadonlyArray<{ app: string; listen: readonly number[]; hosts: readonly string[] }>,
): { app: string; port: number } | null {
  for (const o of others) {
    if (o.app === app) continue;
    for (const p of config.ports) {
      if (!o.listen.includes(p.hostPort)) continue;
      if (config.domains.length === 0 || o.hosts.length === 0) return { app: o.app, port: p.hostPort };
    }
  }
  return null;
}

type Named = Pick<Deployment, 'app' | 'id'> & Partial<Pick<Deployment, 'version' | 'containerName'>>;

/**
 * How many times a Swarm release behind the door was restarted: a restart is a new service of the same release
 * beside the old one (services/service-restart.ts), named `APP-vN-ID-rK` and reached under `APP-ID-rK`, so the door
 * can gate it and switch to it as to a new release. 0 for any other workload.
 */
export function restartCount(d: Named): number {
  if (d.version === undefined || !d.containerName) return 0;
  const base = `${containerName(d.app, d.version, d.id)}-r`;
  if (!d.containerName.startsWith(base)) return 0;
  const n = Number(d.containerName.slice(base.length));
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** The service name of a Swarm release's next restart (see restartCount). */
export function restartedName(d: Pick<Deployment, 'app' | 'id' | 'version' | 'containerName'>): string {
  return `${containerName(d.app, d.version, d.id)}-r${restartCount(d) + 1}`;
}

/** The name by which the front door reaches a deployment's workload on its network (stable across renames). */
export function upstreamHost(d: Named): string {
  const restarts = restartCount(d);
  return `${d.app}-${d.id}${restarts > 0 ? `-r${restarts}` : ''}`;
}

/** Whether an upstream address (host:port) is one of the deployment's workloads, whichever restart of it. */
export function isUpstreamOf(address: string, d: Pick<Deployment, 'app' | 'id'>): boolean {
  const base = `${d.app}-${d.id}`;
  return address.startsWith(base) && /^(-r\d+)?:\d+$/.test(address.slice(base.length));
}

/**
 * The release id in an upstream address of the app (APP-ID:PORT, or APP-ID-rK:PORT for a restarted Swarm release;
 * the port optional); null when the address is not the app's.
 */
export function releaseIdOf(app: string, address: string): string | null {
  if (!address.startsWith(`${app}-`)) return null;
  const id = address.slice(app.length + 1).replace(/(-r\d+)?(:\d+)?$/, '');
  return id === '' ? null : id;
}

/** The upstream the front door sends a port's requests to: the workload's container port. */
export function upstreamOf(d: Named & Pick<Deployment, 'config'>): string {
  const first = d.config.ports[0];
  return `${upstreamHost(d)}:${first?.containerPort ?? 80}`;
}

/** Where a person opens an app behind the front door: its domains on the published ports, else the ports. */
export function frontDoorUrls(
  config: Pick<DeployConfig, 'ports' | 'domains' | 'tlsCertificate'> & Partial<Pick<DeployConfig, 'tlsKey'>>,
  host: string,
): string[] {
  const served = tlsPortsOf({ proxy: true, tlsKey: null, ...config });
  const tls = served !== null && !('problem' in served);
  const scheme = tls ? 'https' : 'http';
  // With TLS, a person opens the HTTPS port (the plain one only redirects there).
  const ports = tls ? [served.https] : config.ports;
  if (config.domains.length > 0) {
    return config.domains.flatMap((d) =>
      ports.map((p) => {
        const defaultPort = (scheme === 'https' && p.hostPort === 443) || (scheme === 'http' && p.hostPort === 80);
        return `${scheme}://${d}${defaultPort ? '' : `:${p.hostPort}`}/`;
      }),
    );
  }
  return ports.map((p) => {
    const h = p.hostIp === '' || p.hostIp === '0.0.0.0' || p.hostIp === '::' ? host : p.hostIp;
    return `${scheme}://${h.includes(':') ? `[${h}]` : h}:${p.hostPort}/`;
  });
}

/**
 * The ports of an app served with TLS (tlsCertificate and tlsKey set): the one published on host port 443, else
 * the second, serves HTTPS; another serves plain HTTP, which redirects to HTTPS. Null without TLS; a problem in
 * words when the settings cannot work (one file without the other, fewer than two ports, TCP routing).
 */
export function tlsPortsOf(
  c: Pick<DeployConfig, 'ports' | 'tlsCertificate' | 'tlsKey' | 'proxy'>,
): { http: PortMapping; https: PortMapping } | { problem: string } | null {
  if (c.tlsCertificate === null && c.tlsKey === null) return null;
  if (c.tlsCertificate === null || c.tlsKey === null)
    return {
      problem: `${c.tlsCertificate === null ? 'tlsKey' : 'tlsCertificate'} is set without ${c.tlsCertificate === null ? 'tlsCertificate' : 'tlsKey'}`,
    };
  if (c.proxy === 'tcp') return { problem: 'the front door carries TLS for HTTP routes only (proxy is "tcp")' };
  const tcp = c.ports.filter((p) => p.protocol === 'tcp');
  const https = tcp.find((p) => p.hostPort === 443) ?? tcp[1];
  const http = tcp.find((p) => p !== https);
  if (!https || !http)
    return {
      problem:
        'TLS needs two published ports: one for HTTPS (443, or the second) and one for plain HTTP, which redirects',
    };
  return { http, https };
}
