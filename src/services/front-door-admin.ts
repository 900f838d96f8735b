import type { Engine } from '../adapters/docker/engine/engine.js';
import { FrontDoorClient, type DoorStatus } from '../adapters/front-door/client.js';
import {
  ensureFrontDoor,
  releaseUnusedPorts,
  waitForDoor,
  type DoorEnsured,
} from '../adapters/front-door/door-container.js';
import { workloadsOn } from '../adapters/runtime/runtime-for.js';
import { frontDoorBaseImage } from '../adapters/front-door/door-image.js';
import {
  bindingsOfLabel,
  DOOR_NAMES,
  doorRouteOf,
  generationOf,
  routesTo,
  staleRoutes,
  type StaleRoute,
} from '../core/door.js';
import { DeployError } from '../core/errors.js';
import { bindingsOf, releaseIdOf, routedByFrontDoor, union, type Binding } from '../core/front-door.js';
import { LABEL } from '../core/names.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';

/**
 * `deploy proxy status|restart|upgrade|logs`: the engine's front door as a whole (services/traffic/door-steps.ts
 * does its part of each switch). The store is the truth about what each app should be routed to; the door's
 * own state is compared with it and, on restart or upgrade, every routed app's route is sent again.
 */

export interface DoorAppView {
  app: string;
  state: string;
  /** The release the door sends the app's requests to, as the store knows it (null: not one of this store's). */
  routesTo: { id: string; version: number } | null;
  address: string | null;
  /** The release kept for the bake window, and until when. */
  kept: { id: string | null; address: string; until: string } | null;
  /** Whether that is the app's current deployment in the store. */
  current: boolean;
}

export interface DoorView {
  endpoint: string;
  running: boolean;
  container: string | null;
  image: string | null;
  version: string | null;
  uptimeMs: number | null;
  /** How it takes the host ports: a relay on the host's network, or its own published ports (core/door DoorMode). */
  mode: 'relay' | 'publish';
  bindings: Binding[];
  apps: DoorAppView[];
  /** Routes the door could not restore (with its reason). */
  failed: Array<{ app: string; error: string }>;
}

function noDoor(engine: Engine): DeployError {
  return new DeployError('front_door', `There is no front door on ${engine.endpoint.url}.`, {
    hint: 'It is started by the first deploy of an app whose ports it routes (deploy deploy --proxy).',
  });
}

/** The apps this store routes through the door of `engine`: their current deployments. */
function routedHere(ctx: Context, engine: Engine): Deployment[] {
  return ctx
    .store()
    .currentDeployments()
    .filter((d) => d.endpoint === engine.endpoint.url && routedByFrontDoor(d.config));
}

function releaseOf(ctx: Context, app: string, address: string | null): Deployment | null {
  if (!address) return null;
  const id = releaseIdOf(app, address);
  const d = id === null ? null : ctx.store().getDeployment(id);
  return d && d.app === app ? d : null;
}

export async function doorStatus(ctx: Context, engine: Engine): Promise<DoorView> {
  const state = await engine.containers.inspect(DOOR_NAMES.container);
  const relayed = state !== null && generationOf(state.labels) !== null;
  const base: DoorView = {
    endpoint: engine.endpoint.url,
    running: state?.running ?? false,
    container: state?.id ?? null,
    image: state?.imageId ?? null,
    version: null,
    uptimeMs: null,
    mode: relayed ? 'relay' : 'publish',
    bindings: relayed
      ? await new FrontDoorClient(engine, DOOR_NAMES.relay)
          .relayState()
          .then((r) => r.bindings)
          .catch(() => [])
      : (bindingsOfLabel(state?.labels[LABEL.frontDoorBindings]) ?? []),
    apps: [],
    failed: [],
  };
  if (!state?.running) return base;
  const client = new FrontDoorClient(engine);
  const [ping, all] = await Promise.all([client.ping(), client.status()]);
  const current = new Map(routedHere(ctx, engine).map((d) => [d.app, d]));
  const apps = all.apps.map((s: DoorStatus): DoorAppView => {
    const active = (s.active as { address?: string } | null)?.address ?? null;
    const previous = s.previous as { address: string; bakeUntil: string } | null;
    const d = releaseOf(ctx, s.app, active);
    return {
      app: s.app,
      state: s.state,
      routesTo: d ? { id: d.id, version: d.version } : null,
      address: active,
      kept: previous
        ? {
            id: releaseOf(ctx, s.app, previous.address)?.id ?? null,
            address: previous.address,
            until: previous.bakeUntil,
          }
        : null,
      current: d !== null && routesTo(s, current.get(s.app) ?? { app: s.app, id: '\0' }),
    };
  });
  return {
    ...base,
    version: ping.version,
    uptimeMs: ping.uptimeMs,
    apps,
    failed: all.failed.map((f) => ({ app: f.app, error: String(f.error ?? f.state) })),
  };
}

/**
 * Sends every routed app's route again from the store (its current release; a stopped app paused): what restart
 * and upgrade end with, so the door serves what the store says even if its saved state was lost.
 */
async function resendRoutes(ctx: Context, engine: Engine): Promise<string[]> {
  const client = new FrontDoorClient(engine);
  const sent: string[] = [];
  for (const d of routedHere(ctx, engine)) {
    if (d.status !== 'running' && d.status !== 'stopped') continue;
    await client.deploy(doorRouteOf(d));
    if (d.status === 'stopped') await client.pause(d.app);
    sent.push(d.app);
  }
  return sent;
}

/**
 * Restarts the door (its routes come back from its state volume), then sends every route again. Behind a relay a
 * new door starts beside the old one and takes new connections before the old one drains: no gap (`gapless`).
 * A door that publishes its own ports restarts its container: a second or two without an answer.
 */
export async function restartDoor(
  ctx: Context,
  engine: Engine,
): Promise<{ apps: string[]; tookMs: number; gapless: boolean }> {
  const state = await engine.containers.inspect(DOOR_NAMES.container);
  if (!state) throw noDoor(engine);
  const started = Date.now();
  if (generationOf(state.labels) !== null) {
    const routed = routedHere(ctx, engine);
    const bindings = routed.reduce<Binding[]>((all, d) => union(all, bindingsOf(d.config.ports)), []);
    const door = await ensureFrontDoor(engine, {
      bindings,
      base: frontDoorBaseImage(ctx.env),
      env: ctx.env,
      renew: true,
    });
    const apps = await resendRoutes(ctx, engine);
    return { apps, tookMs: Date.now() - started, gapless: door.mode === 'relay' };
  }
  // 1 s to finish what is in flight, as a handover gives (its listeners close at once; a longer grace is a longer gap).
  await engine.containers.restart(state.id, 1);
  await waitForDoor(engine, state.id);
  const apps = await resendRoutes(ctx, engine);
  return { apps, tookMs: Date.now() - started, gapless: false };
}

/**
 * Makes the door run this version of deploy's image publishing every routed app's ports (a handover when it must
 * be replaced: see adapters/front-door/door-container.ts; made again when it is gone and apps are routed through
 * it), then sends every route again.
 */
export async function upgradeDoor(ctx: Context, engine: Engine): Promise<{ door: DoorEnsured; apps: string[] }> {
  const routed = routedHere(ctx, engine);
  // A door removed outside the tool (docker rm) is made again while the store routes apps through it.
  if (routed.length === 0 && !(await engine.containers.inspect(DOOR_NAMES.container))) throw noDoor(engine);
  const bindings = routed.reduce<Binding[]>((all, d) => union(all, bindingsOf(d.config.ports)), []);
  const door = await ensureFrontDoor(engine, { bindings, base: frontDoorBaseImage(ctx.env), env: ctx.env });
  const apps = await resendRoutes(ctx, engine);
  return { door, apps };
}

/** The door's routes whose release is gone from the engine (core/door staleRoutes); none when no door runs. */
export async function findStaleRoutes(engine: Engine): Promise<StaleRoute[]> {
  if (!(await engine.containers.inspect(DOOR_NAMES.container))?.running) return [];
  const all = await new FrontDoorClient(engine).status();
  const workloads = (await workloadsOn(engine, { [LABEL.app]: null })).flatMap((w) => {
    const [app, id] = [w.labels[LABEL.app], w.labels[LABEL.id]];
    return app && id ? [{ app, id }] : [];
  });
  const routes = all.apps.map((s) => ({
    app: s.app,
    address: (s.active as { address?: string } | null)?.address ?? null,
  }));
  return staleRoutes(routes, all.failed, workloads);
}

/**
 * Removes stale routes from the door and lets go of the host ports no route needs any more. Each route is looked at
 * again first: one deployed meanwhile (a release of the app came back) is kept.
 */
export async function pruneRoutes(
  engine: Engine,
  stale: readonly StaleRoute[],
): Promise<{ removed: StaleRoute[]; released: Binding[] }> {
  const still = new Set((await findStaleRoutes(engine)).map((r) => `${r.app}\u0000${r.address}`));
  const client = new FrontDoorClient(engine);
  const removed: StaleRoute[] = [];
  for (const r of stale) {
    if (!still.has(`${r.app}\u0000${r.address}`)) continue;
    await client.remove(r.app);
    removed.push(r);
  }
  const released = removed.length > 0 ? await releaseUnusedPorts(engine) : [];
  return { removed, released };
}

/** The door's container, for its logs. */
export async function doorContainer(engine: Engine): Promise<string> {
  const state = await engine.containers.inspect(DOOR_NAMES.container);
  if (!state) throw noDoor(engine);
  return state.id;
}
