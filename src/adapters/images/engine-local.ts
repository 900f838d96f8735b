import { perEngine } from '../per-engine.js';
import { LABEL } from '../../core/names.js';
import { parseRecordLabel } from '../../core/record-label.js';
import type { Engine } from '../docker/engine/engine.js';
import type { ImageInfo } from '../docker/engine/types.js';
import type { AppImage, Images, ReleaseImage } from './images.js';

/** Images built on the engine that runs them, and kept there: every release's image today. */
export class EngineLocalImages implements Images {
  readonly kind = 'engine-local' as const;

  constructor(readonly engine: Engine) {}

  async locate(d: ReleaseImage): Promise<ImageInfo | null> {
    // By id first: a tag can be moved by hand, an id cannot.
    if (d.imageId) return this.engine.images.inspect(d.imageId);
    return d.image ? this.engine.images.inspect(d.image) : null;
  }

  /** Nothing to ship: the image stays where it was built. */
  publish(): Promise<string | null> {
    return Promise.resolve(null);
  }

  inspect(ref: string): Promise<ImageInfo | null> {
    return this.engine.images.inspect(ref);
  }

  async list(app?: string): Promise<AppImage[]> {
    const out: AppImage[] = [];
    for (const image of await this.engine.images.list({ [LABEL.record]: null })) {
      const record = parseRecordLabel(image.labels[LABEL.record]);
      if (record && (app === undefined || record.app === app)) out.push({ ...image, app: record.app });
    }
    return out;
  }

  remove(ref: string): Promise<boolean> {
    return this.engine.images.remove(ref);
  }
}

/** Where the images of releases on this engine live (one per engine connection). */
export const imagesOn: (engine: Engine) => Images = perEngine((engine) => new EngineLocalImages(engine));
