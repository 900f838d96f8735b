import { routedByFrontDoor } from './front-door.js';
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
  const perNode = place?.manager ? hostPortTaskLimit(app, config, config.replicas, place) : null;
  if (perNode) return perNode;
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
 * A service that publishes its ports itself (proxy false: host mode, as Swarm here has no ingress) runs at most one
 * task per node, and only on the nodes that can get its image (every node with a registry; else the manager and
 * the app's `nodes`): more would stay Pending for ever. Refused (exit 8) for a deploy's replicas and a scale's count.
 */
export function hostPortTaskLimit(
  app: string,
  config: Pick<DeployConfig, 'runtime' | 'proxy' | 'ports' | 'registry' | 'nodes'>,
  replicas: number,
  place: Pick<SwarmPlace, 'nodes'>,
): DeployError | null {
  if (config.runtime !== 'swarm' || config.ports.length === 0 || routedByFrontDoor(config)) return null;
  const nodes = config.registry !== null ? place.nodes : 1 + new Set(config.nodes).size;
  if (nodes === null || replicas <= nodes) return null;
  const ports = config.ports.map((p) => p.hostPort).join(', ');
  return new DeployError(
    'config',
    `${app} publishes port ${ports} on each node that runs a task (proxy false), so it runs at most one task per node, and ${nodes === 1 ? 'only 1 node' : `${nodes} nodes`} can run it: ${replicas} replicas would stay pending.`,
    {
      hint:
        config.registry !== null
          ? `Put it behind the front door (proxy true: its tasks share the port through the door), or run at most ${nodes}.`
          : `Put it behind the front door (proxy true), run at most ${nodes}, or let more nodes run it: a registry, or more endpoints in nodes.`,
    },
  );
}

/**
 * Where a release's tasks may run. With a registry the nodes pull the image (the service carries the credentials):
 * anywhere. Without one, on the nodes that hold it: the manager that built it (`buildNodeId`) and the app's `nodes`
 * it was loaded into (`holders`). Swarm ANDs its constraints, so "one of these" is said as "none of the others"
 * (`swarm`: every node id of the swarm); with no holder, the manager's node alone.
 */
export function placementOf(
  config: Pick<DeployConfig, 'registry'>,
  buildNodeId: string | null,
  holders: readonly string[] = [],
  swarm: readonly string[] = [],
): string[] {
  if (config.registry !== null || buildNodeId === null) return [];
  if (holders.length === 0) return [`node.id==${buildNodeId}`];
  const allowed = new Set([buildNodeId, ...holders]);
  return swarm.filter((id) => !allowed.has(id)).map((id) => `node.id!=${id}`);
}

/**
 * One of an app's `nodes` that is not a node of the manager's swarm (its engine in no swarm, or its node id not
 * among those the manager lists): the refusal (exit 8), or null when it is one.
 */
export function nodeRefusal(
  app: string,
  given: string,
  url: string,
  nodeId: string | null,
  swarm: ReadonlyArray<{ id: string; hostname: string }>,
  managerUrl: string,
): DeployError | null {
  if (nodeId !== null && swarm.some((n) => n.id === nodeId)) return null;
  const named = given === url ? given : `${given} (${url})`;
  const why = nodeId === null ? 'its engine is in no swarm' : 'its engine is a node of another swarm';
  return new DeployError(
    'config',
    `${app}'s nodes name ${named}, which is not a node of the swarm ${managerUrl} manages: ${why}.`,
    {
      hint:
        `Give the Docker endpoint of a node of that swarm (docker node ls on the manager lists ${swarm.map((n) => n.hostname).join(', ')}), ` +
        `or leave it out (deploy config set nodes=...).`,
    },
  );
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
