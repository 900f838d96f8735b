import type { EngineConnection } from './connection.js';
import type { EngineInfo } from './types.js';

/** What GET /info answers, of which the engine client reads a part. */
export type RawInfo = {
  Name?: string;
  ServerVersion?: string;
  OperatingSystem?: string;
  SecurityOptions?: string[] | null;
  Swarm?: {
    NodeID?: string;
    NodeAddr?: string;
    LocalNodeState?: string;
    ControlAvailable?: boolean;
    Error?: string;
    Nodes?: number;
    Managers?: number;
    Cluster?: { ID?: string } | null;
  } | null;
};

/** The parts of an /info answer a caller needs, typed; an engine that leaves a field out reads as "not in a swarm". */
export function toEngineInfo(raw: RawInfo): EngineInfo {
  const swarm = raw.Swarm ?? {};
  const state = swarm.LocalNodeState || 'inactive';
  const active = state === 'active';
  return {
    name: raw.Name ?? '',
    serverVersion: raw.ServerVersion ?? '',
    operatingSystem: raw.OperatingSystem ?? '',
    rootless: (raw.SecurityOptions ?? []).some((o) => o.split(',').includes('name=rootless')),
    swarm: {
      state,
      nodeId: swarm.NodeID || null,
      nodeAddress: swarm.NodeAddr || null,
      manager: active && swarm.ControlAvailable === true,
      clusterId: (active && swarm.Cluster?.ID) || null,
      nodes: active && typeof swarm.Nodes === 'number' ? swarm.Nodes : null,
      managers: active && typeof swarm.Managers === 'number' ? swarm.Managers : null,
      error: swarm.Error ?? '',
    },
  };
}

/** The engine as a whole: what it is, and its place in a swarm. */
export class EngineSystem {
  private known: Promise<EngineInfo> | null = null;

  constructor(private readonly conn: EngineConnection) {}

  /** The engine's name, version and swarm membership (GET /info). */
  async info(): Promise<EngineInfo> {
    return toEngineInfo(await this.conn.call('engine info', () => this.conn.api.json<RawInfo>('GET', '/info')));
  }

  /**
   * The same, asked once per connection (a command's runtime and front door decisions; a failed answer is asked
   * again next time).
   */
  infoOnce(): Promise<EngineInfo> {
    if (!this.known) {
      const asked = this.info();
      asked.catch(() => {
        if (this.known === asked) this.known = null;
      });
      this.known = asked;
    }
    return this.known;
  }
}
