import { durationInProse } from './duration.js';
import type { ContainerSpec } from './container-spec.js';
import { isUpstreamOf, tlsPortsOf, union, upstreamOf, type Binding } from './front-door.js';
import {
  FRONT_DOOR_CONTAINER,
  FRONT_DOOR_IMAGE_REPO,
  FRONT_DOOR_NETWORK,
  FRONT_DOOR_NEXT,
  FRONT_DOOR_RELAY,
  FRONT_DOOR_RELAY_NEXT,
  FRONT_DOOR_VOLUME,
  LABEL,
} from './names.js';
import type { Deployment } from './types.js';
import type { EngineMount } from './volumes.js';

/**
 * The front door as objects on an engine (its image, container, network and state volume), decided as data: what
 * the adapters (adapters/front-door) create, and when the running one must be replaced. Pure, unit-tested.
 */

/** The names of the door's objects on an engine; tests use their own so they never touch a real door. */
export interface DoorNames {
  container: string;
  next: string;
  /** The relay's container (on the host's network) and its replacement during its own upgrade. */
  relay: string;
  relayNext: string;
  network: string;
  volume: string;
  imageRepo: string;
}

export const DOOR_NAMES: DoorNames = {
  container: FRONT_DOOR_CONTAINER,
  next: FRONT_DOOR_NEXT,
  relay: FRONT_DOOR_RELAY,
  relayNext: FRONT_DOOR_RELAY_NEXT,
  network: FRONT_DOOR_NETWORK,
  volume: FRONT_DOOR_VOLUME,
  imageRepo: FRONT_DOOR_IMAGE_REPO,
};

/**
 * The door's overlay network on a swarm manager (attachable, labelled like its other objects): a routed Swarm
 * service's tasks join it under their release's alias, on whichever node they run, and the door joins it too.
 */
export function swarmNetworkOf(names: Pick<DoorNames, 'network'>): string {
  return `${names.network}-swarm`;
}

/** The base image when DEPLOY_FRONT_DOOR_IMAGE is not set: a Node with nothing else (set-up makes it offline). */
export const DEFAULT_FRONT_DOOR_BASE = 'node:24-slim';
/** Where the door's program is in its image, and where it keeps its state (the volume). */
export const DOOR_PROGRAM = '/proxy.js';
export const DOOR_STATE_DIR = '/var/lib/front-door';
/** Where the door listens behind a relay: one directory per generation of the door, one socket per port. */
export const DOOR_SOCKETS_ROOT = `${DOOR_STATE_DIR}/sockets`;
/**
 * The relay protocol's version (proxy/src/relay.ts): a relay labelled with another is replaced (a SO_REUSEPORT
 * handover); one that speaks it is kept across new versions of the door, which replace only the door.
 */
export const RELAY_VERSION = '1';

/**
 * How the door takes an engine's host ports:
 * - relay: a relay container on the host's network binds each port when a route needs it and hands connections to
 *   the door over unix sockets in their shared volume; the door is never replaced for a port, and a new door
 *   (upgrade, restart) starts beside the old one before the relay sends it new connections: no gap;
 * - publish: the door's container publishes the ports (fixed at its creation: a new port is a new container, a
 *   gap of seconds for every app). Where the host's network is not the host's: Docker Desktop, a rootless engine,
 *   or DEPLOY_FRONT_DOOR_PUBLISH=1.
 */
export type DoorMode = 'relay' | 'publish';

export function doorModeOf(
  info: { operatingSystem: string; rootless: boolean },
  env: Record<string, string | undefined> = {},
): DoorMode {
  if (env['DEPLOY_FRONT_DOOR_PUBLISH'] === '1') return 'publish';
  if (info.rootless || /docker desktop/i.test(info.operatingSystem)) return 'publish';
  return 'relay';
}
const DOOR_COMPILE_CACHE = '/var/cache/front-door';

/** The door's image: one tag per program and base, so a new version of deploy (or a new base) is a new image. */
export function doorImageRef(repo: string, digestHex: string): string {
  return `${repo}:${digestHex.slice(0, 12)}`;
}

/**
 * The door's image: the base, the program, and Node's compile cache of the program filled at build time, so each
 * command the tool sends (a `node` started by an exec) skips compiling the 1.3 MB bundle again.
 */
export function doorDockerfile(base: string): string {
  return [
    `FROM ${base}`,
    `COPY proxy.js ${DOOR_PROGRAM}`,
    `ENV NODE_COMPILE_CACHE=${DOOR_COMPILE_CACHE}`,
    `RUN ["node", "${DOOR_PROGRAM}", "--help"]`,
    `CMD ["node", "${DOOR_PROGRAM}", "serve"]`,
    '',
  ].join('\n');
}

export function doorImageLabels(base: string): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.frontDoor]: 'image', [LABEL.frontDoorBase]: base };
}

/** Labels of the door's network and state volume. */
export function doorObjectLabels(part: 'network' | 'state'): Record<string, string> {
  return { [LABEL.managed]: 'true', [LABEL.frontDoor]: part };
}

function wildcard(hostIp: string): boolean {
  return hostIp === '' || hostIp === '0.0.0.0';
}

/**
 * The bindings a container can publish at once: a port published on every interface already takes that port on
 * each address (the engine would refuse the same port again on one of them), and '' and 0.0.0.0 are one.
 */
export function publishable(bindings: readonly Binding[]): Binding[] {
  const everywhere = new Set(bindings.filter((b) => wildcard(b.hostIp)).map((b) => b.hostPort));
  const kept = bindings
    .filter((b) => !everywhere.has(b.hostPort))
    .concat([...everywhere].map((hostPort) => ({ hostIp: '', hostPort })));
  return union([], kept);
}

/** The body of the door container's create call. Each host port goes to the same port inside: routes listen there. */
export interface DoorContainerSpec extends Pick<ContainerSpec, 'name' | 'Image' | 'Labels' | 'ExposedPorts'> {
  Cmd: string[];
  Env: string[];
  HostConfig: {
    PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
    RestartPolicy: { Name: 'unless-stopped' };
    LogConfig: { Type: 'json-file'; Config: Record<string, string> };
    Init: true;
    Mounts: EngineMount[];
    NetworkMode: string;
  };
}

export function doorContainerSpec(
  names: DoorNames,
  name: string,
  image: string,
  bindings: readonly Binding[],
  /** Behind a relay: the door's generation (it publishes nothing and listens on its generation's sockets). */
  generation: number | null = null,
): DoorContainerSpec {
  const published = generation === null ? publishable(bindings) : [];
  const exposed: DoorContainerSpec['ExposedPorts'] = {};
  const ports: DoorContainerSpec['HostConfig']['PortBindings'] = {};
  for (const b of published) {
    const key = `${b.hostPort}/tcp`;
    exposed[key] = {};
    (ports[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return {
    name,
    Image: image,
    Cmd: ['node', DOOR_PROGRAM, 'serve'],
    Env: generation === null ? [] : [`FRONT_DOOR_SOCKETS=${DOOR_SOCKETS_ROOT}/${generation}`],
    Labels: {
      [LABEL.managed]: 'true',
      [LABEL.frontDoor]: 'container',
      [LABEL.frontDoorBindings]: JSON.stringify(published),
      ...(generation === null ? {} : { [LABEL.frontDoorGeneration]: String(generation) }),
    },
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: ports,
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      // docker-init forwards the stop signal: the door closes its listeners and drains before it exits.
      Init: true,
      Mounts: [{ Type: 'volume', Source: names.volume, Target: DOOR_STATE_DIR, ReadOnly: false }],
      NetworkMode: names.network,
    },
  };
}

/** The door's generation behind a relay (its label); null for a door that publishes its ports itself. */
export function generationOf(labels: Record<string, string>): number | null {
  const n = Number(labels[LABEL.frontDoorGeneration]);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** The body of the relay container's create call: the host's network, the door's volume (its sockets). */
export interface RelayContainerSpec extends Pick<ContainerSpec, 'name' | 'Image' | 'Labels'> {
  Cmd: string[];
  HostConfig: {
    NetworkMode: 'host';
    RestartPolicy: { Name: 'unless-stopped' };
    LogConfig: { Type: 'json-file'; Config: Record<string, string> };
    Init: true;
    Mounts: EngineMount[];
  };
}

export function relayContainerSpec(names: DoorNames, name: string, image: string): RelayContainerSpec {
  return {
    name,
    Image: image,
    Cmd: ['node', DOOR_PROGRAM, 'relay'],
    Labels: {
      [LABEL.managed]: 'true',
      [LABEL.frontDoor]: 'relay',
      [LABEL.frontDoorRelayVersion]: RELAY_VERSION,
    },
    HostConfig: {
      NetworkMode: 'host',
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Init: true,
      Mounts: [{ Type: 'volume', Source: names.volume, Target: DOOR_STATE_DIR, ReadOnly: false }],
    },
  };
}

/** The bindings a door container was created with (its label); null when the label is missing or not ours. */
export function bindingsOfLabel(raw: string | undefined): Binding[] | null {
  if (!raw) return null;
  try {
    const list = JSON.parse(raw) as unknown;
    if (!Array.isArray(list)) return null;
    const out: Binding[] = [];
    for (const b of list) {
      const { hostIp, hostPort } = (b ?? {}) as Partial<Binding>;
      if (
        typeof hostIp !== 'string' ||
        typeof hostPort !== 'number' ||
        !Number.isInteger(hostPort) ||
        hostPort < 1 ||
        hostPort > 65535
      )
        return null;
      out.push({ hostIp, hostPort });
    }
    return out;
  } catch {
    return null;
  }
}

/** What is on the engine under the door's name. */
export interface DoorSeen {
  running: boolean;
  imageId: string;
  /** null: its label is missing or unreadable (not made by this tool as it is now). */
  bindings: Binding[] | null;
}

export type DoorAction =
  | { kind: 'create'; bindings: Binding[] }
  | { kind: 'start'; bindings: Binding[] }
  | { kind: 'keep'; bindings: Binding[] }
  /** Stopped and outdated: nothing is served, so it is removed and made again. */
  | { kind: 'recreate'; bindings: Binding[]; why: string }
  /** Running and outdated: a handover to a new container (see adapters/front-door/door-container.ts). */
  | { kind: 'replace'; bindings: Binding[]; why: string };

function show(b: Binding): string {
  return `${wildcard(b.hostIp) ? '*' : b.hostIp.includes(':') ? `[${b.hostIp}]` : b.hostIp}:${b.hostPort}`;
}

/**
 * What to do so that a door serving `wanted` runs from `imageId`. A replacement publishes what the old one did
 * and what is wanted (other apps' ports are kept), and never a port twice.
 */
export function doorAction(seen: DoorSeen | null, want: { imageId: string; bindings: readonly Binding[] }): DoorAction {
  if (!seen) return { kind: 'create', bindings: publishable(want.bindings) };
  const has = seen.bindings ?? [];
  const bindings = publishable(union(has, want.bindings));
  const missing = publishable(want.bindings).filter(
    (w) => !has.some((h) => (h.hostIp === w.hostIp || wildcard(h.hostIp)) && h.hostPort === w.hostPort),
  );
  const reasons: string[] = [];
  if (seen.imageId !== want.imageId) reasons.push('its image is not the one this version of deploy runs');
  if (seen.bindings === null) reasons.push('its published ports are not recorded on it');
  else if (missing.length > 0) reasons.push(`it does not publish ${missing.map(show).join(', ')}`);
  if (reasons.length === 0) return { kind: seen.running ? 'keep' : 'start', bindings: publishable(has) };
  const why = reasons.join('; ');
  return seen.running ? { kind: 'replace', bindings, why } : { kind: 'recreate', bindings, why };
}

// ---- The control channel: one `node /proxy.js VERB JSON` per command -----------------------------------------------

/** What the deploy verb takes (proxy/src/options.ts): omitted fields get the door's defaults. */
export interface DoorRoute {
  app: string;
  /** host:port on the door's network: an alias of the release's container (core/front-door upstreamOf). */
  target: string;
  kind?: 'http' | 'tcp';
  hosts?: string[];
  /** The port the door listens on inside its container: the host port (doorContainerSpec maps them 1:1). */
  port?: number;
  /** Paths inside the door's container. */
  tls?: { certFile: string; keyFile: string; port?: number; redirect?: boolean } | null;
  health?: {
    type?: 'http' | 'tcp';
    path?: string;
    successes?: number;
    failures?: number;
    intervalMs?: number;
    timeoutMs?: number;
  };
  timing?: {
    drainMs?: number;
    streamDrainMs?: number;
    bakeMs?: number;
    deployTimeoutMs?: number;
    responseTimeoutMs?: number;
  };
  trustForwarded?: boolean;
  /**
   * How many addresses the target's name must resolve to and pass the gate (a Swarm service's tasks: its
   * replicas). Sent only above 1: a door that predates multi-address routes refuses fields it does not know.
   */
  expect?: number;
}

/** Where an app's certificate and key are inside the door's container (its state volume). */
export function doorTlsFiles(app: string): { certFile: string; keyFile: string } {
  return { certFile: `${DOOR_STATE_DIR}/tls/${app}/cert.pem`, keyFile: `${DOOR_STATE_DIR}/tls/${app}/key.pem` };
}

/** The door's answer to a deploy: the proxy's own type (a type only; nothing of proxy/ is bundled into the CLI). */
export type { DeployResult as DoorDeployResult } from '../../proxy/src/deploy.js';

export type DoorAnswer = { ok: true; result: unknown } | { ok: false; error: string };

/** The door's one JSON line on stdout; null when the output is not an answer (the program did not run as meant). */
export function readDoorAnswer(stdout: string): DoorAnswer | null {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const value = JSON.parse(line) as { ok?: unknown; result?: unknown; error?: unknown };
    if (value.ok === true) return { ok: true, result: value.result ?? null };
    if (value.ok === false && typeof value.error === 'string') return { ok: false, error: value.error };
    return null;
  } catch {
    return null;
  }
}

/** Whether a refusal is the client in the container failing to reach the door's server (not the door saying no). */
export function doorUnreachable(error: string): boolean {
  return /^cannot reach the front door's control socket|^the front door closed the control connection without an answer|^no answer from the front door/.test(
    error,
  );
}

const DOOR_DEFAULT_DEPLOY_TIMEOUT_MS = 60_000;
const DOOR_DEFAULT_DRAIN_MS = 30_000;
const DOOR_DEFAULT_STREAM_DRAIN_MS = 120_000;
/** What an exec costs beyond the door's own work: creating it, node starting in the container, the answer back. */
const EXEC_MARGIN_MS = 15_000;

/** How long a deploy's exec may take: the door's gate, and its drain when waited for, and a margin. */
export function deployExecTimeoutMs(route: DoorRoute, waitDrain: boolean): number {
  const t = route.timing ?? {};
  const gate = t.deployTimeoutMs ?? DOOR_DEFAULT_DEPLOY_TIMEOUT_MS;
  const drain = waitDrain
    ? Math.max(t.drainMs ?? DOOR_DEFAULT_DRAIN_MS, t.streamDrainMs ?? DOOR_DEFAULT_STREAM_DRAIN_MS)
    : 0;
  return gate + drain + EXEC_MARGIN_MS;
}

/**
 * The route the door is sent for a release of an app it routes (core/front-door routedByFrontDoor): its workload by
 * its stable alias on the door's network, the first published port (the door listens on the host port's number:
 * doorContainerSpec maps them 1:1), its domains, its HTTP health path (a TCP connect without one), its gate's
 * timeout, drain and bake window. Not yet: TLS (the certificate and key must first be copied into the door's
 * volume) and a health check on another port than the first.
 */
export function doorRouteOf(
  d: Pick<Deployment, 'app' | 'id' | 'config'> & Partial<Pick<Deployment, 'runtime' | 'version' | 'containerName'>>,
): DoorRoute {
  const c = d.config;
  // A Swarm service's alias resolves to every running task: the door gates (and balances over) that many.
  const replicas = d.runtime === 'service' ? c.replicas : 1;
  const kind = c.proxy === 'tcp' ? 'tcp' : 'http';
  const first = c.ports[0];
  const path = kind === 'http' ? c.healthCheck.path : null;
  const tls = kind === 'http' ? tlsPortsOf(c) : null;
  return {
    app: d.app,
    target: upstreamOf(d),
    kind,
    hosts: kind === 'http' ? c.domains : [],
    port: tls && !('problem' in tls) ? tls.http.hostPort : (first?.hostPort ?? 80),
    tls: tls && !('problem' in tls) ? { ...doorTlsFiles(d.app), port: tls.https.hostPort, redirect: true } : null,
    health:
      path === null
        ? { type: 'tcp', intervalMs: c.healthCheck.intervalMs }
        : { type: 'http', path, intervalMs: c.healthCheck.intervalMs },
    timing: { deployTimeoutMs: c.healthCheck.timeoutMs, drainMs: c.drainTimeoutMs, bakeMs: c.bakeWindowMs },
    ...(replicas > 1 ? { expect: replicas } : {}),
  };
}

/** The door's reason for refusing a release, as the CLI says a failed check. */
export function doorCheckFailure(refusal: string): string {
  const detail = refusal.replace(/^.*?did not pass its health check: /, '');
  const m = /^not healthy within (\d+) ms: (.*)$/s.exec(detail);
  return m
    ? `the front door's check did not pass within ${durationInProse(Number(m[1]))} (last: ${m[2]})`
    : `the front door's check failed: ${detail}`;
}

/** Whether the door's status of an app says it routes to this deployment. */
export function routesTo(
  status: { readonly [key: string]: unknown } | null,
  d: Pick<Deployment, 'app' | 'id'>,
): boolean {
  const active = status?.active as { address?: unknown } | null | undefined;
  return typeof active?.address === 'string' && isUpstreamOf(active.address, d);
}

/** A route of the door with nothing left to send its requests to. */
export interface StaleRoute {
  app: string;
  /** Where it sends requests (APP-ID:PORT), or null for a route the door could not restore. */
  address: string | null;
  why: string;
}

/**
 * The door's routes whose release is gone from the engine (its container or service removed outside the tool:
 * every request through them fails), judged by the engine alone, so that routes of apps another machine's store
 * deploys are judged the same way: a route is stale when no workload of the engine carries its release's id (or,
 * for a route the door could not restore, any id of its app). A stopped release is not stale: it is paused.
 */
export function staleRoutes(
  routes: ReadonlyArray<{ app: string; address: string | null }>,
  failed: ReadonlyArray<{ app: string }>,
  workloads: ReadonlyArray<{ app: string; id: string }>,
): StaleRoute[] {
  const ids = new Set(workloads.map((w) => `${w.app}\u0000${w.id}`));
  const apps = new Set(workloads.map((w) => w.app));
  const out: StaleRoute[] = [];
  for (const r of routes) {
    const host = r.address?.replace(/:\d+$/, '') ?? '';
    const id = host.startsWith(`${r.app}-`) ? host.slice(r.app.length + 1) : null;
    if (id === null) continue;
    if (!ids.has(`${r.app}\u0000${id}`))
      out.push({ app: r.app, address: r.address, why: `no container or service of release ${id} is on the engine` });
  }
  for (const f of failed)
    if (!apps.has(f.app))
      out.push({
        app: f.app,
        address: null,
        why: 'the door could not restore it, and the app has nothing on the engine',
      });
  return out;
}
