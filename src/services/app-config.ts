import { readGlobalSettings, writeGlobalSettings, type GlobalSettingsFile } from '../adapters/global-settings.js';
import type { AppConfigRow } from '../adapters/store/store.js';
import { isGitUrl } from '../adapters/git.js';
import { endpointSetting, resolveConfig, type ConfigLayer, type ResolvedConfig } from '../core/config.js';
import { isSettingKey, mistypedSetting, settingsFromEntries, settingValueFromText } from '../core/config-keys.js';
import { assertEnvName, assertEnvValue } from '../core/env.js';
import { DeployError } from '../core/errors.js';
import { validateSettings, type Settings } from '../core/settings.js';
import type { EnvVar } from '../core/types.js';
import type { Context } from '../context.js';
import { resolveEndpoint } from './engines.js';
import { PROJECT_FILE, readProjectSettings } from './source.js';

/** The app's own layer, from the store. */
export function appLayer(ctx: Context, app: string): Settings {
  const rows = ctx.store().appConfig(app);
  const env: Record<string, EnvVar> = {};
  const entries: Array<{ key: string; value: unknown }> = [];
  for (const r of rows) {
    if (r.kind === 'env') env[r.key] = { value: r.value, secret: r.secret };
    else entries.push({ key: r.key, value: JSON.parse(r.value) as unknown });
  }
  return settingsFromEntries(entries, env, `the configuration of ${app}`);
}

/** The user-wide layer (deploy config --global). */
export function globalLayer(ctx: Context): Settings {
  const file = readGlobalSettings(ctx.paths.configDir);
  const settings = validateSettings(file.settings ?? {}, 'the user-wide configuration');
  if (file.env && Object.keys(file.env).length > 0) settings.env = { ...file.env };
  return settings;
}

/** Every layer a deployment of the app is configured from, strongest first. */
export function layersFor(ctx: Context, app: string, project: Settings, flags: Settings = {}): ConfigLayer[] {
  return [
    { origin: 'flag', settings: flags },
    { origin: 'app', settings: appLayer(ctx, app) },
    { origin: 'deploy.json', settings: project },
    { origin: 'global', settings: globalLayer(ctx) },
  ];
}

export interface Assignment {
  key: string;
  value: string;
}

export function parseAssignment(text: string): Assignment {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new DeployError('usage', `Invalid assignment ${JSON.stringify(text)}: expected KEY=VALUE.`, {
      hint: 'For example: deploy config set GREETING=hi --app web',
    });
  }
  return { key: text.slice(0, eq), value: text.slice(eq + 1) };
}

type Scope = { app: string } | { global: true };

/**
 * `deploy config set`: env vars (secret with --secret) and settings, checked as deploy.json would check
 * them, written in one transaction. Returns the keys changed.
 */
export async function setConfig(
  ctx: Context,
  scope: Scope,
  assignments: Assignment[],
  options: { secret: boolean | undefined; forceEnv: boolean; dryRun?: boolean },
): Promise<Array<{ key: string; kind: 'env' | 'setting'; secret: boolean }>> {
  const where = 'app' in scope ? `the configuration of ${scope.app}` : 'the user-wide configuration';
  // A secret stays secret when set again without --secret; --no-secret makes it plain on purpose.
  const wasSecret = new Set(
    'app' in scope
      ? ctx
          .store()
          .appConfig(scope.app)
          .filter((r) => r.kind === 'env' && r.secret)
          .map((r) => r.key)
      : Object.entries(readGlobalSettings(ctx.paths.configDir).env ?? {})
          .filter(([, v]) => v.secret)
          .map(([k]) => k),
  );
  // A misspelt setting is refused before anything is written, rather than kept as an env var no one reads.
  if (!options.forceEnv) {
    for (const { key } of assignments) {
      const refusal = mistypedSetting(key);
      if (refusal) throw refusal;
    }
  }
  const rows: Array<Omit<AppConfigRow, 'updatedAt'>> = [];
  for (const { key, value } of assignments) {
    if (!options.forceEnv && isSettingKey(key)) {
      if (options.secret)
        throw new DeployError('usage', `--secret applies to environment variables, and ${key} is a setting.`);
      const json = settingValueFromText(key, value);
      // Check it the way deploy.json is checked, so a bad value is refused now, not at the next deploy.
      settingsFromEntries([{ key, value: json }], {}, where);
      rows.push({ kind: 'setting', key, value: JSON.stringify(json), secret: false });
    } else {
      assertEnvName(key, 'deploy config set');
      assertEnvValue(key, value, 'deploy config set');
      rows.push({ kind: 'env', key, value, secret: options.secret ?? wasSecret.has(key) });
    }
  }
  // --dry-run: everything checked as for real, nothing written.
  if (options.dryRun) return rows.map((r) => ({ key: r.key, kind: r.kind, secret: r.secret }));
  if ('app' in scope) {
    ctx.store().changeAppConfig(scope.app, rows, [], ctx.now());
  } else {
    await writeGlobalSettings(ctx.paths.configDir, (current) => {
      const next: GlobalSettingsFile = { env: { ...current.env }, settings: { ...current.settings } };
      for (const r of rows) {
        if (r.kind === 'env') (next.env as Record<string, EnvVar>)[r.key] = { value: r.value, secret: r.secret };
        else setNested(next.settings as Record<string, unknown>, r.key, JSON.parse(r.value));
      }
      return next;
    });
  }
  return rows.map((r) => ({ key: r.key, kind: r.kind, secret: r.secret }));
}

/** A dotted key's group and name (at the first dot: label names have dots of their own). */
function splitKey(key: string): [string, string | undefined] {
  const dot = key.indexOf('.');
  return dot === -1 ? [key, undefined] : [key.slice(0, dot), key.slice(dot + 1)];
}

function setNested(doc: Record<string, unknown>, key: string, value: unknown): void {
  const [head, tail] = splitKey(key);
  if (tail === undefined) {
    if (value === undefined) delete doc[head];
    else doc[head] = value;
    return;
  }
  const inner = { ...((doc[head] as Record<string, unknown> | undefined) ?? {}) };
  if (value === undefined) delete inner[tail];
  else inner[tail] = value;
  if (Object.keys(inner).length === 0) delete doc[head];
  else doc[head] = inner;
}

/** `deploy config unset`: removes keys; a key that is not set is reported, not an error. */
export async function unsetConfig(
  ctx: Context,
  scope: Scope,
  keys: string[],
  options: { forceEnv: boolean; dryRun?: boolean },
): Promise<{ removed: string[]; absent: string[] }> {
  const kindOf = (key: string): 'env' | 'setting' => (!options.forceEnv && isSettingKey(key) ? 'setting' : 'env');
  const present = new Set<string>();
  if ('app' in scope) {
    for (const r of ctx.store().appConfig(scope.app)) present.add(`${r.kind}:${r.key}`);
    const removed = keys.filter((k) => present.has(`${kindOf(k)}:${k}`));
    if (!options.dryRun)
      ctx.store().changeAppConfig(
        scope.app,
        [],
        removed.map((key) => ({ kind: kindOf(key), key })),
        ctx.now(),
      );
    return { removed, absent: keys.filter((k) => !removed.includes(k)) };
  }
  const file = readGlobalSettings(ctx.paths.configDir);
  const has = (key: string) => {
    if (kindOf(key) === 'env') return Boolean(file.env?.[key]);
    const [head, tail] = splitKey(key);
    const v = file.settings?.[head];
    return tail === undefined ? v !== undefined : (v as Record<string, unknown> | undefined)?.[tail] !== undefined;
  };
  const removed = keys.filter(has);
  if (removed.length > 0 && !options.dryRun) {
    await writeGlobalSettings(ctx.paths.configDir, (current) => {
      const next: GlobalSettingsFile = { env: { ...current.env }, settings: { ...current.settings } };
      for (const key of removed) {
        if (kindOf(key) === 'env') delete (next.env as Record<string, EnvVar>)[key];
        else setNested(next.settings as Record<string, unknown>, key, undefined);
      }
      return next;
    });
  }
  return { removed, absent: keys.filter((k) => !removed.includes(k)) };
}

export interface EffectiveConfig extends ResolvedConfig {
  app: string | null;
  /** Why deploy.json was not read, when it was not. */
  projectNote: string | null;
  /** The engine the next deployment goes to, and what chose it; null when it cannot be resolved. */
  endpoint: { url: string; source: string } | null;
  endpointNote: string | null;
}

/**
 * The configuration the app's next deployment would get, with where each value comes from. deploy.json is
 * read from the app's remembered source at its branch, without fetching.
 */
export async function effectiveConfig(
  ctx: Context,
  app: string | null,
  flags: Settings = {},
): Promise<EffectiveConfig> {
  let project: Settings = {};
  let projectNote: string | null = null;
  if (app) {
    const known = ctx.store().getApp(app);
    if (!known) {
      throw new DeployError('not_found', `There is no app named ${app}.`, { hint: 'List apps with: deploy ls' });
    }
    if (known.source && !isGitUrl(known.source)) {
      try {
        const git = await ctx.git();
        const commit = await git.resolveCommit(known.source, known.ref ?? 'HEAD');
        project = await readProjectSettings(git, { root: known.source, treeish: commit, subdir: known.subdir });
      } catch (error) {
        projectNote = `${PROJECT_FILE} not read: ${(error as Error).message}`;
      }
    } else if (known.source) {
      projectNote = `${PROJECT_FILE} of a Git URL source is read when deploying`;
    }
  }
  const layers = app
    ? layersFor(ctx, app, project, flags)
    : [
        { origin: 'flag' as const, settings: flags },
        { origin: 'global' as const, settings: globalLayer(ctx) },
      ];
  let endpoint: EffectiveConfig['endpoint'] = null;
  let endpointNote: string | null = null;
  try {
    const e = resolveEndpoint(ctx, endpointSetting(layers));
    endpoint = { url: e.url, source: e.source };
  } catch (error) {
    endpointNote = `endpoint: ${(error as Error).message}`;
  }
  return { app, projectNote, endpoint, endpointNote, ...resolveConfig(layers) };
}

export function scopeOf(app: string | undefined, global: boolean): Scope {
  if (global && app)
    throw new DeployError('usage', '--global and --app cannot be used together.', {
      hint: 'Give one: --app NAME for one app, --global for every app.',
    });
  if (global) return { global: true };
  if (!app) {
    throw new DeployError('usage', 'Which app? Give --app NAME, or --global for the user-wide defaults.');
  }
  return { app };
}
