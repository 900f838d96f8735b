import { labelFilters, statusCode, type EngineConnection } from './connection.js';
import type { VolumeInfo } from './types.js';

/** The engine's named volumes. */
export class EngineVolumes {
  constructor(private readonly conn: EngineConnection) {}

  /** A volume by name; null when the engine has none of that name. */
  async inspect(name: string): Promise<VolumeInfo | null> {
    try {
      const v = await this.conn.call('inspect volume', () =>
        this.conn.api.json<{ Name: string; Labels: Record<string, string> | null }>(
          'GET',
          `/volumes/${encodeURIComponent(name)}`,
        ),
      );
      return { name: v.Name, labels: v.Labels ?? {} };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Creates a local volume (creating one that exists gives the existing one back: the engine's rule). */
  async create(name: string, labels: Record<string, string>): Promise<void> {
    await this.conn.call('create volume', () =>
      this.conn.api.json('POST', '/volumes/create', { body: { Name: name, Labels: labels } }),
    );
  }

  /** Volumes carrying all the given labels. */
  async list(labels: Record<string, string | null>): Promise<VolumeInfo[]> {
    const list = await this.conn.call('list volumes', () =>
      this.conn.api.json<{ Volumes: Array<{ Name: string; Labels: Record<string, string> | null }> | null }>(
        'GET',
        '/volumes',
        { query: { filters: labelFilters(labels) } },
      ),
    );
    return (list.Volumes ?? [])
      .map((v) => ({ name: v.Name, labels: v.Labels ?? {} }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes a volume: 'removed', 'gone' (there was none), or 'in-use' (a container still uses it: the engine refuses). */
  async remove(name: string): Promise<'removed' | 'gone' | 'in-use'> {
    try {
      await this.conn.call('remove volume', () => this.conn.api.json('DELETE', `/volumes/${encodeURIComponent(name)}`));
      return 'removed';
    } catch (error) {
      if (statusCode(error) === 404) return 'gone';
      if (statusCode(error) === 409) return 'in-use';
      throw error;
    }
  }
}
