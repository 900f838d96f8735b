/** What the engine client takes and gives back, as plain data. */

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
