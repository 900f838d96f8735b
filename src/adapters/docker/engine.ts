import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { ContainerSpec } from '../../core/container-spec.js';
import { DeployError } from '../../core/errors.js';
import { LogDemuxer, type LogLine } from '../../core/logs.js';
import { connectionOptions, type Endpoint } from './endpoint.js';
import { CONNECTION_LOST } from './events.js';

/** The newest Engine API this tool speaks; older engines are met at their own version. */
const CLIENT_API_VERSION = '1.45';

export interface BuildOptions {
  tag: string;
  dockerfile: string;
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  noCache: boolean;
  pull: boolean;
}

export interface BuildResult {
  imageId: string;
}

export interface ImageInfo {
  id: string;
  hasHealthcheck: boolean;
  labels: Record<string, string>;
}

export interface ContainerState {
  id: string;
  name: string;
  running: boolean;
  restarting: boolean;
  status: string;
  exitCode: number;
  restartCount: number;
  health: string | null;
  labels: Record<string, string>;
  error: string;
  imageId: string;
  env: string[];
  startedAt: number | null;
}

export interface ContainerEvent {
  action: string;
  exitCode: number | null;
}

export class BuildFailure extends Error {}


function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function engineMessage(error: unknown): string {
  const e = error as { json?: { message?: string }; reason?: string; message?: string };
  return e.json?.message ?? e.message ?? String(error);
}

/** A running Docker Engine, reached through the Engine API. The only code that talks to Docker. */
export class Engine {
  readonly endpoint: Endpoint;
  readonly apiVersion: string;
  private readonly docker: Docker;

  private constructor(endpoint: Endpoint, docker: Docker, apiVersion: string) {
    this.endpoint = endpoint;
    this.docker = docker;
    this.apiVersion = apiVersion;
  }

  /** Connects and agrees on an API version (the older of the engine's and ours, or DOCKER_API_VERSION). */
  static async connect(endpoint: Endpoint, env: Record<string, string | undefined> = process.env): Promise<Engine> {
    const docker = new Docker(connectionOptions(endpoint, env));
    let serverVersion: string;
    try {
      const v = (await docker.version()) as { ApiVersion?: string };
      serverVersion = v.ApiVersion ?? '1.24';
    } catch (error) {
      throw unreachable(endpoint, error);
    }
    const version =
      endpoint.apiVersion ?? (compareVersions(serverVersion, CLIENT_API_VERSION) < 0 ? serverVersion : CLIENT_API_VERSION);
    (docker.modem as unknown as { version: string }).version = `v${version}`;
    return new Engine(endpoint, docker, version);
  }

  /** Wraps an Engine API call: a lost connection becomes "Docker unreachable", naming the endpoint. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isConnectionError(error)) throw unreachable(this.endpoint, error);
      throw Object.assign(new Error(`${what}: ${engineMessage(error)}`), { statusCode: statusCode(error), cause: error });
    }
  }

  /**
   * Builds an image from a tar stream. Each line of build output goes to onOutput; the image id is returned.
   * A build error rejects with BuildFailure carrying the engine's message.
   */
  async build(context: Readable, options: BuildOptions, onOutput: (text: string) => void, signal?: AbortSignal): Promise<BuildResult> {
    const stream = await this.call('build', () =>
      this.docker.buildImage(context as unknown as NodeJS.ReadableStream, {
        t: options.tag,
        dockerfile: options.dockerfile,
        labels: options.labels,
        buildargs: options.buildArgs,
        nocache: options.noCache,
        ...(options.pull ? { pull: 'true' } : {}),
        rm: true,
        forcerm: true,
        ...(signal ? { abortSignal: signal } : {}),
      } as Docker.ImageBuildOptions),
    );
    return new Promise<BuildResult>((resolve, reject) => {
      let imageId: string | null = null;
      let failure: string | null = null;
      let buffered = '';
      const handle = (line: string) => {
        if (line.trim() === '') return;
        let msg: { stream?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string }; status?: string };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          onOutput(`${line}\n`);
          return;
        }
        if (msg.aux?.ID) imageId = msg.aux.ID;
        if (msg.stream) onOutput(msg.stream);
        if (msg.status) onOutput(`${msg.status}\n`);
        if (msg.error || msg.errorDetail) {
          failure = msg.errorDetail?.message ?? msg.error ?? 'build failed';
          onOutput(`${failure}\n`);
        }
      };
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(handle);
      });
      stream.on('error', (error: unknown) => reject(isConnectionError(error) ? unreachable(this.endpoint, error) : error));
      stream.on('end', () => {
        handle(buffered);
        if (failure) reject(new BuildFailure(failure));
        else if (!imageId) reject(new BuildFailure('the engine finished the build without reporting an image'));
        else resolve({ imageId });
      });
    });
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.call('inspect image', () => this.docker.getImage(ref).inspect());
      return {
        id: info.Id,
        hasHealthcheck: Boolean(info.Config?.Healthcheck?.Test?.length && info.Config.Healthcheck.Test[0] !== 'NONE'),
        labels: info.Config?.Labels ?? {},
      };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  async removeImage(ref: string): Promise<boolean> {
    try {
      await this.call('remove image', () => this.docker.getImage(ref).remove({ noprune: false }));
      return true;
    } catch (error) {
      if (statusCode(error) === 404 || statusCode(error) === 409) return false;
      throw error;
    }
  }

  /** Images carrying all the given labels. */
  async listImages(labels: Record<string, string | null>): Promise<Array<{ id: string; tags: string[]; labels: Record<string, string>; created: number }>> {
    const filters = { label: labelFilter(labels) };
    const images = await this.call('list images', () => this.docker.listImages({ filters }));
    return images.map((i) => ({ id: i.Id, tags: i.RepoTags ?? [], labels: i.Labels ?? {}, created: i.Created * 1000 }));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const container = await this.call('create container', () => this.docker.createContainer(spec as unknown as Docker.ContainerCreateOptions));
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.call('start container', () => this.docker.getContainer(id).start());
    } catch (error) {
      if (statusCode(error) === 304) return; // already started
      throw error;
    }
  }

  /** Stops a container, giving it `graceSeconds` to exit after SIGTERM. Stopping a stopped one succeeds. */
  async stopContainer(id: string, graceSeconds = 10): Promise<void> {
    try {
      await this.call('stop container', () => this.docker.getContainer(id).stop({ t: graceSeconds }));
    } catch (error) {
      if (statusCode(error) === 304 || statusCode(error) === 404) return;
      throw error;
    }
  }

  async restartContainer(id: string, graceSeconds = 10): Promise<void> {
    await this.call('restart container', () => this.docker.getContainer(id).restart({ t: graceSeconds }));
  }

  /** Removes a container (stopping it first if needed). Removing one that is gone succeeds. */
  async removeContainer(id: string): Promise<void> {
    try {
      await this.call('remove container', () => this.docker.getContainer(id).remove({ force: true, v: true }));
    } catch (error) {
      if (statusCode(error) === 404 || statusCode(error) === 409) return;
      throw error;
    }
  }

  async inspectContainer(id: string): Promise<ContainerState | null> {
    try {
      const c = await this.call('inspect container', () => this.docker.getContainer(id).inspect());
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
      };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Containers carrying all the given labels, running or not. */
  async listContainers(labels: Record<string, string | null>): Promise<Array<{ id: string; name: string; state: string; labels: Record<string, string> }>> {
    const filters = { label: labelFilter(labels) };
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters }));
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), state: c.State, labels: c.Labels ?? {} }));
  }

  /** Imports a root filesystem tar as an image (what `docker import` does); needs no registry. */
  async importImage(tar: Buffer, repo: string, tag: string, changes: string[] = []): Promise<void> {
    const { Readable } = await import('node:stream');
    const stream = await this.call('import image', () =>
      this.docker.importImage(Readable.from([tar]) as unknown as NodeJS.ReadableStream, { repo, tag, ...(changes.length ? { changes } : {}) } as object),
    );
    await new Promise<void>((resolve, reject) => {
      (stream as unknown as Readable).on('data', () => undefined).on('end', resolve).on('error', reject);
    });
  }

  /** Creates a container under a fixed name; null when that name is taken (the engine refuses twice). */
  async createNamed(spec: Record<string, unknown> & { name: string }): Promise<string | null> {
    try {
      const c = await this.call('create container', () => this.docker.createContainer(spec as unknown as Docker.ContainerCreateOptions));
      return c.id;
    } catch (error) {
      if (statusCode(error) === 409) return null;
      throw error;
    }
  }

  /** Writes a tar into a container's filesystem (it need not be running). */
  async putArchive(id: string, path: string, tar: Buffer): Promise<void> {
    await this.call('write into container', () => this.docker.getContainer(id).putArchive(tar, { path }) as unknown as Promise<void>);
  }

  /** Reads a path of a container's filesystem as a tar; null when the container or the path is gone. */
  async getArchive(id: string, path: string): Promise<Buffer | null> {
    try {
      const stream = (await this.call('read from container', () => this.docker.getContainer(id).getArchive({ path }))) as unknown as Readable;
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Resolves when a container with this name is destroyed, or after timeoutMs (bounded waits only). */
  async waitForRemoval(name: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    signal.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(stop, timeoutMs);
    try {
      const stream = (await this.call('watch events', () =>
        this.docker.getEvents({ filters: { container: [name], event: ['destroy'] }, abortSignal: controller.signal } as Docker.GetEventsOptions),
      )) as unknown as Readable;
      await new Promise<void>((resolve) => {
        stream.once('data', () => resolve());
        stream.once('end', () => resolve());
        stream.once('error', () => resolve());
        controller.signal.addEventListener('abort', () => resolve(), { once: true });
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

  /**
   * Follows a container's lifecycle events (start, die, health_status, oom) from now on. Start watching
   * before acting, so no event is missed. Call close() when done.
   */
  async watch(containerId: string, onEvent: (event: ContainerEvent) => void): Promise<{ close(): void }> {
    const controller = new AbortController();
    const stream = (await this.call('watch events', () =>
      this.docker.getEvents({
        filters: { container: [containerId], type: ['container'] },
        abortSignal: controller.signal,
      } as Docker.GetEventsOptions),
    )) as unknown as Readable;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        try {
          const e = JSON.parse(line) as { Action?: string; status?: string; Actor?: { Attributes?: Record<string, string> } };
          const code = e.Actor?.Attributes?.exitCode;
          onEvent({ action: e.Action ?? e.status ?? '', exitCode: code === undefined ? null : Number(code) });
        } catch {
          // a partial or foreign line; the next one will do
        }
      }
    });
    // The stream ending while we still watch means the engine went away: say so, as an event.
    let closed = false;
    const lost = () => {
      if (!closed) onEvent({ action: CONNECTION_LOST, exitCode: null });
      closed = true;
    };
    stream.on('error', lost);
    stream.on('end', lost);
    return {
      close: () => {
        closed = true;
        controller.abort();
        stream.destroy();
      },
    };
  }

  /**
   * Follows a container's logs as they come (after the last `tail` lines), until the container stops or
   * the signal aborts. Lines arrive demultiplexed into stdout and stderr.
   */
  async followLogs(
    id: string,
    options: { tail?: number | 'all'; since?: number; timestamps: boolean },
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      const stream = (await this.call('follow logs', () =>
        this.docker.getContainer(id).logs({
          stdout: true,
          stderr: true,
          follow: true,
          timestamps: true,
          tail: (options.tail ?? 'all') as number,
          abortSignal: controller.signal,
          ...(options.since !== undefined ? { since: Math.floor(options.since / 1000) } : {}),
        }),
      )) as unknown as Readable;
      const demux = new LogDemuxer(true);
      await new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => demux.push(chunk).forEach(onLine));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => {
          stream.destroy();
          resolve();
        }, { once: true });
      });
      demux.flush().forEach(onLine);
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  /** The last `tail` lines of a container's logs, split into stdout and stderr. */
  async logs(id: string, options: { tail?: number | 'all'; since?: number; timestamps?: boolean } = {}): Promise<LogLine[]> {
    const timestamps = options.timestamps ?? true;
    const buffer = await this.call('read logs', () =>
      this.docker.getContainer(id).logs({
        stdout: true,
        stderr: true,
        follow: false,
        timestamps,
        // the Engine API takes "all" here too; the type says number
        tail: (options.tail ?? 'all') as number,
        ...(options.since !== undefined ? { since: Math.floor(options.since / 1000) } : {}),
      }),
    );
    const demux = new LogDemuxer(timestamps);
    return [...demux.push(Buffer.from(buffer)), ...demux.flush()];
  }
}

/** Engine label filters: `key=value`, or just `key` (null value) for "has this label". */
function labelFilter(labels: Record<string, string | null>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === null ? k : `${k}=${v}`));
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    [
      'ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ENOTSOCK', 'EPROTO', 'ESSH',
      'ERR_SSL_WRONG_VERSION_NUMBER', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
      'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
    ].includes(code ?? '') || /socket hang up|certificate|ssl|tls/i.test((error as Error).message ?? '')
  );
}

function unreachable(endpoint: Endpoint, error: unknown): DeployError {
  const code = (error as { code?: string }).code;
  const reason =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied on the socket'
      : code === 'ENOENT'
        ? 'no socket there'
        : code === 'ECONNREFUSED'
          ? 'connection refused'
          : engineMessage(error);
  const url = endpoint.url;
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? 'Run as a user allowed to use Docker (the "docker" group), or choose another engine with --context or DOCKER_HOST.'
      : code === 'ESSH'
        ? `Check that "ssh ${url.replace(/^ssh:\/\//, '')}" works without a prompt (keys, agent, known_hosts) and that docker runs there.`
        : /certificate|ssl|tls/i.test(reason)
          ? 'Check the TLS certificates: DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or those of the docker context.'
          : url.startsWith('unix:')
            ? 'Start the engine (dockerd, or systemctl start docker), or choose another one with --context, --host or DOCKER_HOST.'
            : 'Check that the engine runs there and is reachable, or choose another one with --context, --host or DOCKER_HOST.';
  return new DeployError('docker_unreachable', `Cannot reach the Docker Engine at ${endpoint.url} (${reason}).`, {
    hint,
    details: { endpoint: endpoint.url },
    cause: error,
  });
}
