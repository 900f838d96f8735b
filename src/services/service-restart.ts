import type { Engine } from '../adapters/docker/engine/engine.js';
import { serviceRuntimeOn } from '../adapters/runtime/runtime-for.js';
import { stopGraceSeconds } from '../core/container-spec.js';
import { restartedName } from '../core/front-door.js';
import { unprovenName } from '../core/names.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { startGated, type HealthGate } from './health.js';
import { keepLogs } from './keep-logs.js';
import { routeNew } from './traffic/door-steps.js';
import { createAppContainer } from './volumes.js';

/**
 * `deploy restart` of a Swarm release behind the front door: a new service of the same release (its recorded image
 * and settings) starts beside the one serving, named `APP-vN-ID-rK` and reached under `APP-ID-rK`
 * (core/front-door restartCount), the door gates it and switches to it as to a new release, the old service drains
 * and is removed, and the record names the new service. No request is held or refused: a forced rolling update of
 * the service in place would stop tasks the door still sends to (a task's DNS record goes 2 s before its stop
 * signal, and the door's pooled connections to it are cut), and holding requests over the whole update (as a
 * container's restart does) keeps them waiting longer than clients do (measured: test/integration/swarm-door.test.ts).
 * A failure before the switch removes the new service; the old one serves on. The new service is unproven (its
 * label) until it serves: a process that dies before leaves it to the recovery, which removes it.
 */
export async function restartBehindDoor(
  ctx: Context,
  engine: Engine,
  d: Deployment,
  gate: HealthGate,
  secrets: readonly string[],
): Promise<Deployment> {
  const store = ctx.store();
  const runtime = serviceRuntimeOn(engine);
  const old = d.containerId as string;
  const name = restartedName(d);
  const next: Deployment = { ...d, containerName: name, containerId: null };
  const image = d.image ?? (d.imageId as string);
  ctx.reporter.step(`Starting ${name} beside ${d.containerName ?? old.slice(0, 12)}`);
  let id: string | null = null;
  try {
    id = await createAppContainer(ctx, engine, next, image, unprovenName(name));
    store.addEvent(d.id, ctx.now(), 'restarting', `a new service ${name} starts beside the one serving`);
    await startGated(ctx, runtime, next, id, gate, { secrets });
    // The old service is removed right after: the door answers once it has drained, bake window or not.
    await routeNew(ctx, engine, { ...next, containerId: id }, id, secrets, true);
  } catch (error) {
    if (id) {
      await keepLogs(engine, store, { ...next, containerId: id }, ctx.now()).catch(() => []);
      await runtime.remove(id).catch(() => undefined);
    }
    throw error;
  }
  await runtime.rename(id, name);
  store.updateDeployment(d.id, { containerId: id, containerName: name });
  ctx.reporter.step(`Retiring ${d.containerName ?? old.slice(0, 12)}`);
  await runtime.stop(old, stopGraceSeconds(d.config)).catch(() => undefined);
  await keepLogs(engine, store, d, ctx.now()).catch(() => []);
  await runtime.remove(old);
  return store.getDeployment(d.id) as Deployment;
}
