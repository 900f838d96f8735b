import type { Origin, Settings } from './settings.js';
import {
  completeConfig,
  GROUPS,
  keyOf,
  readSetting,
  settingDefaults,
  SETTINGS,
  writeSetting,
} from './setting-table.js';
import type { DeployConfig, EnvVar } from './types.js';

export const DEFAULT_CONFIG: DeployConfig = { ...settingDefaults(), env: {}, noCache: false, pull: false };

export interface ConfigLayer {
  origin: Origin;
  settings: Settings;
}

export interface ResolvedConfig {
  config: DeployConfig;
  /** Where each effective value came from, keyed as `deploy config list` shows it. */
  origins: Record<string, Origin>;
}

/** The settings a deployment keeps in its snapshot (all but where it runs). */
const SNAPSHOT = SETTINGS.filter((d) => !d.notInSnapshot);

/**
 * Merges layers given strongest first (flag, app, deploy.json, global) over the defaults.
 * Most settings come whole from the strongest layer that sets them; env vars and maps (build args, labels, log
 * options) merge name by name, and so do the health check's fields.
 */
export function resolveConfig(
  layers: readonly ConfigLayer[],
  build: { noCache?: boolean; pull?: boolean } = {},
): ResolvedConfig {
  const origins: Record<string, Origin> = {};
  const config: DeployConfig = structuredClone(DEFAULT_CONFIG);
  for (const d of SNAPSHOT) if (!d.map) origins[keyOf(d)] = 'default';

  for (const { origin, settings } of [...layers].reverse()) {
    for (const d of SNAPSHOT) {
      const v = readSetting(settings, d);
      if (v === undefined) continue;
      if (d.map) {
        const into = readSetting(config, d) as Record<string, string>;
        for (const [k, text] of Object.entries(v as Record<string, string>)) {
          into[k] = text;
          origins[`${keyOf(d)}.${k}`] = origin;
        }
      } else {
        writeSetting(config, d, structuredClone(v));
        origins[keyOf(d)] = origin;
      }
    }
    for (const [k, v] of Object.entries(settings.env ?? {})) {
      // A key that is secret stays secret whichever layer sets its value (`-e KEY=...` over a stored secret).
      config.env[k] = { value: v.value, secret: v.secret || (config.env[k]?.secret ?? false) };
      origins[`env.${k}`] = origin;
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
  const full = completeConfig(c);
  const out: Settings = {};
  for (const d of SNAPSHOT) writeSetting(out, d, structuredClone(readSetting(full, d)));
  out.env = Object.fromEntries(
    Object.entries(full.env)
      .filter(([, v]) => !v.secret)
      .map(([k, v]) => [k, { ...v }]),
  );
  return out;
}

/** Settings merged name by name rather than taken whole: env, the maps, the groups. */
const BY_NAME = ['env', ...GROUPS, ...SETTINGS.filter((d) => d.map).map((d) => d.field)];

/** Two layers as one: `strong` wins, value by value (maps and groups name by name, as resolveConfig merges layers). */
export function mergeSettings(strong: Settings, weak: Settings): Settings {
  const out: Settings = { ...weak, ...Object.fromEntries(Object.entries(strong).filter(([, v]) => v !== undefined)) };
  const bag = out as Record<string, unknown>;
  for (const key of BY_NAME) {
    const w = (weak as Record<string, unknown>)[key];
    const s = (strong as Record<string, unknown>)[key];
    if (w || s) bag[key] = { ...(w as object), ...(s as object) };
  }
  return out;
}

/**
 * For a record that did not keep its command line's one-off settings (made before they were kept, or rebuilt
 * by sync): the values of its snapshot that today's layers would not give, except where the app's stored
 * configuration sets the value now (the app's current configuration wins over a guess).
 */
export function derivedOverrides(snapshot: DeployConfig, now: ResolvedConfig): Settings {
  const then = completeConfig(snapshot);
  const out: Settings = {};
  const fromApp = (key: string) => now.origins[key] === 'app';
  for (const d of SNAPSHOT) {
    if (d.name === 'retention') continue; // how many images to keep is the app's, not a release's
    const was = readSetting(then, d);
    const is = readSetting(now.config, d);
    if (d.map) {
      const entries = Object.entries(was as Record<string, string>).filter(
        ([k, v]) => !fromApp(`${keyOf(d)}.${k}`) && (is as Record<string, string>)[k] !== v,
      );
      if (entries.length > 0) writeSetting(out, d, Object.fromEntries(entries));
    } else if (JSON.stringify(was) !== JSON.stringify(is) && !fromApp(keyOf(d))) {
      writeSetting(out, d, structuredClone(was));
    }
  }
  const env: Record<string, EnvVar> = {};
  for (const [k, v] of Object.entries(then.env)) {
    const current = now.config.env[k];
    if (fromApp(`env.${k}`)) continue;
    if (!current || current.value !== v.value || current.secret !== v.secret) env[k] = { ...v };
  }
  if (Object.keys(env).length > 0) out.env = env;
  return out;
}

/** What a build depends on, as one comparable text: a redeploy whose build inputs differ builds a new image. */
export function buildInputs(c: DeployConfig): string {
  const full = completeConfig(c);
  return JSON.stringify(SETTINGS.filter((d) => d.build).map((d) => [keyOf(d), readSetting(full, d)]));
}

/** The build inputs that differ between two snapshots, by name. */
export function changedBuildInputs(a: DeployConfig, b: DeployConfig): string[] {
  const x = completeConfig(a);
  const y = completeConfig(b);
  return SETTINGS.filter((d) => d.build && JSON.stringify(readSetting(x, d)) !== JSON.stringify(readSetting(y, d))).map(
    keyOf,
  );
}

/** A key that was secret in what serves now stays secret in what replaces it, whoever sets its value now. */
export function keepSecrets(config: DeployConfig, previous: DeployConfig | null | undefined): DeployConfig {
  if (!previous) return config;
  const env = Object.fromEntries(
    Object.entries(config.env).map(([k, v]) => [k, previous.env[k]?.secret && !v.secret ? { ...v, secret: true } : v]),
  );
  return { ...config, env };
}
