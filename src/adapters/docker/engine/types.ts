/** What the engine client takes and gives back, as plain data. */
import type { LogLine } from '../../../core/logs.js';

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
  /** Registry credentials for private base images and --pull; never sent to the engine unless a pull needs them. */
  credentials?: BuildCredentials | undefined;
}

/** A registry's credentials, in the Engine API's AuthConfig shape (what X-Registry-Auth and X-Registry-Config carry). */
export interface RegistryAuth {
  serveraddress: string;
  username?: string;
  password?: string;
  /** An OAuth refresh token some registries give instead of a password (`docker login` keeps it). */
  identitytoken?: string;
}

/** Where a build's registry credentials come from, when the user has any (docker login, a credential helper). */
export interface BuildCredentials {
  /** The registries the build is known to pull from (its base images): the classic builder is sent theirs. */
  registries: readonly string[];
  /** Credentials for a registry (docker.io, ghcr.io, 127.0.0.1:5000), or null; BuildKit asks as it pulls. */
  lookUp(registry: string): Promise<RegistryAuth | null>;
}

export interface BuildResult {
  imageId: string;
}

export interface ImageInfo {
  id: string;
  hasHealthcheck: boolean;
  labels: Record<string, string>;
  /** The paths the image declares as VOLUME (Config.Volumes); always there from images.inspect (optional for images described by other code). */
  volumes?: string[];
  /** How often the image's HEALTHCHECK runs (docker's 30 s when it does not say); null without one. */
  healthcheckIntervalMs?: number | null;
  /** The ports the image EXPOSEs, as 8080/tcp. */
  exposed?: string[];
  /** Its content digest in a registry (sha256:…), once pushed or pulled; null for an image only built here. */
  digest?: string | null;
}

/** An image as the engine lists it. */
export interface ImageSummary {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: number;
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

/** Which of a container's logs to read: the last `tail` lines (all when absent), from `since` (ms) on. */
export interface LogRange {
  tail?: number | 'all';
  since?: number;
}

/** An engine, as GET /info describes it. */
export interface EngineInfo {
  /** The engine's host name (a swarm node's hostname). */
  name: string;
  /** dockerd's version, as 20.10.24. */
  serverVersion: string;
  /** The engine's own word for its host, as "Debian GNU/Linux 12 (bookworm)" or "Docker Desktop". */
  operatingSystem: string;
  /** A rootless engine: its host network is a namespace of its own, not the host's. */
  rootless: boolean;
  swarm: SwarmMembership;
}

/** This engine's place in a swarm. */
export interface SwarmMembership {
  /** The engine's own word: inactive (no swarm), pending, active, error or locked. */
  state: string;
  /** This node's id in the swarm; null outside one. */
  nodeId: string | null;
  /** The address it advertises to the swarm; null outside one. */
  nodeAddress: string | null;
  /** A manager (ControlAvailable): services can be created and listed here. False outside an active swarm. */
  manager: boolean;
  /** The swarm's id, known to managers only; null otherwise. */
  clusterId: string | null;
  /** How many nodes and managers the swarm has (managers only; null otherwise). */
  nodes: number | null;
  managers: number | null;
  /** The engine's error about its swarm state, or ''. */
  error: string;
}

/**
 * A Swarm service as the Engine API takes it (POST /services/create, /services/{id}/update): its own field names,
 * so a spec inspected from the engine can be changed and sent back whole. The fields this tool sets are typed;
 * anything else the engine knows passes through.
 */
export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      Env?: string[];
      Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
      StopGracePeriod?: number;
      [field: string]: unknown;
    };
    RestartPolicy?: { Condition?: 'none' | 'on-failure' | 'any'; Delay?: number; MaxAttempts?: number };
    Placement?: { Constraints?: string[]; MaxReplicas?: number; [field: string]: unknown };
    Networks?: Array<{ Target: string; Aliases?: string[] }>;
    /** Bumped to restart every task with an unchanged spec (docker service update --force). */
    ForceUpdate?: number;
    [field: string]: unknown;
  };
  Mode?: { Replicated?: { Replicas?: number }; Global?: Record<string, never> };
  UpdateConfig?: UpdatePolicy;
  RollbackConfig?: UpdatePolicy;
  EndpointSpec?: {
    /** dnsrr: tasks are reached by DNS round robin; vip needs IPVS, which some kernels lack. */
    Mode?: 'vip' | 'dnsrr';
    Ports?: Array<{
      Protocol?: 'tcp' | 'udp' | 'sctp';
      TargetPort: number;
      PublishedPort?: number;
      /** host: on the node running the task; ingress (the routing mesh) needs IPVS. */
      PublishMode?: 'ingress' | 'host';
    }>;
  };
  [field: string]: unknown;
}

/** How Swarm rolls tasks over in an update (or a rollback); durations in nanoseconds, as the engine takes them. */
export interface UpdatePolicy {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: 'continue' | 'pause' | 'rollback';
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: 'stop-first' | 'start-first';
}

/** A service as the engine holds it. */
export interface ServiceInfo {
  id: string;
  name: string;
  /** The version index an update must name (optimistic concurrency: a stale one is refused). */
  version: number;
  labels: Record<string, string>;
  /** The replica count asked for; null for a global service. */
  replicas: number | null;
  /** The spec as the engine holds it (defaults filled in), to change and send back with update(). */
  spec: ServiceSpec;
  /** The spec before the last update (what Swarm rolls back to); null before any update. */
  previousSpec: ServiceSpec | null;
  /** The last update: updating, paused, completed, rollback_started, rollback_paused or rollback_completed. */
  updateState: string | null;
  updateMessage: string;
  createdAt: number | null;
  updatedAt: number | null;
}

/** One task of a service: a slot's container on a node. */
export interface TaskInfo {
  id: string;
  serviceId: string;
  /** The node it was scheduled on; '' while unassigned. */
  nodeId: string;
  /** Its replica slot (1..N); null for a global service. */
  slot: number | null;
  /** new, pending, assigned, accepted, preparing, starting, running, complete, shutdown, failed, rejected, orphaned, remove. */
  state: string;
  /** What Swarm wants of it: running, shutdown, ... */
  desiredState: string;
  /** Why it failed or was rejected ("No such image: ..."), or ''. */
  error: string;
  /** Swarm's word on its state ("started", "task: non-zero exit (1)"). */
  message: string;
  containerId: string | null;
  /** Its container's exit code, once the task has ended (complete, failed, shutdown) with a container; else null. */
  exitCode: number | null;
  /** When it entered its current state (the status's timestamp). */
  stateSince: number | null;
  image: string;
  /** Its container's environment (the spec the task runs). */
  env: string[];
  createdAt: number | null;
  updatedAt: number | null;
}

/** A node of the swarm, as a manager lists it. */
export interface SwarmNodeInfo {
  id: string;
  hostname: string;
  /** The address the node is reached at; '' when unknown. */
  address: string;
  /** ready, down, unknown or disconnected. */
  state: string;
  /** active, pause or drain. */
  availability: string;
  role: 'manager' | 'worker';
  leader: boolean;
  engineVersion: string;
  labels: Record<string, string>;
}

/** A line of a service's logs, with the task and node it came from. */
export interface ServiceLogLine extends LogLine {
  /** The task (and so the replica) that wrote it; '' when the engine did not say. */
  taskId: string;
  nodeId: string;
}
