import type { Engine } from '../../adapters/docker/engine/engine.js';
import { runtimeFor } from '../../adapters/runtime/runtime-for.js';
import { stopGraceSeconds } from '../../core/container-spec.js';
import { planSwitch } from '../../core/plan.js';
import { DeployError } from '../../core/errors.js';
import { routedByFrontDoor } from '../../core/front-door.js';
import { formatPort } from '../../core/ports.js';
import type { DeployConfig, Deployment } from '../../core/types.js';
import { publishedUrls } from '../../core/urls.js';
import type { Context } from '../../context.js';
import { release } from '../release.js';
import type { Traffic } from './traffic.js';

/**
 * Traffic through the host ports each release's container publishes: the container's bind is the route. A new
 * release starts beside the old one, unless both bind the same host port: then the old one stops first (and is
 * started again if the new one fails its gate) — a moment without service that the front door removes.
 */
export const publishedPorts: Traffic = {
  kind: 'published-ports',

  decide(current: Deployment | null, next: DeployConfig | null, app: string) {
    if (!current)
      return { text: `nothing serves ${app} yet; this one serves once healthy`, strategy: next ? 'start-first' : null };
    const who = `v${current.version} (${current.id})`;
    if (current.status !== 'running')
      return { text: `${who} is ${current.status}; this one replaces it once healthy`, strategy: 'start-first' };
    if (!next) return { text: `${who} serves now`, strategy: null };
    // The front door holds the host ports of an app it routes: a release that publishes them itself cannot start.
    const held = routedByFrontDoor(current.config)
      ? next.ports.find((n) => current.config.ports.some((p) => p.hostPort === n.hostPort))
      : undefined;
    if (held) {
      throw new DeployError(
        'config',
        `${app} is routed by the engine's front door, which holds port ${formatPort(held)}; this deployment would publish that port itself (proxy is false${next.ports.some((p) => p.protocol !== 'tcp') ? ', or a port is UDP' : ''}).`,
        {
          hint: `Keep it behind the door: deploy with --proxy (or "proxy": true in deploy.json, or deploy config set proxy=true --app ${app}). Or publish it on another host port.`,
        },
      );
    }
    return planSwitch(current, next.ports).strategy === 'stop-first'
      ? {
          text: `${who} stops first (it holds the same host port), and starts again if this one fails its check`,
          strategy: 'stop-first',
        }
      : { text: `${who} serves until this one is healthy, then retires`, strategy: 'start-first' };
  },

  switchOver: release,

  async withdraw(_ctx: Context, engine: Engine, d: Deployment, holdMs = 0): Promise<void> {
    if (holdMs > 0)
      throw new DeployError('usage', `--pause holds requests at the front door, which does not route ${d.app}.`, {
        hint: `Stop it without --pause, or move it behind the front door first (deploy redeploy ${d.app} --proxy).`,
      });
    if (d.containerId) await runtimeFor(engine, d).stop(d.containerId, stopGraceSeconds(d.config));
  },

  urls: (d) => publishedUrls(d.config.ports, d.endpoint),
};
