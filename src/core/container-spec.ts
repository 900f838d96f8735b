import { deploymentLabels } from './names.js';
import type { Deployment, RestartPolicy } from './types.js';
import { planMounts, type EngineMount } from './volumes.js';

/** The body of the Engine API's container create call (POST /containers/create), as plain data. */
export interface ContainerSpec {
  name: string;
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  HostConfig: {
    PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
    RestartPolicy: { Name: RestartPolicy; MaximumRetryCount?: number };
    LogConfig: { Type: string; Config: Record<string, string> };
    Init: boolean;
    /** Volumes and bind mounts; absent when there are none. */
    Mounts?: EngineMount[];
  };
}

/** Enough retries that a flapping app is noticed, few enough that it does not restart forever. */
const ON_FAILURE_RETRIES = 5;

/**
 * Decides how a deployment's container is created; the Docker adapter only carries it out. `imageVolumes`: the
 * paths the image declares as VOLUME, each given a named volume of the app's unless the settings map it.
 */
export function containerSpec(d: Deployment, image: string, name: string, imageVolumes: readonly string[] = []): ContainerSpec {
  const { mounts } = planMounts(d.app, d.config.volumes ?? [], imageVolumes);
  const exposed: ContainerSpec['ExposedPorts'] = {};
  const bindings: ContainerSpec['HostConfig']['PortBindings'] = {};
  for (const p of d.config.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  const env = Object.entries(d.config.env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v.value}`);
  return {
    name,
    Image: image,
    Env: env,
    Labels: deploymentLabels(d),
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      RestartPolicy:
        d.config.restart === 'on-failure' ? { Name: 'on-failure', MaximumRetryCount: ON_FAILURE_RETRIES } : { Name: d.config.restart },
      // Bounded logs: an app that prints megabytes cannot fill the engine's disk.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Init: true,
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
    },
  };
}
