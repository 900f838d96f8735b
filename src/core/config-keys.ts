import { DeployError } from './errors.js';
import { GROUPS, groupFields, keyOf, settingDef, SETTINGS } from './setting-table.js';
import { nearestName, validateSettings, type Settings } from './settings.js';
import type { EnvVar } from './types.js';

/**
 * The names `deploy config` writes settings under: deploy.json's keys, with nested ones dotted. Anything
 * else in `deploy config set KEY=VALUE` is an environment variable (--env forces that reading).
 */
export const SETTING_KEYS: readonly string[] = SETTINGS.filter((d) => !d.map).map(keyOf);
/** The settings `config set` writes name by name: buildArgs.NAME, labels.NAME, logOptions.NAME. */
const MAP_KEYS = SETTINGS.filter((d) => d.map).map((d) => d.name);

export function isSettingKey(key: string): boolean {
  const found = settingDef(key);
  if (found === null) return false;
  if (found.entry === undefined) return true;
  try {
    found.def.map?.check(found.entry, 'a setting');
    return true;
  } catch {
    return false;
  }
}

/**
 * A `config set` name that is not a setting but looks like one was meant: a dotted name (settings nest,
 * environment variable names cannot have a dot) or a name within a typo of a setting's ("port", "Ports",
 * "healthCheck.tiemout"). Names in the usual UPPER_CASE of environment variables (PORT, CONTEXT) are left
 * alone: they are what they look like. Returns the refusal to throw, or null when the name is an env var.
 */
export function mistypedSetting(key: string): DeployError | null {
  if (isSettingKey(key) || /^[A-Z][A-Z0-9_]*$/.test(key)) return null;
  const message = `${key} is not a setting deploy knows.`;
  const dot = key.indexOf('.');
  if (dot === -1) {
    const near = nearestName(
      key,
      SETTING_KEYS.filter((k) => !k.includes('.')),
    );
    return near
      ? new DeployError('config', message, {
          hint: `Did you mean ${near}? (To set an environment variable of that name, pass --env.)`,
        })
      : null;
  }
  // A dotted name cannot be an environment variable, so --env is not offered: the group, then the name in it.
  const head = key.slice(0, dot);
  const tail = key.slice(dot + 1);
  const exact = SETTINGS.find((d) => d.map && d.name === head);
  if (exact?.map) {
    // The map is right, the name in it is not: that is what is said.
    try {
      exact.map.check(tail, 'a setting');
    } catch (e) {
      return new DeployError('config', (e as Error).message, {
        hint: (e as DeployError).hint ?? `For example: ${exact.map.example}.`,
      });
    }
  }
  const group = nearestName(head, [...GROUPS, ...MAP_KEYS]);
  let hint = `Settings: ${SETTING_KEYS.join(', ')}, ${MAP_KEYS.map((k) => `${k}.NAME`).join(', ')}. A name with a dot cannot be an environment variable.`;
  const map = SETTINGS.find((d) => d.map && d.name === group);
  if (group !== null && (GROUPS as readonly string[]).includes(group)) {
    const names = groupFields(group).map((d) => d.name);
    const near = nearestName(tail, names);
    hint = near
      ? `Did you mean ${group}.${near}?`
      : `The settings of ${group}: ${names.map((k) => `${group}.${k}`).join(', ')}.`;
  } else if (map?.map) {
    try {
      map.map.check(tail, 'a setting');
      hint = `Did you mean ${map.name}.${tail}?`;
    } catch (e) {
      hint = `${(e as Error).message} For example: ${map.map.example}.`;
    }
  }
  return new DeployError('config', message, { hint });
}

/** Turns `config set` text into the JSON value deploy.json would hold for that key. */
export function settingValueFromText(key: string, text: string): unknown {
  const found = settingDef(key);
  if (!found || found.entry !== undefined) return text;
  return found.def.fromText ? found.def.fromText(text) : text;
}

/** Builds a settings layer from stored entries (values are JSON) and validates it like deploy.json. */
export function settingsFromEntries(
  entries: ReadonlyArray<{ key: string; value: unknown }>,
  env: Record<string, EnvVar>,
  where: string,
): Settings {
  const doc: Record<string, unknown> = {};
  for (const { key, value } of entries) {
    const dot = key.indexOf('.');
    const head = dot === -1 ? key : key.slice(0, dot);
    const tail = dot === -1 ? undefined : key.slice(dot + 1);
    if (tail === undefined) {
      doc[head] = value;
    } else {
      const inner = (doc[head] ??= {}) as Record<string, unknown>;
      inner[tail] = value;
    }
  }
  const settings = validateSettings(doc, where);
  if (Object.keys(env).length > 0) settings.env = { ...env };
  return settings;
}

/** The value of a setting (as kept, or as deploy.json writes it) as a person reads it in `deploy config list`. */
export function displaySetting(key: string, value: unknown): string {
  const found = settingDef(key);
  if (!found || found.entry !== undefined) return typeof value === 'string' ? value : JSON.stringify(value);
  return found.def.show(value);
}
