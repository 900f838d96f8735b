import { healthcheckOf, stopGraceSeconds } from './container-spec.js';
import { swarmNetworkOf, DOOR_NAMES } from './door.js';
import { routedByFrontDoor, upstreamHost } from './front-door.js';
import { deploymentLabels, isUnproven, LABEL } from './names.js';
import { completeConfig } from './setting-table.js';
import type { DeployConfig, Deployment, RestartPolicy } from './types.js';
import { planMounts, type EngineMount } from './volumes.js';

/**
 * The body of the Engine API's service create call (POST /services/create), as plain data: the fields this tool
 * sets, in the engine's names (the engine client's ServiceSpec takes it as it is).
 */
export type ServiceSpecBody = {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      Env: string[];
      User?: string;
      Init: boolean;
      StopSignal?: string;
      StopGracePeriod?: number;
      Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number };
      Mounts?: EngineMount[];
      Hosts?: string[];
    };
    RestartPolicy: { Condition: 'none' | 'on-failure' | 'any'; MaxAttempts?: number };
    Resources?: { Limits: { MemoryBytes?: number; NanoCPUs?: number } };
    Placement?: { Constraints: string[] };
    Networks?: Array<{ Target: string; Aliases: string[] }>;
    LogDriver: { Name: string; Options: Record<string, string> };
  };
  Mode: { Replicated: { Replicas: number } };
  UpdateConfig: { Parallelism: number; Order: 'stop-first' | 'start-first' };
  EndpointSpec: {
    Mode: 'dnsrr';
    Ports?: Array<{ Protocol: 'tcp' | 'udp'; TargetPort: number; PublishedPort: number; PublishMode: 'host' }>;
  };
};

/*
 * A deployment as one Swarm service (the blue/green shape: a deployment is one workload; the front door can
 * switch between two deployments' services). Pure: the service runtime (adapters/runtime/services.ts) only
 * carries it out. Mirrors core/container-spec.ts setting by setting, with these differences:
 *
 * - Created with 0 replicas: "created, not started". Starting scales it up.
 * - Endpoint mode dnsrr: VIPs and the ingress routing mesh need IPVS, which some kernels lack.
 * - A service cannot be renamed (the engine: "renaming services is not supported") and its name cannot hold a
 *   ".": an unproven name (NAME.starting, core/names unprovenName) becomes NAME plus the label
 *   LABEL.unproven, which the runtime drops once the release is proven (and reports back as NAME.starting).
 * - The record labels go on the service only, not on its tasks' containers: a container runtime listing a
 *   node's containers by label must never take a task for a container deployment. The app's own labels
 *   (`labels`) go on both.
 * - Restart: no → none, on-failure[:N] → on-failure with N (5) attempts, always and unless-stopped → any
 *   (Swarm's restart delay, 5 s by default, is left as Swarm has it).
 *
 * - Behind the front door (core/front-door routedByFrontDoor, the default for an app with TCP ports) the service
 *   publishes nothing: its tasks join the door's attachable overlay network (core/door swarmNetworkOf) under the
 *   release's alias (upstreamHost), which resolves to every running task (dnsrr), on whichever node; the door on
 *   the manager owns the host ports. Otherwise Swarm publishes the ports in host mode on the nodes running a task.
 *
 * Settings a service cannot carry yet (servicesCannotCarry lists those a deployment uses; the runtime refuses
 * them rather than drop them silently):
 * - a port bound to one host address (hostIp) when the door does not route the app: Swarm publishes on every
 *   address of the node (the door binds the address given on the manager);
 * - `networks`: user-defined networks are bridges of one engine unless made as overlays (not checked yet).
 * - an extra host to host-gateway: the engine resolves that word for containers, not for tasks.
 * Carried, with a caveat: a named volume is made by each node's engine on first use, so its data is per node
 * (a task moved to another node starts empty); a bind mount names a path on whichever node runs the task.
 */

/** A task's containers get the stop grace the container runtime gives (in ns, as Swarm takes it). */
const NS_PER_S = 1_000_000_000;
const ON_FAILURE_ATTEMPTS = 5;

function restartPolicy(restart: RestartPolicy): ServiceSpecBody['TaskTemplate']['RestartPolicy'] {
  if (restart === 'no') return { Condition: 'none' };
  if (restart === 'always' || restart === 'unless-stopped') return { Condition: 'any' };
  const m = /^on-failure:(\d+)$/.exec(restart);
  return { Condition: 'on-failure', MaxAttempts: m ? Number(m[1]) : ON_FAILURE_ATTEMPTS };
}

/** HOST:IP (docker run --add-host) as Swarm's hosts line "IP HOST" (as the docker CLI converts --host). */
function hostsLine(extraHost: string): string {
  const colon = extraHost.indexOf(':');
  return `${extraHost.slice(colon + 1)} ${extraHost.slice(0, colon)}`;
}

/** The settings this deployment uses that a Swarm service cannot carry yet, in words; [] when none. */
export function servicesCannotCarry(config: DeployConfig): string[] {
  const c = completeConfig(config);
  const out: string[] = [];
  for (const p of routedByFrontDoor(c) ? [] : c.ports)
    if (p.hostIp !== '')
      out.push(`port ${p.hostIp}:${p.hostPort}:${p.containerPort} (a service publishes on every address)`);
  if ((c.networks ?? []).length > 0) out.push('networks');
  for (const h of c.extraHosts) if (h.endsWith(':host-gateway')) out.push(`extraHosts ${h}`);
  return out;
}

/**
 * The spec of a deployment's service (POST /services/create). `imageVolumes`: the paths the image declares as
 * VOLUME, each given a named volume of the app's unless the settings map it (as for a container).
 */
export function serviceSpec(
  d: Deployment,
  image: string,
  name: string,
  imageVolumes: readonly string[] = [],
  /** Placement constraints (core/runtime-choice placementOf: the building node when there is no registry). */
  constraints: readonly string[] = [],
  /** The door's overlay network, which a routed service's tasks join. */
  doorNetwork: string = swarmNetworkOf(DOOR_NAMES),
): ServiceSpecBody {
  const c = completeConfig(d.config);
  const { mounts } = planMounts(d.app, c.volumes, imageVolumes);
  const env = Object.entries(c.env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v.value}`);
  const health = c.healthCheck.command;
  const unproven = isUnproven(name);
  const routed = routedByFrontDoor(c);
  const ports = routed ? [] : c.ports;
  return {
    Name: unproven ? name.slice(0, -'.starting'.length) : name,
    // The tool's own labels win: they are how it finds its services.
    Labels: { ...c.labels, ...deploymentLabels(d), ...(unproven ? { [LABEL.unproven]: 'true' } : {}) },
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        ...(Object.keys(c.labels).length > 0 ? { Labels: { ...c.labels } } : {}),
        // A task's entrypoint is Command and its CMD is Args. An empty entrypoint is the engine's [''], as for a container.
        ...(c.entrypoint ? { Command: c.entrypoint.length === 0 ? [''] : c.entrypoint } : {}),
        ...(c.command ? { Args: c.command } : {}),
        Env: env,
        ...(c.user ? { User: c.user } : {}),
        Init: c.init,
        ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
        ...(c.stopTimeoutMs !== null ? { StopGracePeriod: stopGraceSeconds(c) * NS_PER_S } : {}),
        ...healthcheckOf(health),
        ...(mounts.length > 0 ? { Mounts: mounts } : {}),
        ...(c.extraHosts.length > 0 ? { Hosts: c.extraHosts.map(hostsLine) } : {}),
      },
      RestartPolicy: restartPolicy(c.restart),
      ...(c.memory !== null || c.cpus !== null
        ? {
            Resources: {
              Limits: {
                ...(c.memory !== null ? { MemoryBytes: c.memory } : {}),
                ...(c.cpus !== null ? { NanoCPUs: Math.round(c.cpus * 1e9) } : {}),
              },
            },
          }
        : {}),
      ...(constraints.length > 0 ? { Placement: { Constraints: [...constraints] } } : {}),
      ...(routed ? { Networks: [{ Target: doorNetwork, Aliases: [upstreamHost(d)] }] } : {}),
      LogDriver: logDriver(c),
    },
    // Created, not started (the runtime's start scales it up).
    Mode: { Replicated: { Replicas: 0 } },
    // A restart is a forced update: one task at a time; start-first when no host port stands in the way (with a
    // host-mode port on every node, start-first stays Pending for ever).
    UpdateConfig: { Parallelism: 1, Order: ports.length > 0 ? 'stop-first' : 'start-first' },
    EndpointSpec: {
      Mode: 'dnsrr',
      ...(ports.length > 0
        ? {
            Ports: ports.map((p) => ({
              Protocol: p.protocol,
              TargetPort: p.containerPort,
              PublishedPort: p.hostPort,
              PublishMode: 'host' as const,
            })),
          }
        : {}),
    },
  };
}

function logDriver(c: DeployConfig): { Name: string; Options: Record<string, string> } {
  const type = c.logDriver ?? 'json-file';
  // Bounded logs by default, as for a container.
  const bounds: Record<string, string> = type === 'json-file' ? { 'max-size': '10m', 'max-file': '3' } : {};
  return { Name: type, Options: { ...bounds, ...c.logOptions } };
}
