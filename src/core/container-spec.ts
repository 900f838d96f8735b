import { routedByFrontDoor, upstreamHost } from './front-door.js';
import { deploymentLabels, FRONT_DOOR_NETWORK } from './names.js';
import { completeConfig } from './setting-table.js';
import type { DeployConfig, Deployment } from './types.js';
import { planMounts, type EngineMount } from './volumes.js';

/** The body of the Engine API's container create call (POST /containers/create), as plain data. */
export interface ContainerSpec {
  name: string;
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  Cmd?: string[];
  Entrypoint?: string[];
  User?: string;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
  HostConfig: {
    PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
    RestartPolicy: { Name: string; MaximumRetryCount?: number };
    LogConfig: { Type: string; Config: Record<string, string> };
    Init: boolean;
    /** Volumes and bind mounts; absent when there are none. */
    Mounts?: EngineMount[];
    Memory?: number;
    NanoCpus?: number;
    ExtraHosts?: string[];
    NetworkMode?: string;
  };
  /** The first of the app's networks, joined at creation with the app's name as an alias (the others are joined before start). */
  NetworkingConfig?: { EndpointsConfig: Record<string, { Aliases: string[] }> };
}

/**
 * The networks a deployment's container joins, each with its aliases: the app's own (the app's name as alias, so
 * other containers reach it by name), then, for an app the front door routes, the door's network under the
 * release's own alias (core/front-door upstreamHost), by which the door reaches exactly this release.
 */
export function networksOf(
  d: Pick<Deployment, 'app' | 'id' | 'config'>,
  doorNetwork: string = FRONT_DOOR_NETWORK,
): Array<{ name: string; aliases: string[] }> {
  const own = (d.config.networks ?? []).map((name) => ({ name, aliases: [d.app] }));
  return routedByFrontDoor(d.config) ? [...own, { name: doorNetwork, aliases: [upstreamHost(d)] }] : own;
}

/** Enough retries that a flapping app is noticed, few enough that it does not restart forever. */
const ON_FAILURE_RETRIES = 5;

/** A health command's rhythm: often enough that the gate sees health within seconds, rarely enough to cost nothing. */
export const HEALTH_COMMAND = { intervalMs: 2_000, timeoutMs: 5_000, retries: 3 };

/**
 * The HEALTHCHECK a health command gives a workload (a container, or a service's tasks), in the engine's
 * nanoseconds: none without one, and 'none' turns the image's own off.
 */
export function healthcheckOf(health: string | null | undefined): {
  Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number };
} {
  if (health === 'none') return { Healthcheck: { Test: ['NONE'] } };
  if (!health) return {};
  return {
    Healthcheck: {
      Test: ['CMD-SHELL', health],
      Interval: HEALTH_COMMAND.intervalMs * NS_PER_MS,
      Timeout: HEALTH_COMMAND.timeoutMs * NS_PER_MS,
      Retries: HEALTH_COMMAND.retries,
    },
  };
}
const NS_PER_MS = 1_000_000;

/** How long an app gets to stop before it is killed, in whole seconds (the engine's default is 10). */
export function stopGraceSeconds(c: DeployConfig): number {
  return Math.ceil((c.stopTimeoutMs ?? 10_000) / 1000);
}

function restartPolicy(restart: string): ContainerSpec['HostConfig']['RestartPolicy'] {
  if (restart === 'on-failure') return { Name: 'on-failure', MaximumRetryCount: ON_FAILURE_RETRIES };
  const m = /^on-failure:(\d+)$/.exec(restart);
  return m ? { Name: 'on-failure', MaximumRetryCount: Number(m[1]) } : { Name: restart };
}

function logConfig(c: DeployConfig): ContainerSpec['HostConfig']['LogConfig'] {
  const type = c.logDriver ?? 'json-file';
  // Bounded logs by default: an app that prints megabytes cannot fill the engine's disk.
  const bounds: Record<string, string> = type === 'json-file' ? { 'max-size': '10m', 'max-file': '3' } : {};
  return { Type: type, Config: { ...bounds, ...c.logOptions } };
}

/**
 * Decides how a deployment's container is created; the Docker adapter only carries it out. `imageVolumes`: the
 * paths the image declares as VOLUME, each given a named volume of the app's unless the settings map it.
 */
export function containerSpec(
  d: Deployment,
  image: string,
  name: string,
  imageVolumes: readonly string[] = [],
): ContainerSpec {
  const c = completeConfig(d.config);
  const { mounts } = planMounts(d.app, c.volumes, imageVolumes);
  const exposed: ContainerSpec['ExposedPorts'] = {};
  const bindings: ContainerSpec['HostConfig']['PortBindings'] = {};
  // Behind the front door the app publishes nothing: the door owns its host ports and reaches it on its network.
  const routed = routedByFrontDoor(c);
  for (const p of c.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    if (!routed) (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  const env = Object.entries(c.env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v.value}`);
  const health = c.healthCheck.command;
  const [network] = networksOf({ ...d, config: c });
  return {
    name,
    Image: image,
    Env: env,
    // The tool's own labels win: they are how it finds its containers.
    Labels: { ...c.labels, ...deploymentLabels(d) },
    ExposedPorts: exposed,
    ...(c.command ? { Cmd: c.command } : {}),
    // An empty entrypoint is the engine's [""] (docker run --entrypoint "").
    ...(c.entrypoint ? { Entrypoint: c.entrypoint.length === 0 ? [''] : c.entrypoint } : {}),
    ...(c.user ? { User: c.user } : {}),
    ...(c.stopSignal ? { StopSignal: c.stopSignal } : {}),
    ...(c.stopTimeoutMs !== null ? { StopTimeout: stopGraceSeconds(c) } : {}),
    ...healthcheckOf(health),
    HostConfig: {
      PortBindings: bindings,
      RestartPolicy: restartPolicy(c.restart),
      LogConfig: logConfig(c),
      Init: c.init,
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      ...(c.memory !== null ? { Memory: c.memory } : {}),
      ...(c.cpus !== null ? { NanoCpus: Math.round(c.cpus * 1e9) } : {}),
      ...(c.extraHosts.length > 0 ? { ExtraHosts: c.extraHosts } : {}),
      ...(network ? { NetworkMode: network.name } : {}),
    },
    ...(network ? { NetworkingConfig: { EndpointsConfig: { [network.name]: { Aliases: network.aliases } } } } : {}),
  };
}
