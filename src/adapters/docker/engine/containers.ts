import type { ContainerSpec } from '../../../core/container-spec.js';
import { readAll } from '../api.js';
import { toSummaries, type ListedContainers } from '../glance.js';
import { labelFilters, statusCode, type EngineConnection } from './connection.js';
import type { ContainerState, ContainerSummary } from './types.js';
import type { UsageSample } from '../../../core/usage.js';

/** The engine's containers: their lifecycle, their state, and files in and out of them. */
export class EngineContainers {
  constructor(private readonly conn: EngineConnection) {}

  async create(spec: ContainerSpec): Promise<string> {
    const { name, ...body } = spec;
    const created = await this.conn.call('create container', () =>
      this.conn.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body }),
    );
    return created.Id;
  }

  /** Creates a container under a fixed name; null when that name is taken (the engine refuses twice). */
  async createNamed(spec: Record<string, unknown> & { name: string }): Promise<string | null> {
    const { name, ...body } = spec;
    try {
      const created = await this.conn.call('create container', () =>
        this.conn.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body }),
      );
      return created.Id;
    } catch (error) {
      if (statusCode(error) === 409) return null;
      throw error;
    }
  }

  /** Gives a container its final name (a deployment's, once it passed its health gate). */
  async rename(id: string, name: string): Promise<void> {
    await this.conn.call('rename container', () =>
      this.conn.api.json('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } }),
    );
  }

  async start(id: string): Promise<void> {
    // 304: already started.
    await this.conn.call('start container', () =>
      this.conn.api.json('POST', `/containers/${encodeURIComponent(id)}/start`),
    );
  }

  /** Stops a container, giving it `graceSeconds` to exit after its stop signal. Stopping a stopped one succeeds. */
  async stop(id: string, graceSeconds = 10): Promise<void> {
    try {
      // The engine is silent for up to the grace period while the app has its chance to stop.
      await this.conn.call('stop container', () =>
        this.conn.api.json('POST', `/containers/${encodeURIComponent(id)}/stop`, {
          query: { t: graceSeconds },
          idleMs: graceSeconds * 1000 + this.conn.api.idleMs,
        }),
      );
    } catch (error) {
      if (statusCode(error) === 404) return;
      throw error;
    }
  }

  async restart(id: string, graceSeconds = 10): Promise<void> {
    await this.conn.call('restart container', () =>
      this.conn.api.json('POST', `/containers/${encodeURIComponent(id)}/restart`, {
        query: { t: graceSeconds },
        idleMs: graceSeconds * 1000 + this.conn.api.idleMs,
      }),
    );
  }

  /**
   * Removes a container (stopping it first if needed). Removing one that is gone succeeds. `v` removes its
   * anonymous volumes only: the engine never removes a named volume with its container (test/integration/volumes).
   */
  async remove(id: string): Promise<void> {
    try {
      await this.conn.call('remove container', () =>
        this.conn.api.json('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: 'true', v: 'true' } }),
      );
    } catch (error) {
      if (statusCode(error) === 404 || statusCode(error) === 409) return;
      throw error;
    }
  }

  async inspect(id: string): Promise<ContainerState | null> {
    type Inspect = {
      Id: string;
      Name: string;
      RestartCount: number;
      Image: string;
      State: {
        Running: boolean;
        Restarting: boolean;
        Status: string;
        ExitCode: number;
        Error?: string;
        StartedAt?: string;
        FinishedAt?: string;
        Health?: { Status: string };
      };
      Config: { Labels?: Record<string, string> | null; Env?: string[] | null };
    };
    try {
      const c = await this.conn.call('inspect container', () =>
        this.conn.api.json<Inspect>('GET', `/containers/${encodeURIComponent(id)}/json`),
      );
      return {
        id: c.Id,
        name: c.Name.replace(/^\//, ''),
        running: c.State.Running,
        restarting: c.State.Restarting,
        status: c.State.Status,
        exitCode: c.State.ExitCode,
        restartCount: c.RestartCount,
        health: c.State.Health?.Status ?? null,
        labels: c.Config.Labels ?? {},
        error: c.State.Error ?? '',
        imageId: c.Image,
        env: c.Config.Env ?? [],
        startedAt: c.State.StartedAt && !c.State.StartedAt.startsWith('0001') ? Date.parse(c.State.StartedAt) : null,
        finishedAt:
          c.State.FinishedAt && !c.State.FinishedAt.startsWith('0001') ? Date.parse(c.State.FinishedAt) : null,
      };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /**
   * One sample of a running container's resource use (GET /containers/{id}/stats?stream=false: the engine waits for a
   * second reading, so the CPU use over that interval can be told); null when the container is gone.
   */
  async stats(id: string): Promise<UsageSample | null> {
    try {
      return await this.conn.call('read container stats', () =>
        this.conn.api.json<UsageSample>('GET', `/containers/${encodeURIComponent(id)}/stats`, {
          query: { stream: 'false' },
        }),
      );
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /**
   * Containers carrying all the given labels, running or not. With a signal (a read-only check with a short
   * timeout), an abort ends the request at once.
   */
  async list(labels: Record<string, string | null>, signal?: AbortSignal): Promise<ContainerSummary[]> {
    const query = { all: 'true', filters: labelFilters(labels) };
    const list = await this.conn.call('list containers', async () =>
      signal
        ? (JSON.parse(
            (await readAll(await this.conn.api.stream('GET', '/containers/json', { query, signal }))).toString('utf8'),
          ) as ListedContainers)
        : this.conn.api.json<ListedContainers>('GET', '/containers/json', { query }),
    );
    return toSummaries(list);
  }

  /** Resolves when a container with this name is destroyed, or after timeoutMs (bounded waits only). */
  async waitForRemoval(name: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(stop, timeoutMs);
    try {
      const stream = await this.conn.call('watch events', () =>
        this.conn.api.stream('GET', '/events', {
          query: { filters: JSON.stringify({ container: [name], event: ['destroy'] }) },
          signal: controller.signal,
        }),
      );
      await new Promise<void>((resolve) => {
        stream.once('data', () => resolve());
        stream.once('end', () => resolve());
        stream.once('error', () => resolve());
        controller.signal.addEventListener('abort', () => resolve(), { once: true });
        // Gone before the watch began? Then no event will come: look once the watch is on.
        void this.inspect(name).then(
          (state) => state === null && resolve(),
          () => resolve(),
        );
      });
      stream.destroy();
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      clearTimeout(timer);
      controller.abort();
      signal.removeEventListener('abort', stop);
    }
  }

  /** Writes a tar into a container's filesystem (it need not be running). */
  async putArchive(id: string, path: string, tar: Buffer): Promise<void> {
    const res = await this.conn.call('write into container', () =>
      this.conn.api.stream('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
        query: { path },
        body: tar,
        headers: { 'Content-Type': 'application/x-tar' },
      }),
    );
    await readAll(res);
  }

  /** Reads a path of a container's filesystem as a tar; null when the container or the path is gone. */
  async getArchive(id: string, path: string): Promise<Buffer | null> {
    try {
      return await this.conn.call('read from container', () =>
        this.conn.api.buffer('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } }),
      );
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }
}
