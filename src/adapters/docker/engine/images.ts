import { readAll } from '../api.js';
import { labelFilters, statusCode, type EngineConnection } from './connection.js';
import type { ImageInfo, ImageSummary } from './types.js';

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
}
