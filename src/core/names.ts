import { recordLabel } from './record-label.js';
import type { Deployment } from './types.js';

/** Every image and container the tool makes carries these labels; it finds them by label, never by name. */
export const LABEL = {
  managed: 'dev.deploy.managed',
  app: 'dev.deploy.app',
  id: 'dev.deploy.id',
  version: 'dev.deploy.version',
  kind: 'dev.deploy.kind',
  parent: 'dev.deploy.parent',
  commit: 'dev.deploy.commit',
  ref: 'dev.deploy.ref',
  createdAt: 'dev.deploy.created-at',
  /** The deployment as JSON, secret values left out (see record-label.ts): on images, the one that built it. */
  record: 'dev.deploy.record',
  /** On a deployment's Swarm service: it has not passed its health gate yet (a service cannot be renamed). */
  unproven: 'dev.deploy.unproven',
  /** On a deployment's Swarm service scaled to 0: how its last task ended, {"exitCode","finishedAt"} (Swarm forgets the task). */
  lastExit: 'dev.deploy.last-exit',
  /** On a deployment's Swarm service: the task count `deploy scale` set (a start scales back to it). */
  replicas: 'dev.deploy.replicas',
  /** The app's lock container. */
  lock: 'dev.deploy.lock',
  /** A volume the tool made for an app: its name as the app's settings (or the image's VOLUME path) give it. */
  volume: 'dev.deploy.volume',
  /** The engine's front door: what part of it an object is (image, container, network, state). */
  frontDoor: 'dev.deploy.front-door',
  /** On the front door's container: the host bindings it publishes (JSON), as it was created with them. */
  frontDoorBindings: 'dev.deploy.front-door.bindings',
  /** On the front door's image: the base image it was built from. */
  frontDoorBase: 'dev.deploy.front-door.base',
  /** On the front door's container behind a relay: its generation, the directory of its sockets. */
  frontDoorGeneration: 'dev.deploy.front-door.generation',
  /** On the relay's container: the version of the relay protocol it speaks (core/door RELAY_VERSION). */
  frontDoorRelayVersion: 'dev.deploy.front-door.relay-version',
} as const;

/** The front door's container on an engine: one per engine, found by this name. */
export const FRONT_DOOR_CONTAINER = 'deploy-front-door';
/** Its replacement while a handover runs (new bindings or a new image), renamed FRONT_DOOR_CONTAINER after. */
export const FRONT_DOOR_NEXT = 'deploy-front-door-next';
/** The relay: on the host's network, it listens on the host ports and hands each connection to the door. */
export const FRONT_DOOR_RELAY = 'deploy-front-door-relay';
/** The relay's replacement while its own upgrade runs, renamed FRONT_DOOR_RELAY after. */
export const FRONT_DOOR_RELAY_NEXT = 'deploy-front-door-relay-next';
/** The network the front door and every routed app's containers share: the door reaches them there by alias. */
export const FRONT_DOOR_NETWORK = 'deploy-front-door';
/** The named volume holding the front door's state file: routes survive a restart and a replacement. */
export const FRONT_DOOR_VOLUME = 'deploy-front-door-state';
/** The front door's images: FRONT_DOOR_IMAGE_REPO:<hash of its program and base image>. */
export const FRONT_DOOR_IMAGE_REPO = 'deploy-front-door';

export function imageRef(app: string, buildId: string): string {
  return `deploy/${app}:${buildId}`;
}

export function containerName(app: string, version: number, id: string): string {
  return `${app}-v${version}-${id}`;
}

/** Labels that identify a deployment on the engine, and the record itself. */
export function deploymentLabels(d: Deployment): Record<string, string> {
  return {
    [LABEL.record]: recordLabel(d),
    [LABEL.managed]: 'true',
    [LABEL.app]: d.app,
    [LABEL.id]: d.id,
    [LABEL.version]: String(d.version),
    [LABEL.kind]: d.kind,
    ...(d.parentId ? { [LABEL.parent]: d.parentId } : {}),
    [LABEL.commit]: d.commit,
    [LABEL.ref]: d.ref,
    [LABEL.createdAt]: new Date(d.createdAt).toISOString(),
  };
}

/**
 * The label baked into an image at build time: the record of the deployment that built it (the app is in it).
 * The classic builder turns each label into a build step with its own intermediate container (~80 ms), so
 * images get one; per-deployment labels go on containers, which cost nothing.
 */
export function buildLabels(d: Deployment): Record<string, string> {
  return { [LABEL.record]: recordLabel(d) };
}

/**
 * What a deployment's container is called until it passes its health gate: the engine itself then says which
 * containers never served, so another store's `deploy sync` never takes one for a release (it is renamed to
 * containerName() once its gate passes).
 */
export function unprovenName(name: string): string {
  return `${name}.starting`;
}

export function isUnproven(name: string): boolean {
  return name.endsWith('.starting');
}
