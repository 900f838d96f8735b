import { imagesOn } from '../adapters/images/engine-local.js';
import type { AppImage } from '../adapters/images/images.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { planImagePrune, type PruneDecision } from '../core/prune.js';
import type { Context } from '../context.js';

/** The images deploy made for an app (their record label names it), wherever its releases' images live. */
export function imagesOf(engine: Engine, app?: string): Promise<AppImage[]> {
  return imagesOn(engine).list(app);
}

/** Plans which of an app's images on an engine can go (see planImagePrune for what is always kept). */
export async function planPrune(ctx: Context, engine: Engine, app: string, keep: number): Promise<PruneDecision> {
  const images = await imagesOf(engine, app);
  const deployments = ctx.store().list({ app });
  return planImagePrune(app, images, deployments, keep);
}

/** Removes images by id (an image someone also tagged for their own use is refused by the engine, and so kept); the tags of those removed. */
export async function removeImages(
  engine: Engine,
  images: ReadonlyArray<{ id: string; tags: readonly string[] }>,
): Promise<string[]> {
  const removed: string[] = [];
  for (const image of images) if (await imagesOn(engine).remove(image.id)) removed.push(image.tags[0] ?? image.id);
  return removed;
}

/**
 * After a successful deployment: images are pruned to the running one plus the last `keep` successful ones,
 * so rollback stays fast and never finds its target gone. Never fails the deployment.
 */
export async function pruneAfterDeploy(ctx: Context, engine: Engine, app: string, keep: number): Promise<string[]> {
  try {
    const decision = await planPrune(ctx, engine, app, keep);
    const removed = await removeImages(engine, decision.remove);
    if (removed.length > 0)
      ctx.reporter.info(
        ctx.reporter.colors.dim(
          `Pruned ${removed.length} old image${removed.length === 1 ? '' : 's'} of ${app} (keeping ${keep} for rollback).`,
        ),
      );
    return removed;
  } catch (error) {
    ctx.reporter.warn(`Could not prune old images of ${app}: ${(error as Error).message}`);
    return [];
  }
}
