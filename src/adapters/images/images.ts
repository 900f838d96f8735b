import type { ImageInfo } from '../docker/engine/types.js';

/** What a record says of its image: its tag and id, and (a pushed one) its app, registry digest and registry. */
export interface ReleaseImage {
  image: string | null;
  imageId: string | null;
  app?: string;
  imageDigest?: string | null;
  config?: { registry?: string | null };
}

/** A release whose image was just built on the engine: its app, its record's id, and the image's tag and id. */
export interface BuiltRelease {
  app: string;
  id: string;
  image: string;
  imageId: string;
}

/** An image the tool made for a release, as a listing shows it: its record label names the app. */
export interface AppImage {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: number;
  app: string;
}

/**
 * Where a release's image lives and how it gets to the engine that runs it, behind one interface: today the image
 * is built on that engine and stays there (engine-local.ts); a registry (push once, pull on each engine) and an
 * engine-to-engine transfer implement the same calls. Reuse ("is v3's image usable here?"), retention and sync's
 * evidence (which images of an app exist) go through it.
 */
export interface Images {
  readonly kind: 'engine-local' | 'registry';
  /**
   * The image of a release, usable on the engine: by its id, else its tag; null when it cannot be had. A registry
   * pulls it by the record's digest when the engine lacks it (and tags it as the record names it).
   */
  locate(d: ReleaseImage): Promise<ImageInfo | null>;
  /**
   * Ships a release's freshly built image where other engines can get it; resolves with the digest the record keeps
   * (null: nothing shipped, the image stays on the engine that built it).
   */
  publish(d: BuiltRelease): Promise<string | null>;
  /** An image by reference (a tag, an id, a base image a Dockerfile names). */
  inspect(ref: string): Promise<ImageInfo | null>;
  /** The images the tool made, of one app or all. */
  list(app?: string): Promise<AppImage[]>;
  /** Removes an image; false when it is gone already or still in use (kept). */
  remove(ref: string): Promise<boolean>;
}

/**
 * What a record keeps as its image's digest: the registry digest when the image has one (pushed or pulled), else
 * its content id, which names the same bytes on the engine that holds it.
 */
export function imageDigest(info: Pick<ImageInfo, 'digest'> | null | undefined, id: string): string {
  return info?.digest ?? id;
}

/**
 * The base of an image store that wraps another (a registry around the engine's own images, a transfer around
 * either): what it does not change (inspecting, listing, removing) it leaves to the one inside.
 */
export abstract class ImagesAround<Inner extends Images = Images> {
  constructor(protected readonly inner: Inner) {}

  inspect(ref: string): Promise<ImageInfo | null> {
    return this.inner.inspect(ref);
  }

  list(app?: string): Promise<AppImage[]> {
    return this.inner.list(app);
  }

  remove(ref: string): Promise<boolean> {
    return this.inner.remove(ref);
  }
}

/** Bytes as MiB with one decimal, for a progress line. */
export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
