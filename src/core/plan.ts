import { portsCollide } from './ports.js';
import type { Deployment, PortMapping } from './types.js';

/**
 * start-first: the new container starts beside the old one, which stops once the new one is healthy.
 * stop-first: they would bind the same host port, so the old one stops first and is started again if
 * the new one fails its gate.
 */
export type SwitchStrategy = 'start-first' | 'stop-first';

export interface SwitchPlan {
  strategy: SwitchStrategy;
  /** The deployment serving now, which the new one replaces; null when nothing serves. */
  replaces: Deployment | null;
}

export function planSwitch(current: Deployment | null, nextPorts: readonly PortMapping[]): SwitchPlan {
  if (!current) return { strategy: 'start-first', replaces: null };
  return {
    strategy: portsCollide(current.config.ports, nextPorts) ? 'stop-first' : 'start-first',
    replaces: current,
  };
}
