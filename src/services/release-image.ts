import type { Engine } from '../adapters/docker/engine/engine.js';
import type { ImageInfo } from '../adapters/docker/engine/types.js';
import type { ReleaseImage } from '../adapters/images/images.js';
import { imagesFor } from '../adapters/images/registry.js';
import { TransferredImages, type TransferResult } from '../adapters/images/transfer.js';
import type { Context } from '../context.js';
import { reasonOf } from '../core/errors.js';
import { endpointForUrl } from './engines.js';

/**
 * A release's image, got onto the engine that is to run it when it lacks it: pulled by digest from the registry the
 * release was pushed to, else copied from the engine that built it (the record's endpoint), only the layers this
 * engine lacks; null when neither has it (a build is needed). Progress goes to the reporter.
 */
export function releaseImageOn(
  ctx: Context,
  engine: Engine,
  d: ReleaseImage & { endpoint: string },
): Promise<ImageInfo | null> {
  const r = ctx.reporter;
  const progress = (line: string) => r.update(line);
  const images = imagesFor(engine, d.config?.registry, ctx.env, progress, ctx.signal);
  if (d.endpoint === engine.endpoint.url) return images.locate(d);
  const reported = (t: TransferResult) => {
    r.info(transferLine(d.image ?? '', d.endpoint, t));
    if (t.fellBack) r.warn(`The lighter copy was refused (${t.fellBack}); the whole image was sent.`);
  };
  return new TransferredImages(
    images,
    engine,
    async () => {
      try {
        return await ctx.engine(endpointForUrl(ctx, d.endpoint));
      } catch (error) {
        r.warn(`The image could not be copied from ${d.endpoint}, which built it: ${reasonOf(error)}.`);
        return null;
      }
    },
    progress,
    reported,
    ctx.signal,
  ).locate(d);
}

/** "Copied deploy/web:ID from unix:///…: 0.1 of 2.1 MiB sent (1 of 2 layers already here)". */
export function transferLine(image: string, from: string, t: TransferResult): string {
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  return `Copied ${image} from ${from}: ${mib(t.sentBytes)} of ${mib(t.savedBytes)} MiB sent (${t.skippedLayers} of ${t.layers} layer${t.layers === 1 ? '' : 's'} already here)`;
}
