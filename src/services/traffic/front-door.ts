import { ApiError } from '../../adapters/docker/api.js';
import type { Engine } from '../../adapters/docker/engine/engine.js';
import { FrontDoorClient } from '../../adapters/front-door/client.js';
import { ensureFrontDoor, type DoorEnsured } from '../../adapters/front-door/door-container.js';
import { frontDoorBaseImage } from '../../adapters/front-door/door-image.js';
import { DOOR_NAMES, doorRouteOf, type DoorDeployResult, type DoorNames } from '../../core/door.js';
import { engineHost } from '../../core/endpoint-choice.js';
import { bindingsOf, frontDoorUrls, upstreamHost } from '../../core/front-door.js';
import type { Deployment } from '../../core/types.js';
import type { Context } from '../../context.js';

/**
 * The front door as a kind of traffic (issue 14), begun: the steps its switch-over is made of. Not wired yet:
 * trafficFor (published-ports.ts) still gives publishedPorts to every app, and the Traffic interface's switchOver
 * (the release started without host ports, on the door's network) is still to be written around these.
 */

/**
 * Routes the app to a release whose container runs: the door made sure of on the engine (publishing the app's
 * ports), the container joined to the door's network under its stable alias, and the door sent the route. Resolves
 * once the door has gated the release and switched to it; a release that fails the door's gate is refused (exit 17)
 * and what served before keeps serving.
 */
export async function routeRelease(
  ctx: Pick<Context, 'paths' | 'env'>,
  engine: Engine,
  d: Pick<Deployment, 'app' | 'id' | 'config' | 'containerId'>,
  names: DoorNames = DOOR_NAMES,
): Promise<{ door: DoorEnsured; routed: DoorDeployResult }> {
  if (!d.containerId) throw new Error(`routeRelease: the deployment ${d.id} of ${d.app} has no container`);
  const door = await ensureFrontDoor(engine, {
    bindings: bindingsOf(d.config.ports),
    base: frontDoorBaseImage(ctx.env),
    names,
    env: ctx.env,
  });
  try {
    await engine.networks.connect(names.network, d.containerId, { aliases: [upstreamHost(d)] });
  } catch (error) {
    // Joined already (a route sent again, as every deploy does).
    if (!(error instanceof ApiError && /already exists in network/.test(error.message))) throw error;
  }
  const routed = await new FrontDoorClient(engine, names.container).deploy(doorRouteOf(d));
  return { door, routed };
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

/** Where a person opens an app behind the door. */
export function frontDoorUrlsOf(d: Pick<Deployment, 'config' | 'endpoint'>): string[] {
  return frontDoorUrls(d.config, engineHost(d.endpoint).host);
}
