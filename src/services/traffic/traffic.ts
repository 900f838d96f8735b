import type { Engine } from '../../adapters/docker/engine/engine.js';
import type { ImageInfo } from '../../adapters/docker/engine/types.js';
import { routedByFrontDoor } from '../../core/front-door.js';
import type { SwitchStrategy } from '../../core/plan.js';
import type { DeployConfig, Deployment } from '../../core/types.js';
import type { Context } from '../../context.js';
import type { Tracker } from '../tracker.js';
import { frontDoor } from './front-door.js';
import { publishedPorts } from './published-ports.js';

/**
 * How requests reach a release, behind one interface: host ports its container publishes (published-ports.ts), or
 * the engine's front door (front-door.ts), which owns the host ports and moves traffic with none dropped. A plan decides the switch once (`decide`); the apply path carries out
 * that decision (`switchOver`: gate, route, drain as one operation); `withdraw` takes traffic away (deploy stop);
 * `urls` are where a person opens the app.
 */
export interface Traffic {
  readonly kind: 'published-ports' | 'front-door';
  /** What happens to the release serving now when `next` replaces it, in words and as the switch strategy. */
  decide(
    current: Deployment | null,
    next: DeployConfig | null,
    app: string,
  ): { text: string; strategy: SwitchStrategy | null };
  /**
   * Runs the image as the tracked deployment and moves the app's traffic to it once it has passed its gate, then
   * drains and retires the old release. When it returns the new release serves; when it throws, the old one does.
   */
  switchOver(
    ctx: Context,
    engine: Engine,
    tracker: Tracker,
    image: ImageInfo & { ref: string },
    strategy: SwitchStrategy,
  ): Promise<Deployment>;
  /**
   * Takes the app's traffic away from the release (deploy stop). `holdMs`: requests are held that long for a
   * start to serve them rather than refused (the front door only).
   */
  withdraw(ctx: Context, engine: Engine, d: Deployment, holdMs?: number): Promise<void>;
  /** Where a person opens the release. */
  urls(d: Pick<Deployment, 'config' | 'endpoint'>): string[];
}

/** The traffic of an app's releases: the front door when it routes the app (core/front-door routedByFrontDoor). */
export function trafficFor(config: DeployConfig | null): Traffic {
  return config && routedByFrontDoor(config) ? frontDoor : publishedPorts;
}
