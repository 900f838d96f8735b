import type { Readable } from 'node:stream';
import { readAll } from '../api.js';
import {
  isConnectionError,
  jsonLines,
  labelFilters,
  statusCode,
  unreachable,
  type EngineConnection,
} from './connection.js';
import type { ImageInfo, ImageSummary, RegistryAuth } from './types.js';

/** A push or pull the registry (or the engine) refused: its own words, as the engine streamed them. */
export class RegistryFailure extends Error {}

/** X-Registry-Auth: an AuthConfig as base64url JSON (Go's URLEncoding, padded), or none ("{}" is anonymous). */
export function registryAuthHeader(auth: RegistryAuth | null): string {
  return Buffer.from(JSON.stringify(auth ?? {}))
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/** Progress of a push or pull: bytes done of the layers in flight, as the engine reports them. */
export interface TransferProgress {
  status: string;
  layer?: string | undefined;
  current?: number | undefined;
  total?: number | undefined;
}

/** The engine's images: what one holds, listing, removing and importing them. */
export class EngineImages {
  constructor(private readonly conn: EngineConnection) {}

  async inspect(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.conn.call('inspect image', () =>
        this.conn.api.json<{
          Id: string;
          RepoDigests?: string[] | null;
          Config?: {
            Healthcheck?: { Test?: string[]; Interval?: number };
            Labels?: Record<string, string> | null;
            Volumes?: Record<string, unknown> | null;
            ExposedPorts?: Record<string, unknown> | null;
          };
        }>('GET', `/images/${encodeURIComponent(ref)}/json`),
      );
      const test = info.Config?.Healthcheck?.Test;
      const has = Boolean(test?.length && test[0] !== 'NONE');
      return {
        id: info.Id,
        hasHealthcheck: has,
        labels: info.Config?.Labels ?? {},
        volumes: Object.keys(info.Config?.Volumes ?? {}).sort(),
        healthcheckIntervalMs: has
          ? Math.round((info.Config?.Healthcheck?.Interval || 30_000_000_000) / 1_000_000)
          : null,
        exposed: Object.keys(info.Config?.ExposedPorts ?? {}).sort(),
        digest: info.RepoDigests?.[0]?.split('@')[1] ?? null,
      };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Removes an image; false when it is gone already or still in use (the engine refuses: 409). */
  async remove(ref: string): Promise<boolean> {
    try {
      await this.conn.call('remove image', () => this.conn.api.json('DELETE', `/images/${encodeURIComponent(ref)}`));
      return true;
    } catch (error) {
      if (statusCode(error) === 404 || statusCode(error) === 409) return false;
      throw error;
    }
  }

  /** Images carrying all the given labels. */
  async list(labels: Record<string, string | null>): Promise<ImageSummary[]> {
    const images = await this.conn.call('list images', () =>
      this.conn.api.json<
        Array<{ Id: string; RepoTags: string[] | null; Labels: Record<string, string> | null; Created: number }>
      >('GET', '/images/json', { query: { filters: labelFilters(labels) } }),
    );
    return images.map((i) => ({
      id: i.Id,
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      labels: i.Labels ?? {},
      created: i.Created * 1000,
    }));
  }

  /** Imports a root filesystem tar as an image (what `docker import` does); needs no registry. */
  async import(tar: Buffer, repo: string, tag: string, changes: string[] = []): Promise<void> {
    const query: Record<string, string> = { fromSrc: '-', repo, tag };
    // The API takes `changes` as a repeated parameter; one change is all this tool needs.
    if (changes[0]) query.changes = changes[0];
    const out = await this.conn.call('import image', () =>
      this.conn.api.stream('POST', '/images/create', {
        query,
        body: tar,
        headers: { 'Content-Type': 'application/x-tar' },
      }),
    );
    await readAll(out);
  }

  /** Gives an image another name (`docker tag`). */
  async tag(source: string, repo: string, tag: string): Promise<void> {
    await this.conn.call('tag image', () =>
      this.conn.api.json('POST', `/images/${encodeURIComponent(source)}/tag`, { query: { repo, tag } }),
    );
  }

  /**
   * Pushes `repo:tag` to its registry with the given credentials (never logged); resolves with the registry's
   * digest of it. A refusal (wrong password, no such repository) is a RegistryFailure with the engine's words.
   */
  async push(
    repo: string,
    tag: string,
    auth: RegistryAuth | null,
    onProgress?: (p: TransferProgress) => void,
    signal?: AbortSignal,
  ): Promise<string> {
    const stream = await this.conn.call('push image', () =>
      this.conn.api.stream('POST', `/images/${encodeURIComponent(repo)}/push`, {
        query: { tag },
        headers: { 'X-Registry-Auth': registryAuthHeader(auth) },
        idleMs: 0,
        ...(signal ? { signal } : {}),
      }),
    );
    let digest: string | null = null;
    await this.progressOf(stream, onProgress, (msg) => {
      const aux = msg.aux as { Digest?: string } | undefined;
      if (aux?.Digest) digest = aux.Digest;
    });
    if (!digest) throw new RegistryFailure('the engine finished the push without reporting a digest');
    return digest;
  }

  /** Pulls `repo@digest` (or `repo:tag`) with the given credentials (never logged). */
  async pull(
    repo: string,
    tagOrDigest: string,
    auth: RegistryAuth | null,
    onProgress?: (p: TransferProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const stream = await this.conn.call('pull image', () =>
      this.conn.api.stream('POST', '/images/create', {
        query: { fromImage: repo, tag: tagOrDigest },
        headers: { 'X-Registry-Auth': registryAuthHeader(auth) },
        idleMs: 0,
        ...(signal ? { signal } : {}),
      }),
    );
    await this.progressOf(stream, onProgress);
  }

  /** Reads a push's or pull's JSON stream to its end; an error in it is a RegistryFailure. */
  private progressOf(
    stream: Readable,
    onProgress: ((p: TransferProgress) => void) | undefined,
    onMessage?: (msg: Record<string, unknown>) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      let failure: string | null = null;
      jsonLines(stream, (msg) => {
        onMessage?.(msg);
        if (msg.error || msg.errorDetail) {
          failure = (msg.errorDetail as { message?: string } | undefined)?.message ?? String(msg.error);
          return;
        }
        if (typeof msg.status === 'string' && onProgress) {
          const detail = msg.progressDetail as { current?: number; total?: number } | undefined;
          onProgress({
            status: msg.status,
            layer: typeof msg.id === 'string' ? msg.id : undefined,
            current: detail?.current,
            total: detail?.total,
          });
        }
      });
      stream.on('error', (error: unknown) =>
        reject(isConnectionError(error) ? unreachable(this.conn.endpoint, error) : error),
      );
      stream.on('end', () => (failure ? reject(new RegistryFailure(failure)) : resolve()));
    });
  }

  /** The diff ids of an image's layers (RootFS.Layers), bottom first; null when the engine does not have it. */
  async layers(ref: string): Promise<string[] | null> {
    try {
      const info = await this.conn.call('inspect image', () =>
        this.conn.api.json<{ RootFS?: { Layers?: string[] | null } }>('GET', `/images/${encodeURIComponent(ref)}/json`),
      );
      return info.RootFS?.Layers ?? [];
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Every image the engine holds (ids), tool-made or not. */
  async ids(): Promise<string[]> {
    const images = await this.conn.call('list images', () =>
      this.conn.api.json<Array<{ Id: string }>>('GET', '/images/json', { query: { all: 'true' } }),
    );
    return images.map((i) => i.Id);
  }

  /** `docker save` of one image, as a stream (GET /images/{name}/get): nothing is held in memory. */
  save(ref: string, signal?: AbortSignal): Promise<Readable> {
    return this.conn.call('save image', () =>
      this.conn.api.stream('GET', `/images/${encodeURIComponent(ref)}/get`, {
        idleMs: 0,
        ...(signal ? { signal } : {}),
      }),
    );
  }

  /**
   * `docker load` of a tar stream (POST /images/load); resolves once the engine has loaded it. The engine's refusal
   * (a layer the tarball lacks and the engine does not have, a damaged archive) is a RegistryFailure-like
   * LoadFailure with its words.
   */
  async load(body: Readable, signal?: AbortSignal): Promise<void> {
    const stream = await this.conn.call('load image', () =>
      this.conn.api.stream('POST', '/images/load', {
        query: { quiet: '1' },
        body,
        headers: { 'Content-Type': 'application/x-tar' },
        idleMs: 0,
        ...(signal ? { signal } : {}),
      }),
    );
    await this.progressOf(stream, undefined).catch((error: unknown) => {
      throw error instanceof RegistryFailure ? new LoadFailure(error.message) : error;
    });
  }
}

/** An image load the engine refused, in its words. */
export class LoadFailure extends Error {}
