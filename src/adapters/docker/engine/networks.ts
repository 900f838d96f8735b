import { ApiError } from '../api.js';
import { labelFilters, statusCode, type EngineConnection } from './connection.js';
import type { NetworkInfo } from './types.js';

/** A network as the Engine API lists and inspects it. */
type ListedNetwork = {
  Id: string;
  Name: string;
  Driver: string;
  Internal?: boolean;
  Labels: Record<string, string> | null;
  Containers?: Record<string, unknown> | null;
};

function toNetworkInfo(n: ListedNetwork): NetworkInfo {
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    internal: n.Internal ?? false,
    labels: n.Labels ?? {},
    containers: Object.keys(n.Containers ?? {}).sort(),
  };
}

/** The engine's networks, and which containers are joined to them. */
export class EngineNetworks {
  constructor(private readonly conn: EngineConnection) {}

  /** Whether the engine has a network of that name (or id). */
  async has(name: string): Promise<boolean> {
    return (await this.inspect(name)) !== null;
  }

  /** A network by name or id; null when the engine has none. */
  async inspect(name: string): Promise<NetworkInfo | null> {
    try {
      return toNetworkInfo(
        await this.conn.call('inspect network', () =>
          this.conn.api.json<ListedNetwork>('GET', `/networks/${encodeURIComponent(name)}`),
        ),
      );
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /**
   * Creates a bridge network (or, on a swarm manager, an attachable overlay: `overlay`), or gives back the one of
   * that name that exists (whoever made it: compare its labels to know). Two creations at once make one network:
   * the engine refuses the second (CheckDuplicate).
   */
  async create(
    name: string,
    options: { labels: Record<string, string>; internal?: boolean; overlay?: boolean },
  ): Promise<NetworkInfo> {
    const found = await this.inspect(name);
    if (found) return found;
    try {
      await this.conn.call('create network', () =>
        this.conn.api.json('POST', '/networks/create', {
          body: {
            Name: name,
            Driver: options.overlay ? 'overlay' : 'bridge',
            // Attachable: a plain container (the front door) may join it beside the services' tasks.
            ...(options.overlay ? { Attachable: true } : {}),
            CheckDuplicate: true,
            Internal: options.internal ?? false,
            Labels: options.labels,
          },
        }),
      );
    } catch (error) {
      if (statusCode(error) !== 409) throw error;
    }
    const made = await this.inspect(name);
    if (!made) throw new ApiError(404, `create network: the network ${name} was created and is gone again`);
    return made;
  }

  /** Removes a network: 'removed', 'gone' (there was none), or 'in-use' (containers are still joined: the engine refuses). */
  async remove(name: string): Promise<'removed' | 'gone' | 'in-use'> {
    try {
      await this.conn.call('remove network', () =>
        this.conn.api.json('DELETE', `/networks/${encodeURIComponent(name)}`),
      );
      return 'removed';
    } catch (error) {
      if (statusCode(error) === 404) return 'gone';
      if (
        statusCode(error) === 403 ||
        statusCode(error) === 409 ||
        (error instanceof ApiError && /active endpoints/.test(error.message))
      )
        return 'in-use';
      throw error;
    }
  }

  /** Networks carrying all the given labels. */
  async list(labels: Record<string, string | null>): Promise<NetworkInfo[]> {
    const list = await this.conn.call('list networks', () =>
      this.conn.api.json<ListedNetwork[] | null>('GET', '/networks', { query: { filters: labelFilters(labels) } }),
    );
    return (list ?? []).map(toNetworkInfo).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Joins a container to a network, where other containers reach it by `aliases` too. */
  async connect(network: string, containerId: string, options: { aliases: string[] }): Promise<void> {
    await this.conn.call('connect network', () =>
      this.conn.api.json('POST', `/networks/${encodeURIComponent(network)}/connect`, {
        body: { Container: containerId, EndpointConfig: { Aliases: options.aliases } },
      }),
    );
  }

  /** Takes a container off a network; one that is not on it, or gone (or a network that is), is off it already. */
  async disconnect(network: string, containerId: string): Promise<void> {
    try {
      await this.conn.call('disconnect network', () =>
        this.conn.api.json('POST', `/networks/${encodeURIComponent(network)}/disconnect`, {
          body: { Container: containerId, Force: false },
        }),
      );
    } catch (error) {
      // 20.10 answers 500 to a container that is not joined.
      if (statusCode(error) === 404 || (error instanceof ApiError && /is not connected to/.test(error.message))) return;
      throw error;
    }
  }
}
