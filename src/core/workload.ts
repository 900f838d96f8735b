import type { Deployment } from './types.js';

/**
 * A deployment's workload as its runtime names it. The services name it by one field whatever the runtime,
 * `containerId` (a container's id, or a Swarm service's id for a service deployment), and the record keeps
 * `workload` equal to it: whatever sets one (a release, a start that recreates it, sync, recovery) sets both,
 * and the store writes them together. The public record shows `containerId` for container deployments only.
 */
export function workloadOf(d: Pick<Deployment, 'runtime' | 'workload' | 'containerId'>): string | null {
  return d.runtime === 'container' ? d.containerId : (d.containerId ?? d.workload);
}
