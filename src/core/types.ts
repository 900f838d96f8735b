/** Plain data shared by every layer. No behaviour lives here. */
import type { Settings } from './settings.js';

export const STATUSES = [
  'queued', // recorded, waiting for its turn (the app's lock)
  'building', // the image is being built on the engine
  'starting', // the container is created and started; the health gate has not passed yet
  'running', // passed its health gate; the app's current deployment
  'stopped', // stopped on purpose (deploy stop); can be started again
  'exited', // its container exited, crashed or was stopped or removed outside the tool; still the app's current one
  'superseded', // replaced by a newer deployment of the same app
  'failed', // the build, the start or the health gate failed; never served
  'interrupted', // the tool died while this deployment was in progress; found and cleaned up later
] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses of an app's current deployment once it has served: what `deploy start` and `restart` act on. */
export const CURRENT_STATUSES: readonly Status[] = ['running', 'stopped', 'exited'];

/** Statuses of a deployment that is still being worked on. */
export const IN_PROGRESS: readonly Status[] = ['queued', 'building', 'starting'];

export const KINDS = ['deploy', 'redeploy', 'rollback'] as const;
export type Kind = (typeof KINDS)[number];

export interface PortMapping {
  hostIp: string; // '' means all interfaces
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/**
 * A volume mounted into the app's container: a named volume kept per app (the engine's is deploy-APP-NAME), or
 * a host path (a bind mount).
 */
export interface VolumeMount {
  type: 'volume' | 'bind';
  /** The volume's name as the settings write it, or an absolute host path. */
  source: string;
  /** Absolute path in the container. */
  target: string;
  readOnly: boolean;
}

export interface EnvVar {
  value: string;
  secret: boolean;
}

/** As `docker run --restart` writes it; `on-failure:N` bounds the retries (plain `on-failure` means 5). */
export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure' | `on-failure:${number}`;

export interface HealthCheck {
  /** HTTP path probed on the published port; null means no HTTP check. */
  path: string | null;
  /** Container port the HTTP check targets; null means the first published one. */
  port: number | null;
  timeoutMs: number;
  intervalMs: number;
  /** Without a HEALTHCHECK or HTTP check: the container must still run after this long. */
  settleMs: number;
  /**
   * Replaces the image's HEALTHCHECK: a shell command the engine runs in the container (as
   * `docker run --health-cmd`); 'none' turns the image's off (--no-healthcheck); null keeps the image's.
   */
  command: string | null;
}

/** Everything that decides how a deployment is built and run: the snapshot kept with each record. */
export interface DeployConfig {
  dockerfile: string;
  /** Build context, relative to the app's directory in the repository. */
  context: string;
  buildArgs: Record<string, string>;
  env: Record<string, EnvVar>;
  ports: PortMapping[];
  /** Named volumes and bind mounts, kept by every release, rollback and restart. */
  volumes: VolumeMount[];
  healthCheck: HealthCheck;
  restart: RestartPolicy;
  noCache: boolean;
  pull: boolean;
  /** How many successful images of the app to keep beyond the running one. */
  retention: number;
  /** The registry every release is pushed to (HOST[:PORT][/PATH]); null: images stay on the engine that built them. */
  registry: string | null;
  /** The Dockerfile stage to build (docker build --target); null: the last one. */
  buildTarget: string | null;
  /** BuildKit secrets as `docker build --secret` writes them (id=ID,src=PATH or id=ID,env=VAR): where, never what. */
  buildSecrets: string[];
  /** Memory limit in bytes (docker run --memory); null: none. */
  memory: number | null;
  /** CPU limit in CPUs (docker run --cpus); null: none. */
  cpus: number | null;
  /** Replaces the image's CMD (docker run IMAGE ARGS...); null: the image's. */
  command: string[] | null;
  /** Replaces the image's ENTRYPOINT (docker run --entrypoint); [] clears it; null: the image's. */
  entrypoint: string[] | null;
  /** USER[:GROUP] the app runs as (docker run --user); null: the image's. */
  user: string | null;
  /** HOST:IP lines added to /etc/hosts (docker run --add-host). */
  extraHosts: string[];
  /** Labels of the app's containers (docker run --label), beside the tool's own. */
  labels: Record<string, string>;
  /** User-defined networks the container joins (docker run --network), reachable there as the app's name. */
  networks: string[];
  /** The log driver (docker run --log-driver); null: json-file, bounded to 3 × 10 MB. */
  logDriver: string | null;
  /** Options of the log driver (docker run --log-opt). */
  logOptions: Record<string, string>;
  /** The signal that stops the app (docker run --stop-signal); null: the image's STOPSIGNAL, else SIGTERM. */
  stopSignal: string | null;
  /** How long the app gets to stop before it is killed (docker run --stop-timeout); null: the engine's 10 s. */
  stopTimeoutMs: number | null;
  /** Run under docker-init as PID 1 (docker run --init): reaps zombies, forwards signals. */
  init: boolean;
  /** The engine's front door owns the published ports (zero-downtime switches); false: the containers publish them. */
  proxy: boolean | 'tcp';
  /** Hostnames the front door routes to the app (several apps share a port by name). */
  domains: string[];
  /** PEM certificate and key files (paths on this machine) the front door serves for the domains. */
  tlsCertificate: string | null;
  tlsKey: string | null;
  /** How long in-flight requests on the old release get to finish after a switch. */
  drainTimeoutMs: number;
  /** How long after a switch the old release stays ready to take traffic back. */
  bakeWindowMs: number;
  /** What runs a release: one container on the engine ('containers'), or a Swarm service on a manager ('swarm'). */
  runtime: RuntimeSetting;
  /** How many tasks a Swarm service runs (runtime swarm); a container deployment is always one. */
  replicas: number;
  /**
   * The Docker endpoints (URLs or context names) of the swarm's other nodes, which get a release's image from the
   * manager when there is no registry, and whose tasks' figures stats reads.
   */
  nodes: string[];
}

export type RuntimeSetting = 'containers' | 'swarm';

export interface SourceInfo {
  /** Local repository path or Git URL, as the user gave it (absolute for paths). */
  source: string;
  /** The app's directory inside the repository ('' for the root). */
  subdir: string;
  ref: string;
  commit: string;
  commitSubject: string;
  commitAuthor: string;
  commitTime: number | null;
  dirty: boolean;
}

export interface DeploymentError {
  code: string;
  message: string;
}

/** One row of the store, as the code sees it. Times are epoch milliseconds. */
export interface Deployment extends SourceInfo {
  id: string;
  app: string;
  version: number;
  kind: Kind;
  parentId: string | null;
  status: Status;
  image: string | null;
  imageId: string | null;
  /**
   * The image's registry digest (sha256:…) when it has one, else its content id (the image id): what exactly ran,
   * recorded when the image is built or reused. null before the image is known (and for records from before it).
   */
  imageDigest: string | null;
  /** What runs it: one container ('container'), or a Swarm service ('service', the runtime setting `swarm`). */
  runtime: 'container' | 'service';
  /**
   * Its workload as its runtime names it (a container's id, a service's id), null before it is made and once it is
   * removed. For a container deployment it is always `containerId` (the store keeps the two equal).
   */
  workload: string | null;
  /** A container deployment's container (null once removed); kept in the record and in `--json` for them. */
  containerId: string | null;
  /** A container deployment's container name (kept after the container is removed). */
  containerName: string | null;
  endpoint: string;
  config: DeployConfig;
  createdAt: number;
  buildStartedAt: number | null;
  buildFinishedAt: number | null;
  startedAt: number | null;
  readyAt: number | null;
  finishedAt: number | null;
  actor: string;
  origin: 'terminal' | 'ci' | 'script';
  error: DeploymentError | null;
  /** The deployment that replaced this one, once it is superseded. */
  supersededBy: string | null;
  /** Replaced by a rollback: counts as a failed change in the delivery metrics. */
  rolledBack: boolean;
  /** While in progress: the process doing the work ({machine, pid}), so its death can be noticed. */
  worker: { machine: string; pid: number } | null;
  /**
   * The one-off settings given on the command line of this deployment (--port, --env, --secret, --health-*),
   * kept so that a redeploy of it ships them again. null for records made before they were kept, or synced.
   */
  overrides: Settings | null;
  /** Status `exited`: the container's exit code (null when its container was removed outside the tool). */
  exitCode: number | null;
  /** Status `exited`: when the container exited, as the engine says (or when that was noticed). */
  exitedAt: number | null;
  /** When this record's state was last compared with its engine (reads answered from the store say how old). */
  checkedAt: number | null;
  /**
   * Ids the app had been rolled back away from when this deployment was made, newest first (at most
   * ROLLED_BACK_HISTORY): written into its label, so that a store rebuilt by `deploy sync` knows them.
   */
  rolledBackFrom: string[];
  /**
   * Ids of the app's deployments that had passed their health gate when this one was made, newest first (at most
   * ROLLED_BACK_HISTORY): in its label, so that a store rebuilt by `deploy sync` tells an image left by a deploy
   * that failed from one that served.
   */
  servedBefore: string[];
}

/** How many rolled-back ids a record (and its label) carries. */
export const ROLLED_BACK_HISTORY = 50;

export interface AppRecord {
  name: string;
  source: string | null;
  subdir: string;
  ref: string | null;
  currentId: string | null;
  createdAt: number;
}

export interface DeploymentEvent {
  deploymentId: string;
  at: number;
  type: string;
  message: string;
}
