import type { Engine } from '../../adapters/docker/engine/engine.js';
import { FrontDoorClient } from '../../adapters/front-door/client.js';
import { runtimeFor } from '../../adapters/runtime/runtime-for.js';
import { stopGraceSeconds } from '../../core/container-spec.js';
import { tlsPortsOf } from '../../core/front-door.js';
import { DeployError, isDeployError } from '../../core/errors.js';
import type { DeployConfig, Deployment } from '../../core/types.js';
import type { Context } from '../../context.js';
import { release } from '../release.js';
import { frontDoorUrlsOf } from './door-steps.js';
import type { Traffic } from './traffic.js';

/**
 * Traffic through the engine's front door (proxy/, run by adapters/front-door): the app's containers publish
 * nothing and sit on the door's network under a per-release alias; the door owns the host ports. A new release
 * starts beside the old one, the door checks it (HTTP path twice, else a TCP connect) and swaps to it atomically,
 * the old one drains; for the bake window the old one keeps running and the door switches back at once if the new
 * one fails its checks. Nothing is stopped first, so a switch drops no request.
 */
export const frontDoor: Traffic = {
  kind: 'front-door',

  decide(current: Deployment | null, next: DeployConfig | null, app: string) {
    const tls = next ? tlsPortsOf(next) : null;
    if (tls && 'problem' in tls)
      throw new DeployError('config', `${app} cannot be served with TLS: ${tls.problem}.`, {
        hint: 'For example: -p 80:8080 -p 443:8080 --set tlsCertificate=cert.pem --set tlsKey=key.pem --domain app.example.com',
      });
    if (!current)
      return {
        text: `nothing serves ${app} yet; the front door routes to this one once its check passes`,
        strategy: next ? 'start-first' : null,
      };
    const who = `v${current.version} (${current.id})`;
    if (current.status !== 'running')
      return { text: `${who} is ${current.status}; this one replaces it once healthy`, strategy: 'start-first' };
    if (!next) return { text: `${who} serves now`, strategy: null };
    // An app moving behind the door from ports its containers published: the door can only take them once freed.
    const direct = current.config.proxy === false || current.config.ports.some((p) => p.protocol !== 'tcp');
    if (direct && current.config.ports.some((p) => next.ports.some((n) => n.hostPort === p.hostPort)))
      return {
        text: `${who} publishes the same host port itself: it stops first, and the front door takes the port (once, as the app moves behind it)`,
        strategy: 'stop-first',
      };
    return {
      text: `${who} serves until the front door's check of this one passes; then traffic moves at once, ${who} drains and is kept ${bakeText(next)} for a switch back`,
      strategy: 'start-first',
    };
  },

  switchOver: release,

  async withdraw(ctx: Context, engine: Engine, d: Deployment, holdMs = 0): Promise<void> {
    // Paused first (the door answers 503, or holds requests for a start), so none reaches a container that stops.
    await new FrontDoorClient(engine).pause(d.app, holdMs).catch((error: unknown) => {
      if (!isDeployError(error, 'front_door')) throw error;
      ctx.reporter.warn(`The front door could not pause ${d.app}: ${(error as Error).message}`);
    });
    if (d.containerId) await runtimeFor(engine, d).stop(d.containerId, stopGraceSeconds(d.config));
  },

  urls: (d) => frontDoorUrlsOf(d),
};

function bakeText(c: DeployConfig): string {
  return c.bakeWindowMs > 0 ? `for ${Math.round(c.bakeWindowMs / 1000)}s` : 'only while it drains';
}
