import {
  doorAction,
  bindingsOfLabel,
  DOOR_NAMES,
  doorContainerSpec,
  doorModeOf,
  doorObjectLabels,
  swarmNetworkOf,
  generationOf,
  publishable,
  relayContainerSpec,
  RELAY_VERSION,
  type DoorAction,
  type DoorMode,
  type DoorNames,
} from '../../core/door.js';
import { DeployError, isDeployError } from '../../core/errors.js';
import { covers, union, type Binding } from '../../core/front-door.js';
import { LABEL } from '../../core/names.js';
import type { Engine } from '../docker/engine/engine.js';
import type { ContainerState } from '../docker/engine/types.js';
import { FrontDoorClient } from './client.js';
import { ensureDoorImage, type DoorImage } from './door-image.js';

/**
 * The front door running on an engine: its network, its state volume, its container publishing the host ports
 * routed apps need, from the image of this version of deploy.
 *
 * Replacing a running door (new ports to publish, or a new image) is a handover with a gap. A host port cannot be
 * published by two containers, and a container's published ports are fixed at its creation, so the new door can
 * only take the ports once the old one has let them go. What is done to keep the gap short:
 * - the new container is created (image built, state volume and network in place) before the old one is touched,
 *   so the gap holds only: the old door's stop (it closes its listeners at once and drains what is in flight,
 *   bounded by `stopGraceSeconds`), the engine releasing the ports, the new container's start (the ports
 *   published again) and Node starting the program, which restores every route from the state volume and opens
 *   its listeners before it answers on its control socket;
 * - the gap is measured from the stop to the new door's first answer (`handover`, in its parts); measured on the project's
 *   machine, see test/integration/front-door.test.ts;
 * - if the new door does not start or answer, the old one is started again (it publishes what it did) and the
 *   replacement is refused with the reason: a door that cannot take a port never leaves the others without one.
 * During the gap a new connection to a door port is refused or reset by the engine; requests in flight on the old
 * door finish. A zero-gap upgrade needs the port to outlive the process (a listening socket handed over, or
 * SO_REUSEPORT inside one network namespace kept by a container of its own): see the report of issue 14.
 */

export interface EnsureDoorOptions {
  /** The host ports the door must publish (core/front-door bindingsOf); those it publishes already are kept. */
  bindings: readonly Binding[];
  /** Its base image (frontDoorBaseImage). */
  base: string;
  names?: DoorNames;
  /** The program's text (default: the bundle this installation ships). */
  program?: Buffer;
  /** How long the old door may drain when it is replaced. */
  stopGraceSeconds?: number;
  /** How long a started door may take to answer. */
  readyTimeoutMs?: number;
  env?: Record<string, string | undefined>;
  /** A new door even when this one is up to date (deploy proxy restart): behind a relay, a handover with no gap. */
  renew?: boolean;
}

export interface DoorEnsured {
  /** How the door takes the host ports (core/door DoorMode). */
  mode: DoorMode;
  action: DoorAction['kind'];
  /** Why it was made again (recreate, replace); null otherwise. */
  why: string | null;
  containerId: string;
  /** The bindings it publishes now. */
  bindings: Binding[];
  image: DoorImage;
  /**
   * A replacement only, in ms: the old door's stop (its drain, bounded by stopGraceSeconds), the new container's
   * start (the engine publishing its ports), its first answer (Node up, routes restored, listeners open), and
   * the whole, from the stop to the answer. Behind a relay the new door answers before the old one stops, so no
   * connection meets a gap: `gapless` is true, and the parts are the new door's start and answer, then the old
   * door's stop (its drain).
   */
  handover: { stopMs: number; startMs: number; answerMs: number; totalMs: number; gapless?: boolean } | null;
}

const DEFAULT_STOP_GRACE_SECONDS = 1;
/** Behind a relay the old door stops only after the new one takes new connections: it may drain as long as a deploy's drain. */
const RELAYED_STOP_GRACE_SECONDS = 30;
const DEFAULT_READY_TIMEOUT_MS = 30_000;

function seenOf(state: ContainerState): { running: boolean; imageId: string; bindings: Binding[] | null } {
  return {
    running: state.running || state.restarting,
    imageId: state.imageId,
    bindings: bindingsOfLabel(state.labels[LABEL.frontDoorBindings]),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the door (or its relay) in `id` answers a ping (routes restored, ports listened on); bounded. */
export async function waitForDoor(engine: Engine, id: string, timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
  const client = new FrontDoorClient(engine, id);
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      await client.ping(Math.max(1_000, Math.min(10_000, deadline - Date.now())));
      return;
    } catch (error) {
      if (!isDeployError(error, 'front_door')) throw error;
      last = (error as Error).message;
    }
    const state = await engine.containers.inspect(id);
    if (!state || (!state.running && !state.restarting)) {
      throw new DeployError(
        'front_door',
        `The front door's container ${id.slice(0, 12)} stopped before it answered (${state ? `exit code ${state.exitCode}${state.error ? `: ${state.error}` : ''}` : 'it is gone'}).`,
        {
          hint: `Its log says why: docker logs ${id.slice(0, 12)}.`,
        },
      );
    }
    if (Date.now() >= deadline) {
      throw new DeployError(
        'front_door',
        `The front door's container ${id.slice(0, 12)} did not answer within ${Math.round(timeoutMs / 1000)}s (${last}).`,
        {
          hint: `Its log says why: docker logs ${id.slice(0, 12)}.`,
        },
      );
    }
    await sleep(100);
  }
}

/**
 * Makes sure the door runs on the engine, from this version's image, publishing at least `bindings`: creates it,
 * starts it, keeps it, or replaces it (a handover, see above). Resolves once it answers.
 */
export async function ensureFrontDoor(engine: Engine, options: EnsureDoorOptions): Promise<DoorEnsured> {
  const names = options.names ?? DOOR_NAMES;
  const readyMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const [image, info] = await Promise.all([
    ensureDoorImage(engine, {
      base: options.base,
      repo: names.imageRepo,
      ...(options.program ? { program: options.program } : {}),
      ...(options.env ? { env: options.env } : {}),
    }),
    engine.system.infoOnce(),
  ]);
  if (doorModeOf(info, options.env ?? {}) === 'relay') return ensureRelayedDoor(engine, names, image, options, readyMs);
  // The common case, every deploy of a routed app: the door runs this image and publishes what is wanted. Nothing
  // changes, so the lock (a container made and removed: ~0.3 s on a busy engine) is not taken.
  const running = await engine.containers.inspect(names.container);
  if (running) {
    const keep = doorAction(seenOf(running), { imageId: image.id, bindings: options.bindings });
    if (keep.kind === 'keep' && !options.renew)
      return {
        mode: 'publish',
        action: 'keep',
        why: null,
        containerId: running.id,
        bindings: keep.bindings,
        image,
        handover: null,
      };
  }
  return underDoorLock(engine, names, image.ref, async () => {
    await ensureNetwork(engine, names.network);
    await engine.volumes.create(names.volume, doorObjectLabels('state'));
    return ensureDoorContainer(engine, names, image, options, readyMs);
  });
}

async function ensureDoorContainer(
  engine: Engine,
  names: DoorNames,
  image: DoorImage,
  options: EnsureDoorOptions,
  readyMs: number,
): Promise<DoorEnsured> {
  // A process that does not take the lock (an older version) may make the door at the same time: the engine lets
  // one name be created once, so a lost race is seen as "taken", and the decision is made again (bounded).
  for (let attempt = 0; ; attempt++) {
    const current = await finishInterruptedHandover(engine, names);
    const action = doorAction(current && seenOf(current), { imageId: image.id, bindings: options.bindings });
    const done = (containerId: string, handover: DoorEnsured['handover'] = null): DoorEnsured => ({
      mode: 'publish',
      action: action.kind,
      why: 'why' in action ? action.why : null,
      containerId,
      bindings: action.bindings,
      image,
      handover,
    });
    switch (action.kind) {
      case 'keep':
        return done(current!.id);
      case 'start':
        await engine.containers.start(current!.id);
        await waitForDoor(engine, current!.id, readyMs);
        return done(current!.id);
      case 'recreate':
      case 'create': {
        if (current) await engine.containers.remove(current.id);
        const id = await engine.containers.createNamed({
          ...doorContainerSpec(names, names.container, image.ref, action.bindings),
        });
        if (id === null) {
          if (attempt < 3) continue;
          throw new DeployError(
            'front_door',
            `The front door's container ${names.container} keeps being made by another process at the same time.`,
            { hint: 'Try again.' },
          );
        }
        await joinSwarmNetwork(engine, names, id);
        await startPublishing(engine, id, names.container, action.bindings);
        await waitForDoor(engine, id, readyMs);
        return done(id);
      }
      case 'replace': {
        const { id, timings } = await handover(
          engine,
          names,
          current!,
          image,
          action,
          options.stopGraceSeconds ?? DEFAULT_STOP_GRACE_SECONDS,
          readyMs,
        );
        return done(id, timings);
      }
    }
  }
}

/** After this long a lock is taken for left behind by a process that died (a handover takes seconds). */
const LOCK_STALE_MS = 120_000;
const LOCK_SINCE = `${LABEL.frontDoor}.since`;

/**
 * One process at a time makes, starts or replaces the door on an engine (two deploys of two apps run at once, each
 * under its own app's lock). The lock is a container created, never started, under a fixed name: the engine creates
 * a name once. One older than LOCK_STALE_MS was left by a process that died, and is taken over.
 */
async function underDoorLock<T>(engine: Engine, names: DoorNames, image: string, fn: () => Promise<T>): Promise<T> {
  const name = `${names.container}.lock`;
  const deadline = Date.now() + LOCK_STALE_MS + 30_000;
  for (;;) {
    const id = await engine.containers.createNamed({
      name,
      Image: image,
      Cmd: ['true'],
      Labels: { [LABEL.managed]: 'true', [LABEL.frontDoor]: 'lock', [LOCK_SINCE]: String(Date.now()) },
    });
    if (id !== null) {
      try {
        return await fn();
      } finally {
        await engine.containers.remove(id);
      }
    }
    const held = await engine.containers.inspect(name);
    if (held && Date.now() - Number(held.labels[LOCK_SINCE] ?? 0) > LOCK_STALE_MS) {
      await engine.containers.remove(held.id);
      continue;
    }
    if (Date.now() > deadline) {
      throw new DeployError(
        'front_door',
        `The front door on ${engine.endpoint.url} has been being changed by another process for too long (its lock ${name} is held).`,
        {
          hint: `If no deploy is running, remove the lock: docker rm ${name}.`,
        },
      );
    }
    await sleep(200);
  }
}

/**
 * The door's network, made when missing (an app's container joins it at its creation, before the door itself may
 * run); two made at once on an old engine are brought back to one. `swarm`: its overlay network on a swarm
 * manager instead (core/door swarmNetworkOf), which a routed service's tasks join at their creation.
 */
export async function ensureDoorNetwork(
  engine: Engine,
  names: DoorNames = DOOR_NAMES,
  { swarm = false }: { swarm?: boolean } = {},
): Promise<void> {
  const name = swarm ? swarmNetworkOf(names) : names.network;
  if ((await engine.networks.list(doorObjectLabels('network'))).some((n) => n.name === name)) return;
  await ensureNetwork(engine, name, swarm);
}

/**
 * Joins the door's container (created or running) to its overlay network when the engine has one (a swarm
 * manager that runs a routed service), so that the door resolves and reaches the services' tasks; `make`: the
 * overlay is made first when missing. Joined already is fine.
 */
export async function joinSwarmNetwork(
  engine: Engine,
  names: DoorNames,
  containerId: string,
  { make = false }: { make?: boolean } = {},
): Promise<void> {
  const overlay = swarmNetworkOf(names);
  if (make) await ensureDoorNetwork(engine, names, { swarm: true });
  else if (!(await engine.networks.list(doorObjectLabels('network'))).some((n) => n.name === overlay)) return;
  try {
    await engine.networks.connect(overlay, containerId, { aliases: [] });
  } catch (error) {
    if (!(
      error instanceof Error &&
      error.name === 'ApiError' &&
      /already (exists in|attached to) network/.test(error.message)
    ))
      throw error;
  }
}

/**
 * Gives a door its name (the next generation taking the door's). The engine cannot rename a container joined to an
 * attachable overlay ("Could not add service state for endpoint … already exists", every time, measured on the test
 * swarm): the door on a swarm manager leaves its overlay, takes the name and joins again. Meanwhile its requests to
 * Swarm services cannot reach their tasks (container apps, on its bridge, are untouched).
 */
async function renameDoor(engine: Engine, names: DoorNames, id: string, name: string): Promise<void> {
  try {
    await engine.containers.rename(id, name);
    return;
  } catch (error) {
    if (!(error instanceof Error && /Could not add service state for endpoint/.test(error.message))) throw error;
  }
  const overlay = swarmNetworkOf(names);
  await holdingRequests(engine, id, async () => {
    await engine.networks.disconnect(overlay, id);
    try {
      await engine.containers.rename(id, name);
    } finally {
      await joinSwarmNetwork(engine, names, id);
    }
  });
}

/** How long the door holds new requests while it leaves its overlay and joins it again (a rename: ~0.3 s). */
const RENAME_HOLD_MS = 10_000;

/**
 * Runs `fn` with the door in `id` holding every serving app's new requests (they wait, none is refused) and once
 * what is in flight has ended (bounded), then lets them through again: what a step that cuts the door's
 * connections for a moment needs so that no request fails.
 */
async function holdingRequests(engine: Engine, id: string, fn: () => Promise<void>): Promise<void> {
  const client = new FrontDoorClient(engine, id);
  const held = (await client.status()).apps.filter((a) => a.state !== 'paused').map((a) => a.app);
  try {
    for (const app of held) await client.pause(app, RENAME_HOLD_MS);
    const deadline = Date.now() + 5_000;
    for (;;) {
      const busy = (await client.status()).apps.some((a) => {
        const active = a.active as { inflight?: { requests?: number; streams?: number } } | null;
        return (active?.inflight?.requests ?? 0) + (active?.inflight?.streams ?? 0) > 0;
      });
      if (!busy || Date.now() >= deadline) break;
      await sleep(50);
    }
    await fn();
  } finally {
    for (const app of held) await client.resume(app).catch(() => undefined);
  }
}

/**
 * The door's network, once. Two creations at the same moment can make two networks of one name (seen on engine
 * 20.10 despite CheckDuplicate: the door's lock now prevents it), which makes the name ambiguous for every later
 * call: one left so (by another tool, or before the lock) is brought back to one, the smallest id kept.
 */
async function ensureNetwork(engine: Engine, name: string, overlay = false): Promise<void> {
  try {
    await engine.networks.create(name, { labels: doorObjectLabels('network'), overlay });
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ApiError' && /ambiguous/.test(error.message))) throw error;
  }
  const same = (await engine.networks.list(doorObjectLabels('network')))
    .filter((n) => n.name === name)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const extra of same.slice(1)) await engine.networks.remove(extra.id);
}

/** Starts a door container; a port the engine cannot publish is said as such (and the container removed). */
async function startPublishing(engine: Engine, id: string, name: string, bindings: readonly Binding[]): Promise<void> {
  try {
    await engine.containers.start(id);
  } catch (error) {
    await engine.containers.remove(id);
    throw cannotPublish(error, name, bindings);
  }
}

function cannotPublish(error: unknown, name: string, bindings: readonly Binding[]): unknown {
  if (!(error instanceof Error) || error.name !== 'ApiError') return error;
  const ports = bindings.map((b) => `${b.hostIp || '*'}:${b.hostPort}`).join(', ');
  return new DeployError(
    'front_door',
    `The front door (${name}) could not start publishing ${ports}: ${error.message}`,
    {
      hint: 'Another program or container holds one of these ports: free it (ss -ltnp shows who listens), or publish the app on another port.',
      cause: error,
    },
  );
}

/**
 * A handover that died half-way leaves `next`: running (the old door was stopped and the new one took over), it is
 * the door and takes its name; not running, it is removed and the door found under its name is the door.
 */
async function finishInterruptedHandover(engine: Engine, names: DoorNames): Promise<ContainerState | null> {
  const [main, next] = await Promise.all([
    engine.containers.inspect(names.container),
    engine.containers.inspect(names.next),
  ]);
  if (!next) return main;
  if (!(next.running || next.restarting)) {
    await engine.containers.remove(next.id);
    return main;
  }
  if (main?.running) return main; // another process is in the middle of a handover: leave it to finish
  if (main) await engine.containers.remove(main.id);
  await renameDoor(engine, names, next.id, names.container);
  return engine.containers.inspect(next.id);
}

async function handover(
  engine: Engine,
  names: DoorNames,
  old: ContainerState,
  image: DoorImage,
  action: Extract<DoorAction, { kind: 'replace' }>,
  stopGraceSeconds: number,
  readyMs: number,
): Promise<{ id: string; timings: NonNullable<DoorEnsured['handover']> }> {
  const nextId = await engine.containers.createNamed({
    ...doorContainerSpec(names, names.next, image.ref, action.bindings),
  });
  if (nextId === null) {
    throw new DeployError(
      'front_door',
      `The front door is being replaced by another process already (${names.next} exists).`,
      { hint: 'Try again in a few seconds.' },
    );
  }
  await joinSwarmNetwork(engine, names, nextId);
  const t0 = performance.now();
  await engine.containers.stop(old.id, stopGraceSeconds);
  const t1 = performance.now();
  let t2: number;
  try {
    await startPublishing(engine, nextId, names.next, action.bindings);
    t2 = performance.now();
    await waitForDoor(engine, nextId, readyMs);
  } catch (error) {
    // Back to the door that served: it publishes what it did, and its routes are in the state volume.
    await engine.containers.remove(nextId);
    await engine.containers.start(old.id);
    await waitForDoor(engine, old.id, readyMs).catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new DeployError(
      'front_door',
      `The front door could not be replaced (${action.why}): ${reason} The door that served before serves again.`,
      {
        hint: error instanceof DeployError ? error.hint : undefined,
        cause: error,
      },
    );
  }
  const t3 = performance.now();
  await engine.containers.remove(old.id);
  await renameDoor(engine, names, nextId, names.container);
  const ms = (a: number, b: number) => Math.round(b - a);
  const timings = { stopMs: ms(t0, t1), startMs: ms(t1, t2), answerMs: ms(t2, t3) };
  return { id: nextId, timings: { ...timings, totalMs: timings.stopMs + timings.startMs + timings.answerMs } };
}

// ---- Behind a relay: the door is never replaced for a port, and a new door takes over with no gap ------------------

/**
 * The door behind a relay (core/door DoorMode 'relay'): the relay, on the host's network, listens on the host ports
 * routes need (a new port is one command to it, no container made), and hands each connection to the door of the
 * current generation over a unix socket in their shared volume. A new door (a new image, a restart, a door that
 * published its ports before) starts beside the old one as the next generation, restores the routes from the
 * state volume and answers; then the relay sends new connections to it and the old door drains and stops.
 */
async function ensureRelayedDoor(
  engine: Engine,
  names: DoorNames,
  image: DoorImage,
  options: EnsureDoorOptions,
  readyMs: number,
): Promise<DoorEnsured> {
  const wanted = publishable(options.bindings);
  // The common case, every deploy of a routed app: door and relay up to date and the port bound: no lock taken.
  if (!options.renew) {
    const [door, relay] = await Promise.all([
      engine.containers.inspect(names.container),
      engine.containers.inspect(names.relay),
    ]);
    if (door?.running && relay?.running && doorUpToDate(door, image) && relayUpToDate(relay)) {
      const listening = await new FrontDoorClient(engine, names.relay).relayState().catch(() => null);
      if (listening && listening.generation === generationOf(door.labels) && covers(listening.bindings, wanted))
        return relayed('keep', null, door.id, listening.bindings, image, null);
    }
  }
  return underDoorLock(engine, names, image.ref, async () => {
    await ensureNetwork(engine, names.network);
    await engine.volumes.create(names.volume, doorObjectLabels('state'));
    const current = await finishRelayedHandover(engine, names);
    const relay = await ensureRelay(engine, names, image, current, readyMs);
    const client = new FrontDoorClient(engine, names.relay);
    const listening = relay.running ? await client.relayState() : null;
    const generation = generationOf(current?.labels ?? {});
    // A door that published its ports itself hands them to the relay: other apps' ports are kept.
    const carried =
      current && generation === null ? (bindingsOfLabel(current.labels[LABEL.frontDoorBindings]) ?? []) : [];
    const bindings = publishable(union(union(listening?.bindings ?? [], carried), wanted));
    const fresh = current !== null && doorUpToDate(current, image) && !options.renew;

    if (current && fresh && generation !== null) {
      if (!current.running) {
        await engine.containers.start(current.id);
        await waitForDoor(engine, current.id, readyMs);
      }
      await listenOrRefuse(engine, names, client, generation, bindings, wanted);
      return relayed(current.running ? 'keep' : 'start', null, current.id, bindings, image, null);
    }

    const next = Math.max(generation ?? 0, listening?.generation ?? 0) + 1;
    const why = !current
      ? null
      : options.renew
        ? 'restart'
        : generation === null
          ? 'it published its ports itself; a relay takes them now'
          : 'its image is not the one this version of deploy runs';
    if (!current || !current.running) {
      // Nothing serves through a door that is not running: make the new one under the door's name.
      if (current) await engine.containers.remove(current.id);
      const id = await createDoor(engine, names, names.container, image, next);
      await engine.containers.start(id);
      await waitForDoor(engine, id, readyMs);
      await startRelay(engine, names, relay, readyMs);
      await listenOrRefuse(engine, names, client, next, bindings, wanted);
      return relayed(current ? 'recreate' : 'create', why, id, bindings, image, null);
    }
    const timings = await relayedHandover(
      engine,
      names,
      current,
      image,
      next,
      bindings,
      wanted,
      relay,
      options,
      readyMs,
    );
    return relayed('replace', why, timings.id, bindings, image, timings.handover);
  });
}

/**
 * A handover behind a relay that died half-way leaves `next`. The relay says which generation it sends to: if the
 * next door's, that one serves (the old door is removed, the next takes the name); else the next is removed.
 */
async function finishRelayedHandover(engine: Engine, names: DoorNames): Promise<ContainerState | null> {
  const [main, next] = await Promise.all([
    engine.containers.inspect(names.container),
    engine.containers.inspect(names.next),
  ]);
  if (!next) return main;
  if (generationOf(next.labels) === null) return finishInterruptedHandover(engine, names);
  const serving = await new FrontDoorClient(engine, names.relay)
    .relayState(5_000)
    .then((s) => s.generation)
    .catch(() => null);
  if (!(next.running && serving === generationOf(next.labels))) {
    await engine.containers.remove(next.id);
    return main;
  }
  if (main) {
    await engine.containers.stop(main.id, RELAYED_STOP_GRACE_SECONDS);
    await engine.containers.remove(main.id);
  }
  await renameDoor(engine, names, next.id, names.container);
  return engine.containers.inspect(next.id);
}

function relayed(
  action: DoorAction['kind'],
  why: string | null,
  containerId: string,
  bindings: Binding[],
  image: DoorImage,
  handover: DoorEnsured['handover'],
): DoorEnsured {
  return { mode: 'relay', action, why, containerId, bindings, image, handover };
}

function doorUpToDate(door: ContainerState, image: DoorImage): boolean {
  return door.imageId === image.id && generationOf(door.labels) !== null;
}

function relayUpToDate(relay: ContainerState): boolean {
  return relay.labels[LABEL.frontDoorRelayVersion] === RELAY_VERSION;
}

async function createDoor(
  engine: Engine,
  names: DoorNames,
  name: string,
  image: DoorImage,
  generation: number,
): Promise<string> {
  const id = await engine.containers.createNamed({ ...doorContainerSpec(names, name, image.ref, [], generation) });
  if (id === null) {
    throw new DeployError(
      'front_door',
      `The front door is being replaced by another process already (${name} exists).`,
      {
        hint: 'Try again in a few seconds.',
      },
    );
  }
  // Before it starts: the routes it restores to Swarm services resolve from its first answer.
  await joinSwarmNetwork(engine, names, id);
  return id;
}

/**
 * The relay, up to date, as a container (not necessarily started: a door that publishes its ports must first let
 * them go). One that speaks another relay protocol is replaced beside itself (both listen with SO_REUSEPORT).
 */
async function ensureRelay(
  engine: Engine,
  names: DoorNames,
  image: DoorImage,
  door: ContainerState | null,
  readyMs: number,
): Promise<ContainerState> {
  const next = await engine.containers.inspect(names.relayNext);
  if (next) await engine.containers.remove(next.id); // an upgrade of the relay that died half-way
  let relay = await engine.containers.inspect(names.relay);
  if (relay && !relayUpToDate(relay)) {
    if (!relay.running) {
      await engine.containers.remove(relay.id);
      relay = null;
    } else {
      // The new relay binds the same ports beside the old one (SO_REUSEPORT) from the shared state file, then the
      // old one stops accepting and finishes the connections it carries.
      const id = await createRelay(engine, names, names.relayNext, image);
      await engine.containers.start(id);
      await waitForDoor(engine, id, readyMs);
      await engine.containers.stop(relay.id, 30);
      await engine.containers.remove(relay.id);
      await engine.containers.rename(id, names.relay);
      relay = await engine.containers.inspect(id);
    }
  }
  if (!relay) {
    await createRelay(engine, names, names.relay, image);
    relay = await engine.containers.inspect(names.relay);
  }
  // A door that publishes its own ports holds them: the relay starts once it has let them go (relayedHandover).
  const publishing = door !== null && door.running && generationOf(door.labels) === null;
  if (!relay!.running && !publishing) await startRelay(engine, names, relay!, readyMs);
  return (await engine.containers.inspect(relay!.id))!;
}

async function createRelay(engine: Engine, names: DoorNames, name: string, image: DoorImage): Promise<string> {
  const id = await engine.containers.createNamed({ ...relayContainerSpec(names, name, image.ref) });
  if (id === null) {
    throw new DeployError(
      'front_door',
      `The front door's relay is being made by another process already (${name} exists).`,
      {
        hint: 'Try again in a few seconds.',
      },
    );
  }
  return id;
}

async function startRelay(engine: Engine, names: DoorNames, relay: ContainerState, readyMs: number): Promise<void> {
  const seen = await engine.containers.inspect(relay.id);
  if (seen?.running) return;
  try {
    await engine.containers.start(relay.id);
  } catch (error) {
    throw cannotPublish(error, names.relay, []);
  }
  await waitForDoor(engine, relay.id, readyMs);
}

/** Tells the relay what to listen on; a port it cannot take is an error naming it (the others keep serving). */
async function listenOrRefuse(
  engine: Engine,
  names: DoorNames,
  client: FrontDoorClient,
  generation: number,
  bindings: readonly Binding[],
  wanted: readonly Binding[],
): Promise<void> {
  const answer = await client.listen(generation, bindings);
  if (answer.failed.length === 0) return;
  // What could not be bound is not kept: the relay listens on what it could.
  const failedKeys = new Set(answer.failed.map((f) => `${f.hostIp}|${f.hostPort}`));
  await client.listen(
    generation,
    bindings.filter((b) => !failedKeys.has(`${b.hostIp}|${b.hostPort}`)),
  );
  const ours = answer.failed.filter((f) => wanted.some((w) => w.hostPort === f.hostPort));
  const shown = (ours.length > 0 ? ours : answer.failed)
    .map((f) => `${f.hostIp || '*'}:${f.hostPort} (${f.error})`)
    .join(', ');
  throw new DeployError(
    'front_door',
    `The front door (${names.relay} on ${engine.endpoint.url}) could not listen on ${shown}.`,
    {
      hint: 'Another program or container holds the port: free it (ss -ltnp shows who listens), or publish the app on another port.',
    },
  );
}

/**
 * The door handed over to a new one with no gap: the next generation is made and started beside the running door,
 * restores every route from the state volume and answers; the relay sends new connections to it; the old door
 * stops accepting and drains what it carries (bounded by stopGraceSeconds) and is removed. A door that published
 * its ports itself must let them go before the relay can take them: that one time, a gap as long as the relay's
 * start. If the new door does not answer, it is removed and the old one serves on.
 */
async function relayedHandover(
  engine: Engine,
  names: DoorNames,
  old: ContainerState,
  image: DoorImage,
  generation: number,
  bindings: readonly Binding[],
  wanted: readonly Binding[],
  relay: ContainerState,
  options: EnsureDoorOptions,
  readyMs: number,
): Promise<{ id: string; handover: NonNullable<DoorEnsured['handover']> }> {
  const publishing = generationOf(old.labels) === null;
  const id = await createDoor(engine, names, names.next, image, generation);
  const t0 = performance.now();
  try {
    await engine.containers.start(id);
    await waitForDoor(engine, id, readyMs);
  } catch (error) {
    await engine.containers.remove(id);
    const reason = error instanceof Error ? error.message : String(error);
    throw new DeployError(
      'front_door',
      `A new front door could not be started: ${reason} The door that served serves on.`,
      {
        hint: error instanceof DeployError ? error.hint : undefined,
        cause: error,
      },
    );
  }
  const t1 = performance.now();
  const grace = options.stopGraceSeconds ?? (publishing ? DEFAULT_STOP_GRACE_SECONDS : RELAYED_STOP_GRACE_SECONDS);
  let t2: number;
  const client = new FrontDoorClient(engine, names.relay);
  if (publishing) {
    await engine.containers.stop(old.id, grace);
    t2 = performance.now();
    try {
      await startRelay(engine, names, relay, readyMs);
    } catch (error) {
      // Back to the door that served: it publishes what it did.
      await engine.containers.remove(id);
      await engine.containers.start(old.id);
      throw error;
    }
  } else {
    // New connections go to the new door on the ports served now; a port wanted anew is asked for below.
    await client.listen(generation, (await client.relayState()).bindings);
    t2 = performance.now();
    await engine.containers.stop(old.id, grace);
  }
  const t3 = performance.now();
  await engine.containers.remove(old.id);
  await renameDoor(engine, names, id, names.container);
  // The handover is done whatever this says: a port another program holds is named, the others serve.
  await listenOrRefuse(engine, names, client, generation, bindings, wanted);
  const ms = (a: number, b: number) => Math.round(b - a);
  const startMs = ms(t0, t1);
  return {
    id,
    handover: publishing
      ? { startMs, stopMs: ms(t1, t2), answerMs: ms(t2, t3), totalMs: ms(t0, t3) }
      : { startMs, answerMs: ms(t1, t2), stopMs: ms(t2, t3), totalMs: ms(t0, t3), gapless: true },
  };
}

/**
 * After a route is removed (an app destroyed): the relay stops listening on the host ports no route of the door
 * needs any more, so another program (or `docker run -p`) can take them. The door's own routes say what is needed,
 * whichever store sent them, and so do first routes still at their gate (`pending`). Left open: the moment between
 * a new port's binding (ensureFrontDoor, under the door's lock) and its route reaching the door (well under a second),
 * in which a destroy of another app would let that port go until the app's next deploy. A door that publishes its own
 * ports keeps them until it is replaced. The bindings let go of.
 */
export async function releaseUnusedPorts(engine: Engine, names: DoorNames = DOOR_NAMES): Promise<Binding[]> {
  const door = await engine.containers.inspect(names.container);
  if (!door?.running || generationOf(door.labels) === null) return [];
  return underDoorLock(engine, names, door.imageId, async () => {
    const relay = new FrontDoorClient(engine, names.relay);
    const listening = await relay.relayState();
    const routes = await new FrontDoorClient(engine, names.container).status();
    const used = new Set<number>();
    // A first route still at its gate claims its port too (a door older than `pending` has none to say).
    for (const r of [...routes.apps, ...routes.failed, ...(routes.pending ?? [])]) {
      if (typeof r['port'] === 'number') used.add(r['port']);
      const tls = r['tls'] as { port?: unknown } | null | undefined;
      if (typeof tls?.port === 'number') used.add(tls.port);
    }
    const keep = listening.bindings.filter((b) => used.has(b.hostPort));
    if (keep.length === listening.bindings.length) return [];
    await relay.listen(listening.generation, keep);
    return listening.bindings.filter((b) => !used.has(b.hostPort));
  });
}
