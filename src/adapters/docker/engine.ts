import type { Readable } from 'node:stream';
import type { ContainerSpec } from '../../core/container-spec.js';
import { DeployError } from '../../core/errors.js';
import { BuildkitProgress, decodeStatus } from '../../core/buildkit-progress.js';
import { buildSecretValues } from '../../core/build-secrets.js';
import { redactValues } from '../../core/redact.js';
import { LogDemuxer, MuxFrames, type LogLine } from '../../core/logs.js';
import { ApiError, EngineApi, readAll } from './api.js';
import { toSummaries, type ListedContainers } from './glance.js';
import type { Endpoint } from './endpoint.js';
import { CONNECTION_LOST } from './events.js';

/** The newest Engine API this tool speaks; older engines are met at their own version. */
const CLIENT_API_VERSION = '1.45';

/** How long a first /_ping may go unanswered (DEPLOY_ENGINE_TIMEOUT, when set, decides instead). */
const PING_IDLE_MS = 10_000;

export interface BuildOptions {
  /** BuildKit (faster, labels cost no step) or the classic builder, for engines without BuildKit. */
  builder: 'buildkit' | 'classic';
  tag: string;
  dockerfile: string;
  /** The Dockerfile stage to build (docker build --target); the last one when absent. */
  target?: string | null;
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  /**
   * Build secrets (id → value) for `RUN --mount=type=secret,id=ID`: served to BuildKit over a build session for
   * the length of the build, never sent with the build request. BuildKit only: the classic builder refuses them.
   */
  secrets?: ReadonlyMap<string, Buffer> | undefined;
}

export interface BuildResult {
  imageId: string;
}

export interface ImageInfo {
  id: string;
  hasHealthcheck: boolean;
  labels: Record<string, string>;
  /** The paths the image declares as VOLUME (Config.Volumes); always there from inspectImage (optional for images described by other code). */
  volumes?: string[];
  /** How often the image's HEALTHCHECK runs (docker's 30 s when it does not say); null without one. */
  healthcheckIntervalMs?: number | null;
  /** The ports the image EXPOSEs, as 8080/tcp. */
  exposed?: string[];
  /** Its content digest in a registry (sha256:…), once pushed or pulled; null for an image only built here. */
  digest?: string | null;
}

export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  /** No route out of the network (docker network create --internal). */
  internal: boolean;
  labels: Record<string, string>;
  /** The ids of the containers joined to it. */
  containers: string[];
}

export interface ExecOptions {
  /** user, uid or user:group to run as (the container's own user when absent). */
  user?: string;
  /** KEY=VALUE entries added to the container's environment for this command. */
  env?: string[];
  /** How long the command may take, from its creation to its exit; the engine's request timeout when absent. */
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * A command run in a container (exec) that did not finish in time. The engine has no call to stop an exec: the
 * process is left to the container (it ends with it).
 */
export class ExecTimeout extends DeployError {
  constructor(containerId: string, program: string, ms: number) {
    super('engine_error', `The command ${program} run in the container ${containerId.slice(0, 12)} did not finish within ${ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`}.`, {
      hint: 'The process is left running in the container until it ends or the container stops; check the container (docker top), then try again.',
      details: { containerId, timeoutMs: ms },
    });
  }
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
  /** When it last stopped (exited, was killed or stopped); null if it never has. */
  finishedAt: number | null;
}

export interface ContainerSummary {
  id: string;
  name: string;
  /** created, running, paused, restarting, removing, exited or dead. */
  state: string;
  /** The engine's own words: "Up 3 minutes (healthy)", "Exited (137) 2 seconds ago". */
  status: string;
  /** The exit code the status text names, for exited, dead and restarting containers. */
  exitCode: number | null;
  imageId: string;
  labels: Record<string, string>;
}

export interface ContainerEvent {
  action: string;
  exitCode: number | null;
}

export class BuildFailure extends Error {}

/** The engine refused the builder asked for before reading the context: build again with the classic one. */
export class BuilderUnsupported extends Error {}

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
  return error instanceof ApiError ? error.statusCode : undefined;
}

/** Engine label filters: `key=value`, or just `key` (null value) for "has this label". */
function labelFilters(labels: Record<string, string | null>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => (v === null ? k : `${k}=${v}`)) });
}

/** Splits a newline-delimited JSON stream (build output, events) into parsed objects. */
function jsonLines(stream: Readable, onObject: (o: Record<string, unknown>) => void, onText?: (line: string) => void): void {
  let buffered = '';
  const handle = (line: string) => {
    if (line.trim() === '') return;
    try {
      onObject(JSON.parse(line) as Record<string, unknown>);
    } catch {
      onText?.(line);
    }
  };
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(handle);
  });
  stream.on('end', () => handle(buffered));
}

/** A running Docker Engine, reached through the Engine API. The only code that talks to Docker. */
export class Engine {
  readonly endpoint: Endpoint;
  readonly apiVersion: string;
  private readonly api: EngineApi;

  private constructor(endpoint: Endpoint, api: EngineApi, apiVersion: string) {
    this.endpoint = endpoint;
    this.api = api;
    this.apiVersion = apiVersion;
  }

  /**
   * Connects and agrees on an API version (the older of the engine's and ours, or DOCKER_API_VERSION). An
   * aborted signal gives up at once and closes what was opened (an ssh process among it).
   */
  static async connect(endpoint: Endpoint, env: Record<string, string | undefined> = process.env, signal?: AbortSignal): Promise<Engine> {
    const api = new EngineApi(endpoint, env);
    let serverVersion: string;
    try {
      // /_ping answers in well under a millisecond with the version in a header; /version asks containerd too.
      // A ping that hangs is an engine a person should hear about in seconds, not minutes.
      const ping = await api.stream('GET', '/_ping', { idleMs: env.DEPLOY_ENGINE_TIMEOUT ? api.idleMs : PING_IDLE_MS, ...(signal ? { signal } : {}) });
      ping.resume();
      const header = ping.headers['api-version'];
      serverVersion = typeof header === 'string' && /^\d+\.\d+$/.test(header) ? header : '1.24';
    } catch (error) {
      api.close();
      throw unreachable(endpoint, error);
    }
    const version = endpoint.apiVersion ?? (compareVersions(serverVersion, CLIENT_API_VERSION) < 0 ? serverVersion : CLIENT_API_VERSION);
    api.prefix = `/v${version}`;
    return new Engine(endpoint, api, version);
  }

  /** BuildKit where the engine has it (API 1.39, Docker 19.03, and later), unless DOCKER_BUILDKIT=0 says no. */
  builderFor(env: Record<string, string | undefined>): BuildOptions['builder'] {
    if (env.DOCKER_BUILDKIT === '0' || env.DOCKER_BUILDKIT === 'false') return 'classic';
    return compareVersions(this.apiVersion, '1.39') >= 0 ? 'buildkit' : 'classic';
  }

  /** Lets the process end: idle connections (and ssh processes) are closed. */
  close(): void {
    this.api.close();
  }

  /** Wraps an Engine API call: a lost connection becomes "Docker unreachable", naming the endpoint. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof DeployError) throw error;
      if (!(error instanceof ApiError) && isConnectionError(error)) throw unreachable(this.endpoint, error);
      if (error instanceof ApiError) throw new ApiError(error.statusCode, `${what}: ${error.message}`);
      throw error;
    }
  }

  /**
   * Builds an image from a tar stream. Each piece of build output goes to onOutput; the image id is returned.
   * A build error rejects with BuildFailure carrying the engine's message.
   *
   * With `secrets` (BuildKit only), a build session serves them while the build runs and is closed when the build
   * ends, however it ends; a secret's value that shows in a piece of output or in the failure (a step that prints
   * it) is masked there. An empty map still opens a session, as `docker build` always does: a secret mount the
   * build was given nothing for is then left out (or, when `required`, fails naming the secret) rather than
   * failing with BuildKit's "no active sessions".
   */
  async build(context: Readable, options: BuildOptions, onOutput: (text: string) => void, signal?: AbortSignal): Promise<BuildResult> {
    const secrets = options.secrets;
    if (options.builder !== 'buildkit' && secrets && secrets.size > 0) throw this.secretsNeedBuildkit([...secrets.keys()]);
    if (options.builder !== 'buildkit' || !secrets) {
      try {
        return await this.runBuild(context, options, onOutput, signal);
      } catch (error) {
        if (error instanceof BuildFailure && /no active sessions?\b/.test(error.message)) {
          throw new BuildFailure(`${error.message} (BuildKit asked this client for something only a build session serves: the secret of a RUN --mount=type=secret step, or registry credentials; this build opened no session)`);
        }
        throw error;
      }
    }
    const values = buildSecretValues(secrets);
    const { openBuildSession } = await import('./session.js');
    const session = await this.call('open a build session', () => openBuildSession(this.api, secrets, signal));
    try {
      return await this.runBuild(context, options, (text) => onOutput(redactValues(text, values)), signal, session.id);
    } catch (error) {
      if (error instanceof BuildFailure) throw new BuildFailure(redactValues(error.message, values));
      throw error;
    } finally {
      session.close();
    }
  }

  /** Build secrets with the classic builder: it has no way to receive them, so the build is refused before it starts. */
  private secretsNeedBuildkit(ids: string[]): DeployError {
    const why =
      compareVersions(this.apiVersion, '1.39') < 0
        ? `the Docker Engine at ${this.endpoint.url} speaks API ${this.apiVersion}, which has no BuildKit (Docker 19.03 and later have it)`
        : 'this build would use the classic builder (DOCKER_BUILDKIT=0, or an engine that refused BuildKit)';
    return new DeployError('usage', `Build secrets (${ids.join(', ')}) need BuildKit, but ${why}.`, {
      hint: 'Build with BuildKit (unset DOCKER_BUILDKIT, or use Docker 19.03 or later), or build without the secrets.',
    });
  }

  private async runBuild(context: Readable, options: BuildOptions, onOutput: (text: string) => void, signal?: AbortSignal, session?: string): Promise<BuildResult> {
    const buildkit = options.builder === 'buildkit';
    const progress = new BuildkitProgress();
    let stream: Readable;
    try {
      stream = await this.call('build', () =>
      this.api.stream('POST', '/build', {
        query: {
          version: buildkit ? '2' : undefined,
          t: options.tag,
          dockerfile: options.dockerfile,
          target: options.target ?? undefined,
          labels: JSON.stringify(options.labels),
          buildargs: JSON.stringify(options.buildArgs),
          nocache: options.noCache ? 'true' : undefined,
          pull: options.pull ? 'true' : undefined,
          rm: 'true',
          forcerm: 'true',
          session,
        },
        body: context,
        headers: { 'Content-Type': 'application/x-tar' },
        ...(signal ? { signal } : {}),
      }),
      );
    } catch (error) {
      if (buildkit && error instanceof ApiError && error.statusCode < 500 && /buildkit|builder|version/i.test(error.message)) throw new BuilderUnsupported(error.message);
      throw error;
    }
    return new Promise<BuildResult>((resolve, reject) => {
      let imageId: string | null = null;
      let failure: string | null = null;
      jsonLines(
        stream,
        (msg) => {
          if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
            const text = progress.push(decodeStatus(Buffer.from(msg.aux, 'base64')));
            if (text) onOutput(text);
            return;
          }
          const aux = msg.aux as { ID?: string } | undefined;
          if (aux?.ID) imageId = aux.ID;
          if (typeof msg.stream === 'string') onOutput(msg.stream);
          if (typeof msg.status === 'string') onOutput(`${msg.status}\n`);
          if (msg.error || msg.errorDetail) {
            failure = (msg.errorDetail as { message?: string } | undefined)?.message ?? String(msg.error ?? 'build failed');
            onOutput(`${failure}\n`);
          }
        },
        (line) => onOutput(`${line}\n`),
      );
      stream.on('error', (error: unknown) => reject(isConnectionError(error) ? unreachable(this.endpoint, error) : error));
      stream.on('end', () => {
        if (failure) reject(new BuildFailure(failure));
        else if (!imageId) reject(new BuildFailure('the engine finished the build without reporting an image'));
        else resolve({ imageId });
      });
    });
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    try {
      const info = await this.call('inspect image', () =>
        this.api.json<{
          Id: string;
          RepoDigests?: string[] | null;
          Config?: { Healthcheck?: { Test?: string[]; Interval?: number }; Labels?: Record<string, string> | null; Volumes?: Record<string, unknown> | null; ExposedPorts?: Record<string, unknown> | null };
        }>(
          'GET',
          `/images/${encodeURIComponent(ref)}/json`,
        ),
      );
      const test = info.Config?.Healthcheck?.Test;
      const has = Boolean(test?.length && test[0] !== 'NONE');
      return {
        id: info.Id,
        hasHealthcheck: has,
        labels: info.Config?.Labels ?? {},
        volumes: Object.keys(info.Config?.Volumes ?? {}).sort(),
        healthcheckIntervalMs: has ? Math.round((info.Config?.Healthcheck?.Interval || 30_000_000_000) / 1_000_000) : null,
        exposed: Object.keys(info.Config?.ExposedPorts ?? {}).sort(),
        digest: info.RepoDigests?.[0]?.split('@')[1] ?? null,
      };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Removes an image; false when it is gone already or still in use (the engine refuses: 409). */
  async removeImage(ref: string): Promise<boolean> {
    try {
      await this.call('remove image', () => this.api.json('DELETE', `/images/${encodeURIComponent(ref)}`));
      return true;
    } catch (error) {
      if (statusCode(error) === 404 || statusCode(error) === 409) return false;
      throw error;
    }
  }

  /** Images carrying all the given labels. */
  async listImages(labels: Record<string, string | null>): Promise<Array<{ id: string; tags: string[]; labels: Record<string, string>; created: number }>> {
    const images = await this.call('list images', () =>
      this.api.json<Array<{ Id: string; RepoTags: string[] | null; Labels: Record<string, string> | null; Created: number }>>('GET', '/images/json', { query: { filters: labelFilters(labels) } }),
    );
    return images.map((i) => ({ id: i.Id, tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), labels: i.Labels ?? {}, created: i.Created * 1000 }));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const { name, ...body } = spec;
    const created = await this.call('create container', () => this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body }));
    return created.Id;
  }

  /** Creates a container under a fixed name; null when that name is taken (the engine refuses twice). */
  /** Gives a container its final name (a deployment's, once it passed its health gate). */
  async renameContainer(id: string, name: string): Promise<void> {
    await this.call('rename container', () => this.api.json('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } }));
  }

  async createNamed(spec: Record<string, unknown> & { name: string }): Promise<string | null> {
    const { name, ...body } = spec;
    try {
      const created = await this.call('create container', () => this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body }));
      return created.Id;
    } catch (error) {
      if (statusCode(error) === 409) return null;
      throw error;
    }
  }

  async startContainer(id: string): Promise<void> {
    // 304: already started.
    await this.call('start container', () => this.api.json('POST', `/containers/${encodeURIComponent(id)}/start`));
  }

  /** Stops a container, giving it `graceSeconds` to exit after its stop signal. Stopping a stopped one succeeds. */
  async stopContainer(id: string, graceSeconds = 10): Promise<void> {
    try {
      // The engine is silent for up to the grace period while the app has its chance to stop.
      await this.call('stop container', () => this.api.json('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t: graceSeconds }, idleMs: graceSeconds * 1000 + this.api.idleMs }));
    } catch (error) {
      if (statusCode(error) === 404) return;
      throw error;
    }
  }

  async restartContainer(id: string, graceSeconds = 10): Promise<void> {
    await this.call('restart container', () => this.api.json('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t: graceSeconds }, idleMs: graceSeconds * 1000 + this.api.idleMs }));
  }

  /** Whether the engine has a network of that name (or id). */
  async hasNetwork(name: string): Promise<boolean> {
    return (await this.inspectNetwork(name)) !== null;
  }

  /** A network by name or id; null when the engine has none. */
  async inspectNetwork(name: string): Promise<NetworkInfo | null> {
    try {
      return toNetworkInfo(await this.call('inspect network', () => this.api.json<ListedNetwork>('GET', `/networks/${encodeURIComponent(name)}`)));
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /**
   * Creates a bridge network, or gives back the one of that name that exists (whoever made it: compare its labels
   * to know). Two creations at once make one network: the engine refuses the second (CheckDuplicate).
   */
  async createNetwork(name: string, options: { labels: Record<string, string>; internal?: boolean }): Promise<NetworkInfo> {
    const found = await this.inspectNetwork(name);
    if (found) return found;
    try {
      await this.call('create network', () =>
        this.api.json('POST', '/networks/create', { body: { Name: name, Driver: 'bridge', CheckDuplicate: true, Internal: options.internal ?? false, Labels: options.labels } }),
      );
    } catch (error) {
      if (statusCode(error) !== 409) throw error;
    }
    const made = await this.inspectNetwork(name);
    if (!made) throw new ApiError(404, `create network: the network ${name} was created and is gone again`);
    return made;
  }

  /** Removes a network: 'removed', 'gone' (there was none), or 'in-use' (containers are still joined: the engine refuses). */
  async removeNetwork(name: string): Promise<'removed' | 'gone' | 'in-use'> {
    try {
      await this.call('remove network', () => this.api.json('DELETE', `/networks/${encodeURIComponent(name)}`));
      return 'removed';
    } catch (error) {
      if (statusCode(error) === 404) return 'gone';
      if (statusCode(error) === 403 || statusCode(error) === 409 || (error instanceof ApiError && /active endpoints/.test(error.message))) return 'in-use';
      throw error;
    }
  }

  /** Networks carrying all the given labels. */
  async listNetworks(labels: Record<string, string | null>): Promise<NetworkInfo[]> {
    const list = await this.call('list networks', () => this.api.json<ListedNetwork[] | null>('GET', '/networks', { query: { filters: labelFilters(labels) } }));
    return (list ?? []).map(toNetworkInfo).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Joins a container to a network, where other containers reach it by `aliases` too. */
  async connectNetwork(network: string, containerId: string, options: { aliases: string[] }): Promise<void> {
    await this.call('connect network', () =>
      this.api.json('POST', `/networks/${encodeURIComponent(network)}/connect`, { body: { Container: containerId, EndpointConfig: { Aliases: options.aliases } } }),
    );
  }

  /** Takes a container off a network; one that is not on it, or gone (or a network that is), is off it already. */
  async disconnectNetwork(network: string, containerId: string): Promise<void> {
    try {
      await this.call('disconnect network', () => this.api.json('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: containerId, Force: false } }));
    } catch (error) {
      // 20.10 answers 500 to a container that is not joined.
      if (statusCode(error) === 404 || (error instanceof ApiError && /is not connected to/.test(error.message))) return;
      throw error;
    }
  }

  /**
   * Runs a command in a running container (docker exec, no TTY, no input) and waits for it: its exit code and its
   * output, stdout and stderr apart. Bounded: a command still running after `timeoutMs` (the engine's request
   * timeout when absent) fails with ExecTimeout; output is returned whole, so keep it small.
   */
  async exec(containerId: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const limit = options.timeoutMs ?? this.api.idleMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limit);
    try {
      const created = await this.call('exec', () =>
        this.api.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(containerId)}/exec`, {
          body: { Cmd: cmd, AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, ...(options.user ? { User: options.user } : {}), ...(options.env ? { Env: options.env } : {}) },
        }),
      );
      // The answer is the command's multiplexed output, until it exits and the engine closes the connection.
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new Error('exec timed out')), { once: true }));
      aborted.catch(() => undefined);
      const output = await this.call('exec', async () => {
        const start = this.api.stream('POST', `/exec/${encodeURIComponent(created.Id)}/start`, {
          body: Buffer.from(JSON.stringify({ Detach: false, Tty: false })),
          headers: { 'Content-Type': 'application/json' },
          signal: controller.signal,
          idleMs: 0,
        });
        const res = await Promise.race([start, aborted]);
        return Promise.race([readAll(res), aborted]);
      });
      const text: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
      for (const frame of new MuxFrames().push(output)) text[frame.stream].push(frame.payload);
      // The output ends when the process does; its exit code may show a moment later (bounded: a few tries).
      let state = await this.inspectExec(created.Id);
      for (let i = 0; i < 50 && state.running && !controller.signal.aborted; i++) {
        await new Promise((r) => setTimeout(r, 20));
        state = await this.inspectExec(created.Id);
      }
      if (state.running || state.exitCode === null) throw new ExecTimeout(containerId, cmd[0] ?? '', limit);
      return { exitCode: state.exitCode, stdout: Buffer.concat(text.stdout).toString('utf8'), stderr: Buffer.concat(text.stderr).toString('utf8') };
    } catch (error) {
      if (timedOut) throw new ExecTimeout(containerId, cmd[0] ?? '', limit);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async inspectExec(id: string): Promise<{ running: boolean; exitCode: number | null }> {
    const info = await this.call('exec', () => this.api.json<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${encodeURIComponent(id)}/json`));
    return { running: info.Running, exitCode: info.ExitCode };
  }

  /** A volume by name; null when the engine has none of that name. */
  async inspectVolume(name: string): Promise<VolumeInfo | null> {
    try {
      const v = await this.call('inspect volume', () => this.api.json<{ Name: string; Labels: Record<string, string> | null }>('GET', `/volumes/${encodeURIComponent(name)}`));
      return { name: v.Name, labels: v.Labels ?? {} };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /** Creates a local volume (creating one that exists gives the existing one back: the engine's rule). */
  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.call('create volume', () => this.api.json('POST', '/volumes/create', { body: { Name: name, Labels: labels } }));
  }

  /** Volumes carrying all the given labels. */
  async listVolumes(labels: Record<string, string | null>): Promise<VolumeInfo[]> {
    const list = await this.call('list volumes', () =>
      this.api.json<{ Volumes: Array<{ Name: string; Labels: Record<string, string> | null }> | null }>('GET', '/volumes', { query: { filters: labelFilters(labels) } }),
    );
    return (list.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Removes a volume: 'removed', 'gone' (there was none), or 'in-use' (a container still uses it: the engine refuses). */
  async removeVolume(name: string): Promise<'removed' | 'gone' | 'in-use'> {
    try {
      await this.call('remove volume', () => this.api.json('DELETE', `/volumes/${encodeURIComponent(name)}`));
      return 'removed';
    } catch (error) {
      if (statusCode(error) === 404) return 'gone';
      if (statusCode(error) === 409) return 'in-use';
      throw error;
    }
  }

  /**
   * Removes a container (stopping it first if needed). Removing one that is gone succeeds. `v` removes its
   * anonymous volumes only: the engine never removes a named volume with its container (test/integration/volumes).
   */
  async removeContainer(id: string): Promise<void> {
    try {
      await this.call('remove container', () => this.api.json('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: 'true', v: 'true' } }));
    } catch (error) {
      if (statusCode(error) === 404 || statusCode(error) === 409) return;
      throw error;
    }
  }

  async inspectContainer(id: string): Promise<ContainerState | null> {
    type Inspect = {
      Id: string;
      Name: string;
      RestartCount: number;
      Image: string;
      State: { Running: boolean; Restarting: boolean; Status: string; ExitCode: number; Error?: string; StartedAt?: string; FinishedAt?: string; Health?: { Status: string } };
      Config: { Labels?: Record<string, string> | null; Env?: string[] | null };
    };
    try {
      const c = await this.call('inspect container', () => this.api.json<Inspect>('GET', `/containers/${encodeURIComponent(id)}/json`));
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
        finishedAt: c.State.FinishedAt && !c.State.FinishedAt.startsWith('0001') ? Date.parse(c.State.FinishedAt) : null,
      };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  /**
   * Containers carrying all the given labels, running or not. With a signal (a read-only check with a short
   * timeout), an abort ends the request at once.
   */
  async listContainers(labels: Record<string, string | null>, signal?: AbortSignal): Promise<ContainerSummary[]> {
    const query = { all: 'true', filters: labelFilters(labels) };
    const list = await this.call('list containers', async () =>
      signal
        ? (JSON.parse((await readAll(await this.api.stream('GET', '/containers/json', { query, signal }))).toString('utf8')) as ListedContainers)
        : this.api.json<ListedContainers>('GET', '/containers/json', { query }),
    );
    return toSummaries(list);
  }

  /** Imports a root filesystem tar as an image (what `docker import` does); needs no registry. */
  async importImage(tar: Buffer, repo: string, tag: string, changes: string[] = []): Promise<void> {
    const query: Record<string, string> = { fromSrc: '-', repo, tag };
    // The API takes `changes` as a repeated parameter; one change is all this tool needs.
    if (changes[0]) query.changes = changes[0];
    const out = await this.call('import image', () => this.api.stream('POST', '/images/create', { query, body: tar, headers: { 'Content-Type': 'application/x-tar' } }));
    await readAll(out);
  }

  /** Writes a tar into a container's filesystem (it need not be running). */
  async putArchive(id: string, path: string, tar: Buffer): Promise<void> {
    const res = await this.call('write into container', () =>
      this.api.stream('PUT', `/containers/${encodeURIComponent(id)}/archive`, { query: { path }, body: tar, headers: { 'Content-Type': 'application/x-tar' } }),
    );
    await readAll(res);
  }

  /** Reads a path of a container's filesystem as a tar; null when the container or the path is gone. */
  async getArchive(id: string, path: string): Promise<Buffer | null> {
    try {
      return await this.call('read from container', () => this.api.buffer('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path } }));
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
      const stream = await this.call('watch events', () =>
        this.api.stream('GET', '/events', { query: { filters: JSON.stringify({ container: [name], event: ['destroy'] }) }, signal: controller.signal }),
      );
      await new Promise<void>((resolve) => {
        stream.once('data', () => resolve());
        stream.once('end', () => resolve());
        stream.once('error', () => resolve());
        controller.signal.addEventListener('abort', () => resolve(), { once: true });
        // Gone before the watch began? Then no event will come: look once the watch is on.
        void this.inspectContainer(name).then((state) => state === null && resolve(), () => resolve());
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
   * before acting, so no event is missed. The stream ending while watched means the engine went away, which
   * is reported as a CONNECTION_LOST event. Call close() when done.
   */
  async watch(containerId: string, onEvent: (event: ContainerEvent) => void): Promise<{ close(): void }> {
    const controller = new AbortController();
    const stream = await this.call('watch events', () =>
      this.api.stream('GET', '/events', { query: { filters: JSON.stringify({ container: [containerId], type: ['container'] }) }, signal: controller.signal }),
    );
    let closed = false;
    jsonLines(stream, (e) => {
      const attrs = (e.Actor as { Attributes?: Record<string, string> } | undefined)?.Attributes;
      const code = attrs?.exitCode;
      onEvent({ action: String(e.Action ?? e.status ?? ''), exitCode: code === undefined ? null : Number(code) });
    });
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

  private logQuery(options: { tail?: number | 'all'; since?: number; follow?: boolean }) {
    return {
      stdout: 'true',
      stderr: 'true',
      timestamps: 'true',
      follow: options.follow ? 'true' : undefined,
      tail: String(options.tail ?? 'all'),
      since: options.since !== undefined ? Math.floor(options.since / 1000) : undefined,
    };
  }

  /**
   * Follows a container's logs as they come (after the last `tail` lines), until the container stops or
   * the signal aborts. Lines arrive demultiplexed into stdout and stderr.
   */
  async followLogs(id: string, options: { tail?: number | 'all'; since?: number }, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      const stream = await this.call('follow logs', () =>
        this.api.stream('GET', `/containers/${encodeURIComponent(id)}/logs`, { query: this.logQuery({ ...options, follow: true }), signal: controller.signal }),
      );
      const demux = new LogDemuxer(true);
      await new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => demux.push(chunk).forEach(onLine));
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      stream.destroy();
      demux.flush().forEach(onLine);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  /** The last `tail` lines of a container's logs, split into stdout and stderr. */
  async logs(id: string, options: { tail?: number | 'all'; since?: number } = {}): Promise<LogLine[]> {
    const buffer = await this.call('read logs', () => this.api.buffer('GET', `/containers/${encodeURIComponent(id)}/logs`, { query: this.logQuery(options) }));
    const demux = new LogDemuxer(true);
    return [...demux.push(buffer), ...demux.flush()];
  }
}

/** A network as the Engine API lists and inspects it. */
type ListedNetwork = { Id: string; Name: string; Driver: string; Internal?: boolean; Labels: Record<string, string> | null; Containers?: Record<string, unknown> | null };

function toNetworkInfo(n: ListedNetwork): NetworkInfo {
  return { id: n.Id, name: n.Name, driver: n.Driver, internal: n.Internal ?? false, labels: n.Labels ?? {}, containers: Object.keys(n.Containers ?? {}).sort() };
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
          : (error as Error).message ?? String(error);
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
  return new DeployError('docker_unreachable', `Cannot reach the Docker Engine at ${url} (${reason}).`, {
    hint,
    details: { endpoint: url },
    cause: error,
  });
}
