/** Small helpers shared by the unit tests: pure data, no I/O. */
import { DEFAULT_CONFIG } from '../../src/core/config.js';
import { DeployError } from '../../src/core/errors.js';
import { containerName } from '../../src/core/names.js';
import type { DeployConfig, Deployment, PortMapping } from '../../src/core/types.js';

export interface Failure {
  code: string;
  message: string;
  hint: string | undefined;
  details: Record<string, unknown> | undefined;
}

/**
 * Runs fn, which must throw a DeployError, and returns what a user sees of it, so a test can compare the
 * whole failure with toEqual.
 */
export function failure(fn: () => unknown): Failure {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    return { code: error.code, message: error.message, hint: error.hint, details: error.details };
  }
  throw new Error('expected the call to throw a DeployError');
}

/** What a user sees of a usage error (a command line or setting the tool cannot read): its message and hint. */
export function usageFailure(message: string, hint: string | undefined): Failure {
  return { code: 'usage', message, hint, details: undefined };
}

/** The message of the DeployError fn throws. */
export function failureMessage(fn: () => unknown): string {
  return failure(fn).message;
}

/** The build, health check and restart settings at their defaults: the same in a configuration and in deploy.json. */
const BUILD_DEFAULTS = {
  dockerfile: 'Dockerfile',
  context: '.',
  buildArgs: {},
  env: {},
  ports: [],
  volumes: [],
  healthCheck: { path: null, port: null, timeoutMs: 60_000, intervalMs: 500, settleMs: 2_000, command: null },
  restart: 'unless-stopped',
  noCache: false,
  pull: false,
  retention: 5,
  registry: null,
  runtime: 'containers',
  replicas: 1,
  nodes: [],
} as const;

/**
 * The docker run and build options whose defaults read the same in a configuration and in deploy.json: the image's
 * own, or none, until a setting says otherwise.
 */
const RUN_OPTION_DEFAULTS = {
  buildTarget: null,
  buildSecrets: [],
  memory: null,
  cpus: null,
  command: null,
  entrypoint: null,
  user: null,
  extraHosts: [],
  labels: {},
  networks: [],
  logDriver: null,
  logOptions: {},
  stopSignal: null,
  init: true,
  proxy: true,
  domains: [],
  tlsCertificate: null,
  tlsKey: null,
} as const;

/**
 * The docker run and build options at their defaults, with `durations` (the stop timeout, drain timeout and bake
 * window) in the form wanted: milliseconds in a configuration, seconds in its deploy.json form. The rest reads the
 * same in both.
 */
export function runOptionDefaults<D extends object>(durations: D) {
  return { ...RUN_OPTION_DEFAULTS, ...durations };
}

/** Every setting at its default, `durations` in the form wanted (as for runOptionDefaults). */
export function settingDefaults<D extends object>(durations: D) {
  return { ...BUILD_DEFAULTS, ...runOptionDefaults(durations) };
}

/** A port mapping: tcp on every interface unless said otherwise. */
export function portMapping(
  hostPort: number,
  containerPort = 80,
  hostIp = '',
  protocol: 'tcp' | 'udp' = 'tcp',
): PortMapping {
  return { hostIp, hostPort, containerPort, protocol };
}

export function makeConfig(overrides: Partial<DeployConfig> = {}): DeployConfig {
  return { ...structuredClone(DEFAULT_CONFIG), ...overrides };
}

/**
 * The fields of a record that nothing has happened to since its run: no error, not replaced or rolled back, no
 * worker, no one-off settings, not exited, never checked. A record sync rebuilds from a label has them so too (the
 * label does not carry them).
 */
export const UNEVENTFUL = {
  error: null,
  supersededBy: null,
  rolledBack: false,
  worker: null,
  overrides: null,
  exitCode: null,
  exitedAt: null,
  checkedAt: null,
} as const satisfies Partial<Deployment>;

/** A complete deployment record; every time is a fixed UTC instant so ISO output is predictable. */
export function makeDeployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'abcd2345',
    app: 'web',
    version: 3,
    kind: 'deploy',
    parentId: null,
    status: 'running',
    source: '/home/ada/web',
    subdir: '',
    ref: 'main',
    commit: '0123456789abcdef0123456789abcdef01234567',
    commitSubject: 'Add the landing page',
    commitAuthor: 'Ada Lovelace <ada@example.com>',
    commitTime: Date.UTC(2026, 0, 2, 3, 4, 5),
    dirty: false,
    image: 'deploy/web:abcd2345',
    imageId: 'sha256:feedface',
    imageDigest: 'sha256:feedface',
    runtime: 'container',
    workload: 'c0ffee',
    containerId: 'c0ffee',
    containerName: 'web-v3-abcd2345',
    endpoint: 'unix:///var/run/docker.sock',
    config: makeConfig(),
    createdAt: Date.UTC(2026, 0, 2, 10, 0, 0),
    buildStartedAt: Date.UTC(2026, 0, 2, 10, 0, 1),
    buildFinishedAt: Date.UTC(2026, 0, 2, 10, 0, 30),
    startedAt: Date.UTC(2026, 0, 2, 10, 0, 31),
    readyAt: Date.UTC(2026, 0, 2, 10, 0, 33),
    finishedAt: Date.UTC(2026, 0, 2, 10, 0, 33),
    actor: 'ada',
    origin: 'terminal',
    ...UNEVENTFUL,
    rolledBackFrom: [],
    servedBefore: [],
    ...overrides,
  };
}

/** Version `version` of app web as a deploy makes it: its own id (depNxyz), its image and its container. */
export function makeVersion(version: number, overrides: Partial<Deployment> = {}): Deployment {
  const id = `dep${version}xyz`;
  return makeDeployment({
    id,
    version,
    image: `deploy/web:${id}`,
    containerId: `c-${id}`,
    containerName: containerName('web', version, id),
    workload: `c-${id}`,
    ...overrides,
  });
}
