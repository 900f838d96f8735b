import type { ContainerEvent, ContainerState, ContainerSummary } from '../docker/engine/types.js';
import type { LogLine } from '../../core/logs.js';
import type { Deployment } from '../../core/types.js';

/**
 * What runs a deployment, behind one interface: today one container per deployment (containers.ts); a Swarm
 * service (N tasks on several nodes) implements the same calls. The services never call the engine's container
 * methods for a deployment: they ask its runtime. A workload is named by the id the runtime gave it (a container's
 * id today), which the record keeps as its `workload` (and as `containerId` for container deployments).
 */
export type RuntimeKind = Deployment['runtime'];

/** A workload's state as its runtime reports it (for a container: docker inspect, in short). */
export type WorkloadState = ContainerState;

/** One workload of a listing (for a container: a line of docker ps). */
export type WorkloadSummary = ContainerSummary;

/**
 * A change in a workload's liveness: started, died (with its exit code), health_status, destroy, or the watch's
 * connection lost; and, for a Swarm service, `image_refused`: a node refused a task because it could not get the
 * image (`refused` says which node, what it said, and the image), followed by a `die` for a listener that does not
 * know it.
 */
export type LivenessEvent = ContainerEvent & { refused?: { node: string; error: string; image: string } };

export interface LogOptions {
  tail?: number | 'all';
  since?: number;
}

export interface Runtime {
  readonly kind: RuntimeKind;
  /** The engine (or cluster manager) it runs on, as a URL. */
  readonly endpoint: string;
  /**
   * Creates the deployment's workload from its image and snapshot, not started: ports, volumes (already made),
   * networks joined, limits, labels. `imageVolumes`: the image's VOLUME paths, each given a kept volume.
   */
  create(d: Deployment, image: string, name: string, imageVolumes: readonly string[]): Promise<string>;
  start(id: string): Promise<void>;
  /** Stops and starts it in place, giving it `graceSeconds` to stop. */
  restart(id: string, graceSeconds: number): Promise<void>;
  /** Stops it, giving it `graceSeconds` after its stop signal; stopping a stopped or gone one succeeds. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Removes it (by id or name); one that is gone already is fine. */
  remove(id: string): Promise<void>;
  /** Gives it its final name (once it is proven). */
  rename(id: string, name: string): Promise<void>;
  /** Its state; null when it does not exist. */
  inspect(id: string): Promise<WorkloadState | null>;
  /** The workloads carrying these labels (a null value: the label with any value). */
  list(labels: Record<string, string | null>, signal?: AbortSignal): Promise<WorkloadSummary[]>;
  /** Reports its liveness events as they happen, until closed. */
  watch(id: string, onEvent: (event: LivenessEvent) => void): Promise<{ close(): void }>;
  logs(id: string, options?: LogOptions): Promise<LogLine[]>;
  /** Follows its output until the signal aborts or the workload is gone. */
  followLogs(id: string, options: LogOptions, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void>;
}
