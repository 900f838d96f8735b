import { pipeline, Transform, type Readable } from 'node:stream';
import { DeployError, reasonOf } from '../../core/errors.js';
import { chainIds, layerPosition, presentLayers } from '../../core/layer-transfer.js';
import type { TarEntry } from '../../core/tar.js';
import type { Engine } from '../docker/engine/engine.js';
import type { ImageInfo } from '../docker/engine/types.js';
import { tarFilter } from '../tar-filter.js';
import { ImagesAround, mib, type BuiltRelease, type Images, type ReleaseImage } from './images.js';

/** What a copy from one engine to another moved. */
export interface TransferResult {
  /** Bytes the source engine's `docker save` gave (the whole image). */
  savedBytes: number;
  /** Bytes sent to the receiving engine's `docker load`. */
  sentBytes: number;
  layers: number;
  /** Layers whose data was left out: the receiving engine had them. */
  skippedLayers: number;
  /** Why the whole image was sent after all (the receiving engine refused the lighter tarball), or null. */
  fellBack: string | null;
}

export type TransferProgress = (sentBytes: number, savedBytes: number) => void;

/** The chain ids of every layer of every image the engine holds. */
export async function chainsOn(engine: Engine): Promise<Set<string>> {
  const chains = new Set<string>();
  const ids = await engine.images.ids();
  // A few inspects at a time: an engine with hundreds of images answers in a fraction of the one-by-one time.
  for (let i = 0; i < ids.length; i += 8) {
    const layers = await Promise.all(ids.slice(i, i + 8).map((id) => engine.images.layers(id)));
    for (const l of layers) for (const c of chainIds(l ?? [])) chains.add(c);
  }
  return chains;
}

/** Counts the bytes that pass. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

/**
 * Copies an image from one engine to another through the Engine API (GET /images/{name}/get on one, POST
 * /images/load on the other), streamed: never more than a chunk in memory. The `layer.tar` of each layer whose chain
 * the receiving engine already has is left out (see core/layer-transfer.ts); if the receiving engine refuses that
 * tarball (a layer removed meanwhile, another save format), the whole image is sent, and the result says so.
 * `ref` should be a tag: `docker load` gives the image the names the tarball carries.
 */
export async function transferImage(
  from: Engine,
  to: Engine,
  ref: string,
  options: {
    onProgress?: TransferProgress;
    whole?: boolean;
    signal?: AbortSignal;
    /** The receiving engine's layer chains, when already known (else asked). */
    present?: ReadonlySet<string>;
  } = {},
): Promise<TransferResult> {
  const diffIds = await from.images.layers(ref);
  if (!diffIds) throw new DeployError('image_gone', `The image ${ref} is not on ${from.endpoint.url} either.`);
  const skip = options.whole ? new Set<number>() : presentLayers(diffIds, options.present ?? (await chainsOn(to)));
  const once = await copy(from, to, ref, diffIds, skip, options);
  if (once.ok || skip.size === 0 || options.signal?.aborted) {
    if (!once.ok) throw once.error;
    return { ...once.result, fellBack: null };
  }
  const whole = await copy(from, to, ref, diffIds, new Set(), options);
  if (!whole.ok) throw whole.error;
  return { ...whole.result, fellBack: reasonOf(once.error) };
}

async function copy(
  from: Engine,
  to: Engine,
  ref: string,
  diffIds: readonly string[],
  skip: ReadonlySet<number>,
  options: { onProgress?: TransferProgress; signal?: AbortSignal },
): Promise<{ ok: true; result: Omit<TransferResult, 'fellBack'> } | { ok: false; error: unknown }> {
  const chains = chainIds(diffIds);
  let savedBytes = 0;
  let sentBytes = 0;
  const left = new Set<number>();
  // Each layer directory's json comes before its layer.tar: it says which layer the directory holds.
  const jsons = new Map<string, Buffer[]>();
  const dirOf = (path: string) => /^([0-9a-f]{64})\/(json|layer\.tar)$/.exec(path);
  const keep = (entry: TarEntry): boolean => {
    const m = dirOf(entry.path);
    if (!m || m[2] !== 'layer.tar' || skip.size === 0) return true;
    const json = Buffer.concat(jsons.get(m[1] as string) ?? []).toString('utf8');
    const position = layerPosition(m[1] as string, json, chains);
    if (position === null || !skip.has(position)) return true;
    left.add(position);
    return false;
  };
  const onData = (entry: TarEntry, piece: Buffer) => {
    const m = dirOf(entry.path);
    if (m?.[2] !== 'json') return;
    const parts = jsons.get(m[1] as string) ?? [];
    const got = parts.reduce((n, p) => n + p.length, 0);
    if (got < entry.size) parts.push(Buffer.from(piece.subarray(0, entry.size - got)));
    jsons.set(m[1] as string, parts);
  };
  let saved: Readable;
  try {
    saved = await from.images.save(ref, options.signal);
  } catch (error) {
    return { ok: false, error };
  }
  // One pipeline: a failure anywhere (the source engine gone, a tar that is not one) ends the load's upload with it.
  const body = pipeline(
    saved,
    counter((n) => (savedBytes += n)),
    tarFilter(keep, { onData }),
    counter((n) => {
      sentBytes += n;
      options.onProgress?.(sentBytes, savedBytes);
    }),
    () => undefined,
  );
  try {
    await to.images.load(body, options.signal);
  } catch (error) {
    saved.destroy();
    return { ok: false, error };
  }
  return { ok: true, result: { savedBytes, sentBytes, layers: diffIds.length, skippedLayers: left.size } };
}

/**
 * Releases copied from the engine that built them when the engine that runs them lacks their image (a redeploy or
 * rollback on another engine, without a registry): around another image store, whose own locate is tried first.
 */
export class TransferredImages extends ImagesAround implements Images {
  get kind() {
    return this.inner.kind;
  }

  constructor(
    inner: Images,
    private readonly engine: Engine,
    /** The engine that holds the release's image (the record's endpoint), connected when needed; null: out of reach. */
    private readonly source: () => Promise<Engine | null>,
    private readonly progress?: (line: string) => void,
    private readonly onTransfer?: (result: TransferResult) => void,
    /** Ctrl-C: ends a copy under way. */
    private readonly signal?: AbortSignal,
  ) {
    super(inner);
  }

  async locate(d: ReleaseImage): Promise<ImageInfo | null> {
    const here = await this.inner.locate(d);
    if (here || !d.image) return here;
    const from = await this.source();
    if (!from || !(await from.images.inspect(d.imageId ?? d.image))) return null;
    const title = `Copying ${d.image} from ${from.endpoint.url}`;
    const result = await transferImage(from, this.engine, d.image, {
      onProgress: (sent, saved) => this.progress?.(`${title}: ${mib(sent)} MiB sent of ${mib(saved)} MiB read`),
      ...(this.signal ? { signal: this.signal } : {}),
    });
    this.onTransfer?.(result);
    return this.inner.locate(d);
  }

  publish(d: BuiltRelease): Promise<string | null> {
    return this.inner.publish(d);
  }
}
