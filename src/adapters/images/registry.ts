import { DeployError, reasonOf } from '../../core/errors.js';
import { isDigest, registryOf, releaseRepository } from '../../core/image-ref.js';
import type { Engine } from '../docker/engine/engine.js';
import { RegistryFailure, type TransferProgress } from '../docker/engine/images.js';
import type { ImageInfo } from '../docker/engine/types.js';
import { RegistryCredentials } from '../registry-credentials.js';
import { EngineLocalImages, imagesOn } from './engine-local.js';
import { ImagesAround, mib, type BuiltRelease, type Images, type ReleaseImage } from './images.js';

/** How a push or pull says where it is: one line of text (the reporter's spinner shows it). */
export type ProgressLine = (text: string) => void;

/** Words a registry (or the engine on its behalf) uses when it refuses credentials. */
const REFUSED =
  /\b401\b|unauthorized|authentication required|no basic auth credentials|access to the resource is denied|insufficient_scope|denied/i;

/**
 * Releases pushed to a registry: each built image is tagged REGISTRY/APP:ID and pushed with the credentials docker
 * has (docker login, a credential helper), and an engine that lacks a release's image pulls it by the digest its
 * record keeps. Everything else (listing, removing, inspecting) is the engine's own, as with engine-local images:
 * retention removes images from the engine, never from the registry.
 */
export class RegistryImages extends ImagesAround<EngineLocalImages> implements Images {
  readonly kind = 'registry' as const;
  private credentials: RegistryCredentials | null = null;

  constructor(
    readonly engine: Engine,
    /** The app's `registry` setting: HOST[:PORT][/PATH]. */
    readonly registry: string,
    private readonly env: Record<string, string | undefined>,
    private readonly progress?: ProgressLine,
    /** Ctrl-C: ends a push or pull under way. */
    private readonly signal?: AbortSignal,
  ) {
    super(imagesOn(engine) as EngineLocalImages);
  }

  /** The registry's host (what docker login and the credentials are keyed by). */
  get host(): string {
    return registryOf(`${this.registry}/x`);
  }

  private auth() {
    this.credentials ??= RegistryCredentials.read(this.env);
    return this.credentials.get(this.host);
  }

  async locate(d: ReleaseImage): Promise<ImageInfo | null> {
    const here = await this.inner.locate(d);
    if (here) return here;
    // Only a record that was pushed can be pulled: its digest is the registry's, its snapshot names the registry.
    const registry = d.config?.registry;
    if (!registry || !d.app || !isDigest(d.imageDigest) || d.imageDigest === d.imageId) return null;
    const repo = releaseRepository(registry, d.app);
    const from =
      registry === this.registry
        ? this
        : new RegistryImages(this.engine, registry, this.env, this.progress, this.signal);
    try {
      await this.engine.images.pull(
        repo,
        d.imageDigest,
        await from.auth(),
        this.lineFor(`Pulling ${repo}@${d.imageDigest.slice(7, 19)}`),
        this.signal,
      );
    } catch (error) {
      throw from.refusal('pull', `${repo}@${d.imageDigest}`, error);
    }
    const pulled = await this.engine.images.inspect(`${repo}@${d.imageDigest}`);
    if (!pulled) return null;
    if (!d.image) return pulled;
    // The release's own name, so that it runs, and is listed, kept and removed, as a built one is: the registry's
    // reference goes (an image referenced from two repositories cannot be removed by its id without force).
    const colon = d.image.lastIndexOf(':');
    await this.engine.images.tag(pulled.id, d.image.slice(0, colon), d.image.slice(colon + 1));
    await this.engine.images.remove(`${repo}@${d.imageDigest}`);
    return this.engine.images.inspect(pulled.id);
  }

  async publish(d: BuiltRelease): Promise<string> {
    const repo = releaseRepository(this.registry, d.app);
    try {
      await this.engine.images.tag(d.imageId, repo, d.id);
      return await this.engine.images.push(
        repo,
        d.id,
        await this.auth(),
        this.lineFor(`Pushing ${repo}:${d.id}`),
        this.signal,
      );
    } catch (error) {
      throw this.refusal('push', `${repo}:${d.id}`, error);
    } finally {
      // The engine keeps the image under its release name; the registry's name would only add a tag to remove.
      await this.engine.images.remove(`${repo}:${d.id}`).catch(() => undefined);
    }
  }

  /** A failed push or pull as the user's error: a refusal names the registry and how to log in to it. */
  private refusal(what: 'push' | 'pull', ref: string, error: unknown): unknown {
    if (error instanceof DeployError) return error;
    if (!(error instanceof RegistryFailure) && !(error instanceof Error && error.name === 'ApiError')) return error;
    const reason = reasonOf(error);
    const refused = REFUSED.test(reason);
    return new DeployError('build_failed', `The registry ${this.host} refused the ${what} of ${ref}: ${reason}.`, {
      hint: refused
        ? `Log in (docker login ${this.host}) or set up its credential helper, then try again.`
        : `Check that the registry ${this.host} is up and that ${this.registry} is where this app's images belong.`,
      details: { registry: this.host },
    });
  }

  private lineFor(title: string): ((p: TransferProgress) => void) | undefined {
    const show = this.progress;
    if (!show) return undefined;
    const layers = new Map<string, { current: number; total: number }>();
    return (p) => {
      if (p.layer && p.total) layers.set(p.layer, { current: p.current ?? 0, total: p.total });
      let current = 0;
      let total = 0;
      for (const l of layers.values()) {
        current += l.current;
        total += l.total;
      }
      show(total > 0 ? `${title}: ${mib(current)} of ${mib(total)} MiB` : `${title}: ${p.status}`);
    };
  }
}

/**
 * The image store of an app's releases on an engine, chosen by its `registry` setting: pushed to and pulled from
 * that registry, or (none) kept on the engine that built them.
 */
export function imagesFor(
  engine: Engine,
  registry: string | null | undefined,
  env: Record<string, string | undefined>,
  progress?: ProgressLine,
  signal?: AbortSignal,
): Images {
  return registry ? new RegistryImages(engine, registry, env, progress, signal) : imagesOn(engine);
}
