import type { Deployment } from './types.js';

/**
 * A deployment's workload as its runtime names it. A container deployment's workload is its container: the record
 * keeps `workload` equal to `containerId`, so whatever sets one (a release, a start that recreates it, sync,
 * recovery) sets both, and the store writes them together.
 */
export function workloadOf(d: Pick<Deployment, 'runtime' | 'workload' | 'containerId'>): string | null {
  return d.runtime === 'container' ? d.containerId : d.workload;
}
