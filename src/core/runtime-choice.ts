import { DeployError } from './errors.js';
import { isDigest, releaseRepository } from './image-ref.js';
import { servicesCannotCarry } from './service-spec.js';
import type { DeployConfig, Deployment, RuntimeSetting } from './types.js';

/**
 * Which runtime runs a deployment, decided from its settings (the `runtime` and `replicas` entries of
 * core/setting-table.ts), and what a deploy must refuse before anything is built: pure, unit-tested.
 */

/** The runtime kind a record keeps for these settings: `swarm` → a Swarm service, else a container. */
export function runtimeKindOf(config: Pick<DeployConfig, 'runtime'>): Deployment['runtime'] {
  return config.runtime === 'swarm' ? 'service' : 'container';
}

/** The setting's word for a record's runtime kind (what a person and deploy.json write). */
export function runtimeSettingOf(kind: Deployment['runtime']): RuntimeSetting {
  return kind === 'service' ? 'swarm' : 'containers';
}

/** What the engine says of itself that decides whether a swarm runtime can run there. */
export interface SwarmPlace {
  /** docker info's Swarm.LocalNodeState: inactive, pending, active, locked, error. */
  state: string;
  manager: boolean;
  /** The swarm's node count (null when not in one). */
  nodes: number | null;
}

/**
 * The settings' own contradictions and what the engine cannot run, as one refusal (exit 8, config), or null.
 * Decided before a deploy records or builds anything.
 */
export function runtimeRefusal(app: string, config: DeployConfig, place: SwarmPlace | null): DeployError | null {
  if (config.runtime !== 'swarm') {
    if (config.replicas > 1)
      return new DeployError(
        'config',
        `replicas is ${config.replicas}, but ${app} runs as one container (runtime containers): only a Swarm service runs replicas.`,
        { hint: 'Deploy it with --runtime swarm (on a swarm manager), or leave replicas at 1.' },
      );
    return null;
  }
  const cannot = servicesCannotCarry(config);
  if (cannot.length > 0)
    return new DeployError(
      'config',
      `A Swarm service cannot carry these settings of ${app} yet: ${cannot.join('; ')}.`,
      { hint: 'Leave those settings out for runtime swarm, or deploy it with --runtime containers.' },
    );
  if (place && !place.manager) {
    const where =
      place.state === 'active'
        ? 'is a worker of a swarm, not a manager'
        : place.state === 'inactive'
          ? 'is not part of a swarm'
          : `is in swarm state "${place.state}", not a manager`;
    return new DeployError('config', `${app} is set to run on a swarm (runtime swarm), but the engine ${where}.`, {
      hint:
        place.state === 'active'
          ? 'Point -H/--context (or the endpoint setting) at a manager of the swarm (docker node ls there lists the managers).'
          : 'Make it a manager with `docker swarm init` (or join it to a swarm as a manager), or point -H/--context at a manager.',
    });
  }
  return null;
}

/**
 * Where a built image can run when it is on the engine that built it only (no registry): on that node. With a
 * registry the nodes pull it (the service carries the credentials), so the tasks spread.
 */
export function placementOf(config: Pick<DeployConfig, 'registry'>, buildNodeId: string | null): string[] {
  return config.registry === null && buildNodeId !== null ? [`node.id==${buildNodeId}`] : [];
}

/**
 * A release moving the app to another runtime than the one serving it (containers → swarm or back): the
 * words of the question, or null when it stays on its runtime (or nothing serves yet).
 */
export function runtimeMove(
  current: Pick<Deployment, 'runtime' | 'version'> | null,
  config: Pick<DeployConfig, 'runtime'>,
): { from: RuntimeSetting; to: RuntimeSetting } | null {
  if (!current) return null;
  const to = runtimeKindOf(config);
  return current.runtime === to ? null : { from: runtimeSettingOf(current.runtime), to: runtimeSettingOf(to) };
}

/**
 * The image a release's Swarm service names: with a registry, the pushed image by its registry digest
 * (REGISTRY/APP@sha256:…), which every node can pull; else the engine's own ref (its node alone has it).
 */
export function serviceImageOf(
  d: Pick<Deployment, 'app' | 'config' | 'imageDigest' | 'imageId'>,
  localRef: string,
): string {
  const registry = d.config.registry;
  return registry && isDigest(d.imageDigest) && d.imageDigest !== d.imageId
    ? `${releaseRepository(registry, d.app)}@${d.imageDigest}`
    : localRef;
}
