import { LABEL } from './names.js';
import { parseRecordLabel } from './record-label.js';
import type { Deployment } from './types.js';

export interface EngineImage {
  id: string;
  tags: string[];
  labels: Record<string, string>;
}

export interface PruneDecision {
  remove: EngineImage[];
  keep: Array<EngineImage & { why: string }>;
}

/** The deployment that built an image, from its record label; null for images the tool did not make. */
function buildIdOf(image: EngineImage): string | null {
  return parseRecordLabel(image.labels[LABEL.record])?.id ?? null;
}

const HOLDS_IMAGE: ReadonlySet<Deployment['status']> = new Set([
  'queued',
  'building',
  'starting',
  'running',
  'stopped',
  'exited',
]);

/**
 * Which of an app's images to remove so that what remains is: the image of every deployment that is
 * running, stopped-but-current or in progress, and the images of the newest `keep` successful deployments
 * besides those (rollback targets). Images of other apps, images the tool did not make, and images built by deployments
 * this store does not know (another machine's) are never removed.
 */
export function planImagePrune(
  app: string,
  images: readonly EngineImage[],
  deployments: readonly Deployment[],
  keep: number,
): PruneDecision {
  const known = new Set(deployments.map((d) => d.id));
  const protect = new Map<string, string>();
  for (const d of deployments) {
    if (d.app === app && d.imageId && HOLDS_IMAGE.has(d.status)) protect.set(d.imageId, `${d.status} v${d.version}`);
  }
  const successful = deployments
    .filter((d) => d.app === app && d.readyAt !== null && d.imageId)
    .sort((a, b) => b.createdAt - a.createdAt || b.version - a.version);
  // `keep` rollback targets besides what runs: the newest successful deployments with other images.
  let targets = 0;
  for (const d of successful) {
    if (targets >= keep) break;
    if (protect.has(d.imageId as string)) continue;
    protect.set(d.imageId as string, `rollback target v${d.version}`);
    targets++;
  }

  const decision: PruneDecision = { remove: [], keep: [] };
  for (const image of images) {
    if (parseRecordLabel(image.labels[LABEL.record])?.app !== app) {
      decision.keep.push({ ...image, why: 'another app, or not made by deploy' });
      continue;
    }
    const builtBy = buildIdOf(image);
    const why = protect.get(image.id);
    if (why) decision.keep.push({ ...image, why });
    else if (!builtBy || !known.has(builtBy))
      decision.keep.push({ ...image, why: 'built by a deployment this store does not know' });
    else decision.remove.push(image);
  }
  return decision;
}
