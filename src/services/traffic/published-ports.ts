import type { Engine } from '../../adapters/docker/engine/engine.js';
import { runtimeOn } from '../../adapters/runtime/containers.js';
import { stopGraceSeconds } from '../../core/container-spec.js';
import { planSwitch } from '../../core/plan.js';
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
    return planSwitch(current, next.ports).strategy === 'stop-first'
      ? {
          text: `${who} stops first (it holds the same host port), and starts again if this one fails its check`,
          strategy: 'stop-first',
        }
      : { text: `${who} serves until this one is healthy, then retires`, strategy: 'start-first' };
  },

  switchOver: release,

  async withdraw(_ctx: Context, engine: Engine, d: Deployment): Promise<void> {
    if (d.containerId) await runtimeOn(engine).stop(d.containerId, stopGraceSeconds(d.config));
  },

  urls: (d) => publishedUrls(d.config.ports, d.endpoint),
};
