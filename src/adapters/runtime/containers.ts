import { perEngine } from '../per-engine.js';
import { containerSpec } from '../../core/container-spec.js';
import type { Deployment } from '../../core/types.js';
import type { Engine } from '../docker/engine.js';
import type { LivenessEvent, LogOptions, Runtime, WorkloadState, WorkloadSummary } from './runtime.js';

/** A deployment as one container on one engine: the runtime of every deployment today. */
export class ContainerRuntime implements Runtime {
  readonly kind = 'container' as const;

  constructor(readonly engine: Engine) {}

  get endpoint(): string {
    return this.engine.endpoint.url;
  }

  async create(d: Deployment, image: string, name: string, imageVolumes: readonly string[]): Promise<string> {
    const id = await this.engine.createContainer(containerSpec(d, image, name, imageVolumes));
    try {
      // The first network is joined at creation; the others now, before it starts, with the app's name as alias.
      for (const network of (d.config.networks ?? []).slice(1)) await this.engine.connectNetwork(network, id, { aliases: [d.app] });
    } catch (error) {
      await this.engine.removeContainer(id).catch(() => undefined);
      throw error;
    }
    return id;
  }

  start(id: string): Promise<void> {
    return this.engine.startContainer(id);
  }

  restart(id: string, graceSeconds: number): Promise<void> {
    return this.engine.restartContainer(id, graceSeconds);
  }

  stop(id: string, graceSeconds: number): Promise<void> {
    return this.engine.stopContainer(id, graceSeconds);
  }

  remove(id: string): Promise<void> {
    return this.engine.removeContainer(id);
  }

  rename(id: string, name: string): Promise<void> {
    return this.engine.renameContainer(id, name);
  }

  inspect(id: string): Promise<WorkloadState | null> {
    return this.engine.inspectContainer(id);
  }

  list(labels: Record<string, string | null>, signal?: AbortSignal): Promise<WorkloadSummary[]> {
    return this.engine.listContainers(labels, signal);
  }

  watch(id: string, onEvent: (event: LivenessEvent) => void): Promise<{ close(): void }> {
    return this.engine.watch(id, onEvent);
  }

  logs(id: string, options: LogOptions = {}) {
    return this.engine.logs(id, options);
  }

  followLogs(id: string, options: LogOptions, onLine: Parameters<Engine['followLogs']>[2], signal: AbortSignal): Promise<void> {
    return this.engine.followLogs(id, options, onLine, signal);
  }
}

/** The runtime of deployments on this engine (one per engine connection). */
export const runtimeOn: (engine: Engine) => Runtime = perEngine((engine) => new ContainerRuntime(engine));
