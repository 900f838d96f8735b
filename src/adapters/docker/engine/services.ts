import { LogDemuxer, type LogLine } from '../../../core/logs.js';
import { readAll } from '../api.js';
import { labelFilters, statusCode, type EngineConnection } from './connection.js';
import { registryAuthHeader } from './images.js';
import { followMultiplexed, logQuery } from './logs.js';
import type {
  LogRange,
  RegistryAuth,
  ServiceInfo,
  ServiceLogLine,
  ServiceSpec,
  SwarmNodeInfo,
  TaskInfo,
} from './types.js';

/** A service as GET /services lists and inspects it. */
type RawService = {
  ID: string;
  Version?: { Index?: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec | null;
  UpdateStatus?: { State?: string; Message?: string } | null;
};

/** A task as GET /tasks lists it. */
type RawTask = {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: { ContainerSpec?: { Image?: string; Env?: string[] | null } };
  Status?: {
    Timestamp?: string;
    State?: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  DesiredState?: string;
};

/** A node as GET /nodes lists it. */
type RawNode = {
  ID: string;
  Description?: { Hostname?: string; Engine?: { EngineVersion?: string } };
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> | null };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Addr?: string } | null;
};

/** An engine timestamp (RFC 3339, nanoseconds) as epoch ms; null for none or Go's zero time. */
function time(text: string | undefined): number | null {
  if (!text || text.startsWith('0001')) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export function toServiceInfo(s: RawService): ServiceInfo {
  return {
    id: s.ID,
    name: s.Spec.Name,
    version: s.Version?.Index ?? 0,
    labels: s.Spec.Labels ?? {},
    replicas: s.Spec.Mode?.Global ? null : (s.Spec.Mode?.Replicated?.Replicas ?? 1),
    spec: s.Spec,
    previousSpec: s.PreviousSpec ?? null,
    updateState: s.UpdateStatus?.State ?? null,
    updateMessage: s.UpdateStatus?.Message ?? '',
    createdAt: time(s.CreatedAt),
    updatedAt: time(s.UpdatedAt),
  };
}

/** Where a task ends: its container's exit code is known from then on (a running one's reads 0, or -1 while stopping). */
const ENDED = new Set(['complete', 'failed', 'shutdown']);

export function toTaskInfo(t: RawTask): TaskInfo {
  const state = t.Status?.State ?? 'new';
  const code = t.Status?.ContainerStatus?.ExitCode;
  return {
    id: t.ID,
    serviceId: t.ServiceID,
    nodeId: t.NodeID ?? '',
    slot: t.Slot ?? null,
    state,
    desiredState: t.DesiredState ?? '',
    error: t.Status?.Err ?? '',
    message: t.Status?.Message ?? '',
    containerId: t.Status?.ContainerStatus?.ContainerID || null,
    exitCode: ENDED.has(state) && typeof code === 'number' ? code : null,
    stateSince: time(t.Status?.Timestamp),
    image: t.Spec?.ContainerSpec?.Image ?? '',
    env: t.Spec?.ContainerSpec?.Env ?? [],
    createdAt: time(t.CreatedAt),
    updatedAt: time(t.UpdatedAt),
  };
}

export function toSwarmNodeInfo(n: RawNode): SwarmNodeInfo {
  // A manager's Status.Addr may be 0.0.0.0 (it listens on all); its manager address says where it is.
  const managerHost = n.ManagerStatus?.Addr?.replace(/:\d+$/, '');
  const addr = n.Status?.Addr ?? '';
  return {
    id: n.ID,
    hostname: n.Description?.Hostname ?? '',
    address: addr === '' || addr === '0.0.0.0' ? (managerHost ?? addr) : addr,
    state: n.Status?.State ?? 'unknown',
    availability: n.Spec?.Availability ?? 'active',
    role: n.Spec?.Role === 'manager' ? 'manager' : 'worker',
    leader: n.ManagerStatus?.Leader === true,
    engineVersion: n.Description?.Engine?.EngineVersion ?? '',
    labels: n.Spec?.Labels ?? {},
  };
}

/**
 * A line of service logs read with details=true begins with the log's attributes
 * ("com.docker.swarm.node.id=N,com.docker.swarm.service.id=S,com.docker.swarm.task.id=T message"): takes them off.
 */
export function withTaskDetails(line: LogLine): ServiceLogLine {
  const m = /^((?:[\w.-]+=[^,\s]*)(?:,[\w.-]+=[^,\s]*)*) (.*)$/s.exec(line.message);
  const details: Record<string, string> = {};
  if (m) {
    for (const pair of (m[1] ?? '').split(',')) {
      const eq = pair.indexOf('=');
      details[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const taskId = details['com.docker.swarm.task.id'];
  if (!m || taskId === undefined) return { ...line, taskId: '', nodeId: '' };
  return { ...line, message: m[2] ?? '', taskId, nodeId: details['com.docker.swarm.node.id'] ?? '' };
}

/**
 * The swarm's services (on a manager), their tasks and the nodes they run on. An engine outside a swarm, or a
 * worker, refuses these calls with its own message (503: "This node is not a swarm manager...").
 */
export class EngineServices {
  constructor(private readonly conn: EngineConnection) {}

  /** Creates a service; resolves with its id. `auth` (X-Registry-Auth) lets the nodes pull a private image. */
  async create(spec: ServiceSpec, auth?: RegistryAuth | null): Promise<{ id: string; warnings: string[] }> {
    const created = await this.post<{ ID: string; Warnings?: string[] | null }>(
      'create service',
      '/services/create',
      {},
      spec,
      auth,
    );
    return { id: created.ID, warnings: created.Warnings ?? [] };
  }

  /** A service by id or name; null when there is none. */
  async inspect(idOrName: string): Promise<ServiceInfo | null> {
    try {
      return toServiceInfo(
        await this.conn.call('inspect service', () =>
          this.conn.api.json<RawService>('GET', `/services/${encodeURIComponent(idOrName)}`),
        ),
      );
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Services carrying all the given labels, by name. */
  async list(labels: Record<string, string | null>): Promise<ServiceInfo[]> {
    const list = await this.conn.call('list services', () =>
      this.conn.api.json<RawService[] | null>('GET', '/services', { query: { filters: labelFilters(labels) } }),
    );
    return (list ?? []).map(toServiceInfo).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Replaces a service's spec; `version` is the index inspect() gave (the engine refuses a stale one, so two
   * updates cannot silently overwrite each other). `auth` is sent as X-Registry-Auth for a new private image;
   * without it the nodes keep the credentials the service was created with. `rollback` asks Swarm to go back to
   * the previous spec instead (the spec sent is then ignored by the engine, but must still be whole).
   */
  async update(
    id: string,
    version: number,
    spec: ServiceSpec,
    options: { auth?: RegistryAuth | null; rollback?: boolean } = {},
  ): Promise<{ warnings: string[] }> {
    const query: Record<string, string> = { version: String(version) };
    if (options.rollback) query.rollback = 'previous';
    // As the docker CLI does: without new credentials the nodes keep pulling with those the spec holds.
    if (!options.auth) query.registryAuthFrom = 'spec';
    const updated = await this.post<{ Warnings?: string[] | null } | null>(
      'update service',
      `/services/${encodeURIComponent(id)}/update`,
      query,
      spec,
      options.auth,
    );
    return { warnings: updated?.Warnings ?? [] };
  }

  /** Removes a service (Swarm then stops its tasks): 'removed', or 'gone' when there was none. */
  async remove(idOrName: string): Promise<'removed' | 'gone'> {
    try {
      await this.conn.call('remove service', () =>
        this.conn.api.json('DELETE', `/services/${encodeURIComponent(idOrName)}`),
      );
      return 'removed';
    } catch (error) {
      if (statusCode(error) === 404) return 'gone';
      throw error;
    }
  }

  /** A service's tasks (those Swarm still keeps: the current ones and a few of the history), newest first. */
  async tasks(serviceId: string): Promise<TaskInfo[]> {
    const list = await this.conn.call('list tasks', () =>
      this.conn.api.json<RawTask[] | null>('GET', '/tasks', {
        query: { filters: JSON.stringify({ service: [serviceId] }) },
      }),
    );
    return (list ?? []).map(toTaskInfo).sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
  }

  /** The swarm's nodes, by hostname. */
  async nodes(): Promise<SwarmNodeInfo[]> {
    const list = await this.conn.call('list nodes', () => this.conn.api.json<RawNode[] | null>('GET', '/nodes'));
    return (list ?? [])
      .map(toSwarmNodeInfo)
      .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  }

  /**
   * The last `tail` lines of each of a service's tasks (from every node, as the manager gathers them), split into
   * stdout and stderr, each with the task and node it came from. Lines of different tasks come in no set order.
   */
  async logs(idOrName: string, options: LogRange = {}): Promise<ServiceLogLine[]> {
    const buffer = await this.conn.call('read service logs', () =>
      this.conn.api.buffer('GET', `/services/${encodeURIComponent(idOrName)}/logs`, {
        query: { ...logQuery(options), details: 'true' },
      }),
    );
    const demux = new LogDemuxer(true);
    return [...demux.push(buffer), ...demux.flush()].map(withTaskDetails);
  }

  /**
   * Follows a service's logs as its tasks write them (after the last `tail` lines of each), on every node, until
   * the signal aborts (or the service is removed). Each line comes with the task and node it came from. A task
   * that starts meanwhile is followed too, but its node opens its logs only after it starts: with `tail: 0` its
   * first lines can be lost, so follow from a time (`since`) instead.
   */
  async followLogs(
    idOrName: string,
    options: LogRange,
    onLine: (line: ServiceLogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    await followMultiplexed(
      this.conn,
      'follow service logs',
      `/services/${encodeURIComponent(idOrName)}/logs`,
      { ...logQuery({ ...options, follow: true }), details: 'true' },
      (line) => onLine(withTaskDetails(line)),
      signal,
    );
  }

  /** A POST with a JSON body and, when given, registry credentials (api.json sends no extra headers). */
  private async post<T>(
    what: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    auth: RegistryAuth | null | undefined,
  ): Promise<T> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (auth) headers['X-Registry-Auth'] = registryAuthHeader(auth);
    return this.conn.call(what, async () => {
      const res = await this.conn.api.stream('POST', path, { query, body: Buffer.from(JSON.stringify(body)), headers });
      const text = (await readAll(res)).toString('utf8');
      return (text.trim() === '' ? null : JSON.parse(text)) as T;
    });
  }
}
