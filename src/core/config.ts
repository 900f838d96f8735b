import type { Origin, Settings } from './settings.js';
import type { DeployConfig, EnvVar, HealthCheck } from './types.js';

export const DEFAULT_CONFIG: DeployConfig = {
  dockerfile: 'Dockerfile',
  context: '.',
  buildArgs: {},
  env: {},
  ports: [],
  volumes: [],
  healthCheck: { path: null, port: null, timeoutMs: 60_000, intervalMs: 500, settleMs: 2_000 },
  restart: 'unless-stopped',
  noCache: false,
  pull: false,
  retention: 5,
};

export interface ConfigLayer {
  origin: Origin;
  settings: Settings;
}

export interface ResolvedConfig {
  config: DeployConfig;
  /** Where each effective value came from, keyed as `deploy config list` shows it. */
  origins: Record<string, Origin>;
}

type ScalarKey = 'dockerfile' | 'context' | 'restart' | 'retention';
const SCALARS: ScalarKey[] = ['dockerfile', 'context', 'restart', 'retention'];
/** Health-check fields and the names deploy.json and `deploy config` give them. */
const HEALTH_FIELDS: Array<[keyof HealthCheck, string]> = [
  ['path', 'path'],
  ['port', 'port'],
  ['timeoutMs', 'timeout'],
  ['intervalMs', 'interval'],
  ['settleMs', 'settle'],
];

/**
 * Merges layers given strongest first (flag, app, deploy.json, global) over the defaults.
 * Scalars and the port and volume lists come whole from the strongest layer that sets them; env vars, build args and
 * health-check fields merge key by key.
 */
export function resolveConfig(layers: readonly ConfigLayer[], build: { noCache?: boolean; pull?: boolean } = {}): ResolvedConfig {
  const origins: Record<string, Origin> = {};
  const config: DeployConfig = structuredClone(DEFAULT_CONFIG);
  const weakestFirst = [...layers].reverse();

  for (const key of SCALARS) origins[key] = 'default';
  origins.ports = 'default';
  origins.volumes = 'default';
  for (const [, name] of HEALTH_FIELDS) origins[`healthCheck.${name}`] = 'default';

  for (const { origin, settings } of weakestFirst) {
    for (const key of SCALARS) {
      const v = settings[key];
      if (v !== undefined) {
        (config as unknown as Record<string, unknown>)[key] = v;
        origins[key] = origin;
      }
    }
    if (settings.ports !== undefined) {
      config.ports = settings.ports.map((p) => ({ ...p }));
      origins.ports = origin;
    }
    if (settings.volumes !== undefined) {
      config.volumes = settings.volumes.map((v) => ({ ...v }));
      origins.volumes = origin;
    }
    for (const [k, v] of Object.entries(settings.env ?? {})) {
      // A key that is secret stays secret whichever layer sets its value (`-e KEY=...` over a stored secret).
      config.env[k] = { value: v.value, secret: v.secret || (config.env[k]?.secret ?? false) };
      origins[`env.${k}`] = origin;
    }
    for (const [k, v] of Object.entries(settings.buildArgs ?? {})) {
      config.buildArgs[k] = v;
      origins[`buildArgs.${k}`] = origin;
    }
    for (const [field, name] of HEALTH_FIELDS) {
      const v = settings.healthCheck?.[field];
      if (v !== undefined) {
        (config.healthCheck as unknown as Record<string, unknown>)[field] = v;
        origins[`healthCheck.${name}`] = origin;
      }
    }
  }
  config.noCache = build.noCache ?? false;
  config.pull = build.pull ?? false;
  return { config, origins };
}

export function secretKeys(env: Record<string, EnvVar>): string[] {
  return Object.entries(env)
    .filter(([, v]) => v.secret)
    .map(([k]) => k)
    .sort();
}

/** The strongest layer's `endpoint` setting, if any layer pins the app to an engine. */
export function endpointSetting(layers: readonly ConfigLayer[]): { value: string; origin: Origin } | undefined {
  for (const { origin, settings } of layers) {
    if (settings.endpoint !== undefined) return { value: settings.endpoint, origin };
  }
  return undefined;
}

/**
 * A snapshot read back as a settings layer (secret values left out: they come from the app's configuration),
 * for when the deploy.json it came from cannot be read any more.
 */
export function snapshotSettings(c: DeployConfig): Settings {
  return {
    dockerfile: c.dockerfile,
    context: c.context,
    ports: c.ports.map((p) => ({ ...p })),
    volumes: (c.volumes ?? []).map((v) => ({ ...v })),
    env: Object.fromEntries(Object.entries(c.env).filter(([, v]) => !v.secret).map(([k, v]) => [k, { ...v }])),
    buildArgs: { ...c.buildArgs },
    healthCheck: { ...c.healthCheck },
    restart: c.restart,
    retention: c.retention,
  };
}

/**
 * Two layers as one: `strong` wins. Env vars, build args and health-check fields merge key by key; other
 * values come whole from the stronger layer that sets them (as resolveConfig merges layers).
 */
export function mergeSettings(strong: Settings, weak: Settings): Settings {
  const out: Settings = { ...weak, ...Object.fromEntries(Object.entries(strong).filter(([, v]) => v !== undefined)) };
  if (weak.env || strong.env) out.env = { ...weak.env, ...strong.env };
  if (weak.buildArgs || strong.buildArgs) out.buildArgs = { ...weak.buildArgs, ...strong.buildArgs };
  if (weak.healthCheck || strong.healthCheck) out.healthCheck = { ...weak.healthCheck, ...strong.healthCheck };
  return out;
}

/**
 * For a record that did not keep its command line's one-off settings (made before they were kept, or rebuilt
 * by sync): the values of its snapshot that today's layers would not give, except where the app's stored
 * configuration sets the value now (the app's current configuration wins over a guess). What ports, health
 * check, restart policy, volumes and env vars the deployment was given on its command line, as far as can be told.
 */
export function derivedOverrides(snapshot: DeployConfig, now: ResolvedConfig): Settings {
  const out: Settings = {};
  const fromApp = (key: string) => now.origins[key] === 'app';
  const samePorts = JSON.stringify(snapshot.ports) === JSON.stringify(now.config.ports);
  if (!samePorts && !fromApp('ports')) out.ports = snapshot.ports.map((p) => ({ ...p }));
  const sameVolumes = JSON.stringify(snapshot.volumes ?? []) === JSON.stringify(now.config.volumes);
  if (!sameVolumes && !fromApp('volumes')) out.volumes = (snapshot.volumes ?? []).map((v) => ({ ...v }));
  if (snapshot.restart !== now.config.restart && !fromApp('restart')) out.restart = snapshot.restart;
  const hc: Partial<HealthCheck> = {};
  for (const [field, name] of HEALTH_FIELDS) {
    if (snapshot.healthCheck[field] !== now.config.healthCheck[field] && !fromApp(`healthCheck.${name}`)) {
      (hc as Record<string, unknown>)[field] = snapshot.healthCheck[field];
    }
  }
  if (Object.keys(hc).length > 0) out.healthCheck = hc;
  const env: Record<string, EnvVar> = {};
  for (const [k, v] of Object.entries(snapshot.env)) {
    const current = now.config.env[k];
    if (fromApp(`env.${k}`)) continue;
    if (!current || current.value !== v.value || current.secret !== v.secret) env[k] = { ...v };
  }
  if (Object.keys(env).length > 0) out.env = env;
  return out;
}

/** A key that was secret in what serves now stays secret in what replaces it, whoever sets its value now. */
export function keepSecrets(config: DeployConfig, previous: DeployConfig | null | undefined): DeployConfig {
  if (!previous) return config;
  const env = Object.fromEntries(Object.entries(config.env).map(([k, v]) => [k, previous.env[k]?.secret && !v.secret ? { ...v, secret: true } : v]));
  return { ...config, env };
}
