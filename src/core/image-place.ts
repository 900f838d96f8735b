import { isDigest, releaseRepository } from './image-ref.js';
import type { Deployment } from './types.js';

/** Where a release's image lives, as the records tell it (inspect reads only the store). */
export interface ImageLocations {
  /** REGISTRY/APP@sha256:… when the release was pushed to a registry, else null. */
  registry: string | null;
  /** The engines whose records ran this very image (built, pulled or copied there), with those records' versions. */
  engines: Array<{ endpoint: string; versions: number[] }>;
}

/** From a release and its app's records: the registry reference it can be pulled by, and the engines that had it. */
export function imageLocations(
  d: Pick<Deployment, 'app' | 'imageId' | 'imageDigest' | 'endpoint' | 'config'>,
  records: ReadonlyArray<Pick<Deployment, 'app' | 'version' | 'imageId' | 'endpoint'>>,
): ImageLocations {
  const registry =
    d.imageId && d.config.registry && isDigest(d.imageDigest) && d.imageDigest !== d.imageId
      ? `${releaseRepository(d.config.registry, d.app)}@${d.imageDigest}`
      : null;
  const byEngine = new Map<string, number[]>();
  if (d.imageId) {
    for (const r of records) {
      if (r.app !== d.app || r.imageId !== d.imageId) continue;
      byEngine.set(r.endpoint, [...(byEngine.get(r.endpoint) ?? []), r.version]);
    }
  }
  const engines = [...byEngine]
    .map(([endpoint, versions]) => ({ endpoint, versions: versions.sort((a, b) => a - b) }))
    .sort((a, b) => (a.versions[0] as number) - (b.versions[0] as number));
  return { registry, engines };
}
