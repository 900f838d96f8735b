import { perEngine } from '../per-engine.js';
import { containerSpec, networksOf } from '../../core/container-spec.js';
import type { Deployment } from '../../core/types.js';
import type { Engine } from '../docker/engine/engine.js';
import type { LivenessEvent, LogOptions, Runtime, WorkloadState, WorkloadSummary } from './runtime.js';

/** A deployment as one container on one engine: the runtime of every deployment today. */
export class ContainerRuntime implements Runtime {
  readonly kind = 'container' as const;

  constructor(readonly engine: Engine) {}

  get endpoint(): string {
    return this.engine.endpoint.url;
  }

  async create(d: Deployment, image: string, name: string, imageVolumes: readonly string[]): Promise<string> {
    const id = await this.engine.containers.create(containerSpec(d, image, name, imageVolumes));
    try {
      // The first network is joined at creation; the others now, before it starts (core/container-spec networksOf).
      for (const network of networksOf(d).slice(1))
        await this.engine.networks.connect(network.name, id, { aliases: network.aliases });
    } catch (error) {
      await this.engine.containers.remove(id).catch(() => undefined);
      throw error;
    }
    return id;
  }

  start(id: string): Promise<void> {
    return this.engine.containers.start(id);
  }

  restart(id: string, graceSeconds: number): Promise<void> {
    return this.engine.containers.restart(id, graceSeconds);
  }

  stop(id: string, graceSeconds: number): Promise<void> {
    return this.engine.containers.stop(id, graceSeconds);
  }

  remove(id: string): Promise<void> {
    return this.engine.containers.remove(id);
  }

  rename(id: string, name: string): Promise<void> {
    return this.engine.containers.rename(id, name);
  }

  inspect(id: string): Promise<WorkloadState | null> {
    return this.engine.containers.inspect(id);
  }

  list(labels: Record<string, string | null>, signal?: AbortSignal): Promise<WorkloadSummary[]> {
    return this.engine.containers.list(labels, signal);
  }

  watch(id: string, onEvent: (event: LivenessEvent) => void): Promise<{ close(): void }> {
    return this.engine.events.watch(id, onEvent);
  }

  logs(id: string, options: LogOptions = {}) {
    return this.engine.logs.read(id, options);
  }

  followLogs(
    id: string,
    options: LogOptions,
    onLine: Parameters<Engine['logs']['follow']>[2],
    signal: AbortSignal,
  ): Promise<void> {
    return this.engine.logs.follow(id, options, onLine, signal);
  }
}

/** The runtime of deployments on this engine (one per engine connection). */
export const runtimeOn: (engine: Engine) => Runtime = perEngine((engine) => new ContainerRuntime(engine));
