import { ApiError } from '../../adapters/docker/api.js';
import type { Engine } from '../../adapters/docker/engine/engine.js';
import { FrontDoorClient } from '../../adapters/front-door/client.js';
import { ensureFrontDoor, joinSwarmNetwork, type DoorEnsured } from '../../adapters/front-door/door-container.js';
import { frontDoorBaseImage } from '../../adapters/front-door/door-image.js';
import { runtimeFor } from '../../adapters/runtime/runtime-for.js';
import { ImageNotOnNodes } from '../../adapters/runtime/services.js';
import { imageNotOnNodes } from '../health.js';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tarFiles } from '../../core/tar.js';
import {
  DOOR_NAMES,
  DOOR_STATE_DIR,
  doorCheckFailure,
  doorRouteOf,
  routesTo,
  type DoorDeployResult,
  type DoorNames,
} from '../../core/door.js';
import { engineHost } from '../../core/endpoint-choice.js';
import { DeployError, isDeployError } from '../../core/errors.js';
import { bindingsOf, frontDoorUrls, isUpstreamOf, upstreamHost } from '../../core/front-door.js';
import { redactValues } from '../../core/redact.js';
import type { Deployment } from '../../core/types.js';
import type { Context } from '../../context.js';

/**
 * The front door's steps of a switch-over (route the new release, send the door back), of a stop (pause) and the
 * URLs of an app behind it; services/release.ts runs them as its plan says (core/switch-over.ts).
 */

/**
 * Routes the app to a release whose container runs: the door made sure of on the engine (publishing the app's
 * ports), the container joined to the door's network under its stable alias, and the door sent the route. Resolves
 * once the door has gated the release and switched to it; a release that fails the door's gate is refused (exit 17)
 * and what served before keeps serving.
 */
export async function routeRelease(
  ctx: Pick<Context, 'paths' | 'env'> & Partial<Pick<Context, 'cwd'>>,
  engine: Engine,
  d: Pick<Deployment, 'app' | 'id' | 'config' | 'containerId'> &
    Partial<Pick<Deployment, 'source' | 'subdir' | 'runtime'>>,
  names: DoorNames = DOOR_NAMES,
  { waitDrain = false }: { waitDrain?: boolean } = {},
): Promise<{ door: DoorEnsured; routed: DoorDeployResult }> {
  if (!d.containerId) throw new Error(`routeRelease: the deployment ${d.id} of ${d.app} has no container`);
  const door = await ensureFrontDoor(engine, {
    bindings: bindingsOf(d.config.ports),
    base: frontDoorBaseImage(ctx.env),
    names,
    env: ctx.env,
  });
  if (d.runtime === 'service') {
    // A service's tasks joined the door's overlay at their creation; the door joins it (once) to reach them.
    await joinSwarmNetwork(engine, names, door.containerId, { make: true });
  } else {
    try {
      await engine.networks.connect(names.network, d.containerId, { aliases: [upstreamHost(d)] });
    } catch (error) {
      // Joined already (at its creation, or a route sent again, as every deploy does).
      if (!(error instanceof ApiError && /already exists in network/.test(error.message))) throw error;
    }
  }
  const route = doorRouteOf(d);
  if (route.tls) await sendTlsFiles(ctx, engine, door.containerId, d);
  const routed = await new FrontDoorClient(engine, names.container).deploy(route, { waitDrain });
  return { door, routed };
}

/**
 * Copies the app's certificate and key (files on this machine: tlsCertificate, tlsKey; a relative path from the
 * app's directory) into the door's state volume, where its route names them. The key goes nowhere else: not into
 * the record, a label, a log or any output.
 */
async function sendTlsFiles(
  ctx: Partial<Pick<Context, 'cwd'>>,
  engine: Engine,
  doorContainer: string,
  d: Pick<Deployment, 'app' | 'config'> & Partial<Pick<Deployment, 'source' | 'subdir'>>,
): Promise<void> {
  const local = d.source && existsSync(d.source) ? join(d.source, d.subdir ?? '') : (ctx.cwd ?? process.cwd());
  const read = (setting: 'tlsCertificate' | 'tlsKey'): Buffer => {
    const path = resolve(local, d.config[setting] as string);
    try {
      return readFileSync(path);
    } catch (error) {
      throw new DeployError(
        'config',
        `${d.app}'s ${setting} ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}.`,
        {
          hint: `Give a PEM file on this machine (deploy config set ${setting}=PATH --app ${d.app}).`,
        },
      );
    }
  };
  const dir = `tls/${d.app}`;
  const tar = tarFiles([
    { name: `${dir}/cert.pem`, content: read('tlsCertificate') },
    { name: `${dir}/key.pem`, content: read('tlsKey'), mode: 0o600 },
  ]);
  await engine.containers.putArchive(doorContainer, DOOR_STATE_DIR, tar);
}

/**
 * The route step of a release behind the door: routeRelease, watching the container meanwhile, so that a release
 * that dies fails at once rather than when the door's check times out. The door refusing it for its check is the
 * release failing its health check (exit code of health_failed), its reason masked of the app's secrets.
 */
export async function routeNew(
  ctx: Context,
  engine: Engine,
  d: Deployment,
  containerId: string,
  secrets: readonly string[],
  /** Wait for the old release's drain before returning (default: when there is no bake window). */
  waitDrain = d.config.bakeWindowMs === 0,
): Promise<DoorDeployResult> {
  const who = `${d.app} v${d.version} (${d.id})`;
  const runtime = runtimeFor(engine, d);
  let died: (error: Error) => void = () => undefined;
  const death = new Promise<never>((_resolve, reject) => (died = reject));
  const watch = await runtime.watch(containerId, (e) => {
    // A Swarm task a node refused for its image: said as such (the die that follows changes nothing then).
    if (e.action === 'image_refused' && e.refused)
      died(imageNotOnNodes(who, ImageNotOnNodes.of(e.refused), d.config.registry, secrets));
    else if (e.action === 'die' || e.action === 'oom')
      died(
        new DeployError(
          'health_failed',
          `${who} failed its health check: ${e.action === 'oom' ? 'the container ran out of memory' : `the container exited with code ${e.exitCode ?? '?'}`} before the front door routed to it`,
          { hint: `See its output: deploy logs ${d.id}` },
        ),
      );
  });
  death.catch(() => undefined);
  // Ctrl-C at the gate ends the wait at once: the compensations (routeBack) then cancel the gate in the door, whose
  // exec would otherwise run on past this process.
  let onAbort = (): void => undefined;
  const interrupted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new DeployError('interrupted', `${who} was interrupted at the front door's health gate`));
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  interrupted.catch(() => undefined);
  try {
    const gate = d.config.healthCheck.path;
    ctx.reporter.step(
      `Waiting for the front door to see ${gate !== null ? `GET ${gate} answer twice` : 'its port accept connections'}`,
    );
    const { door, routed } = await Promise.race([
      routeRelease(ctx, engine, { ...d, containerId }, DOOR_NAMES, { waitDrain }),
      death,
      interrupted,
    ]);
    if (door.action !== 'keep')
      ctx.reporter.info(
        ctx.reporter.colors.dim(
          `Front door ${door.action === 'create' ? 'started' : `${door.action}d`} on the engine.`,
        ),
      );
    ctx.reporter.done(
      `Routed: ${routed.checks} check${routed.checks === 1 ? '' : 's'} passed, switched in ${routed.swapMs.toFixed(1)} ms`,
    );
    return routed;
  } catch (error) {
    const refusal = isDeployError(error, 'front_door') ? (error as DeployError).details?.frontDoorError : undefined;
    if (typeof refusal === 'string' && /did not pass its health check/.test(refusal)) {
      throw new DeployError(
        'health_failed',
        `${who} failed its health check: ${redactValues(doorCheckFailure(refusal), secrets)}`,
        { hint: `See its output: deploy logs ${d.id}` },
      );
    }
    throw error;
  } finally {
    watch.close();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Undoes route-new (it failed, or a later step did): the door is sent back to `old` when it routes to the new
 * release, or still gates it (the command was interrupted at the gate: the door's exec outlives the request, and
 * `old`'s route overtakes it); with no old release serving, the app's route is removed. Never throws over the real
 * failure.
 */
export async function routeBack(ctx: Context, engine: Engine, d: Deployment, old: Deployment | null): Promise<void> {
  const client = new FrontDoorClient(engine);
  const oldServes = Boolean(old?.containerId) && old?.status === 'running' && old.config.proxy !== false;
  const backToOld = async (): Promise<void> => {
    const routed = await client.deploy(doorRouteOf(old!));
    if (routed.previous !== null)
      ctx.reporter.done(`The front door routes ${d.app} to v${old!.version} (${old!.id}) again`);
  };
  try {
    // Interrupted (Ctrl-C): the command has 2 s left, so old's route goes at once, in one exec, without asking
    // first; it overtakes the gate in flight, or swaps back.
    if (ctx.signal.aborted && oldServes) return await backToOld();
    const status = await client.status(d.app).catch(() => null);
    if (status === null) {
      // The app's first route may still be at its gate (the door knows an app once one passed): cancelled.
      if (!oldServes) await client.remove(d.app).catch(() => undefined);
      return;
    }
    const gating = typeof status.gating === 'string' && isUpstreamOf(status.gating, d);
    if (!routesTo(status, d) && !gating) return;
    if (oldServes) await backToOld();
    else await client.remove(d.app);
  } catch (error) {
    ctx.reporter.warn(`Could not send the front door back for ${d.app}: ${(error as Error).message}`);
  }
}

/**
 * The recovery's step before it removes releases of an app the door routes (core/recovery-plan door-to-current,
 * door-forget): the door finishes a route whose sender died (its exec outlives the process), so it may route to, or
 * still be gating, a release about to go. `current`'s route overtakes such a gate at once and swaps back if it had
 * passed; with no current release the app's route is removed. Returns what changed, in words (null: nothing did, or
 * no door runs on the engine).
 */
export async function doorBackTo(engine: Engine, app: string, current: Deployment | null): Promise<string | null> {
  if (!(await engine.containers.inspect(DOOR_NAMES.container))?.running) return null;
  const client = new FrontDoorClient(engine);
  if (!current) {
    try {
      await client.remove(app);
      return 'its route in the front door was removed: no release of it serves';
    } catch (error) {
      if (isDeployError(error, 'front_door') && /no app named/.test((error as Error).message)) return null;
      throw error;
    }
  }
  // Requests in flight on the release it leaves finish before the recovery removes that release.
  const routed = await client.deploy(doorRouteOf(current), { waitDrain: true });
  return routed.previous !== null
    ? `the front door routes it to v${current.version} (${current.id}) again, away from ${routed.previous}`
    : null;
}

/** Takes the app's traffic away (deploy stop): the door answers 503 for it, or holds requests up to holdMs. */
export async function withdrawRoute(
  engine: Engine,
  app: string,
  holdMs = 0,
  names: DoorNames = DOOR_NAMES,
): Promise<void> {
  await new FrontDoorClient(engine, names.container).pause(app, holdMs);
}

/**
 * Holds the app's new requests (up to holdMs) and waits, up to `drainMs`, until those in flight on its release
 * have ended: what runs before a restart in place, so that the restart cuts no request.
 */
export async function holdAndDrain(engine: Engine, app: string, holdMs: number, drainMs: number): Promise<void> {
  const client = new FrontDoorClient(engine);
  await client.pause(app, holdMs);
  const deadline = Date.now() + drainMs;
  // Idle twice in a row: a request let in just before the pause may not be counted at the first look.
  let idle = 0;
  while (Date.now() < deadline && idle < 2) {
    const active = (await client.status(app)).active as { inflight?: { requests?: number; streams?: number } } | null;
    idle = (active?.inflight?.requests ?? 0) + (active?.inflight?.streams ?? 0) === 0 ? idle + 1 : 0;
    if (idle < 2) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Lets the app's requests through again after a pause (deploy start, restart). */
export async function resumeRoute(engine: Engine, app: string, names: DoorNames = DOOR_NAMES): Promise<void> {
  await new FrontDoorClient(engine, names.container).resume(app);
}

/** Where a person opens an app behind the door. */
export function frontDoorUrlsOf(d: Pick<Deployment, 'config' | 'endpoint'>): string[] {
  return frontDoorUrls(d.config, engineHost(d.endpoint).host);
}
