import { formatDuration } from './duration.js';
import { DeployError } from './errors.js';
import { formatPort } from './ports.js';
import { HEALTH_KEYS, nearestName, validateSettings, type Settings } from './settings.js';
import type { EnvVar } from './types.js';
import { formatVolume } from './volumes.js';

/**
 * The names `deploy config` writes settings under: deploy.json's keys, with nested ones dotted. Anything
 * else in `deploy config set KEY=VALUE` is an environment variable (--env forces that reading).
 */
const SETTING_KEYS = ['dockerfile', 'context', 'ports', 'volumes', 'restart', 'retention', 'endpoint', ...HEALTH_KEYS.map((k) => `healthCheck.${k}`)] as const;

export function isSettingKey(key: string): boolean {
  return (SETTING_KEYS as readonly string[]).includes(key) || /^buildArgs\.[A-Za-z_][A-Za-z0-9_]*$/.test(key);
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
    const near = nearestName(key, SETTING_KEYS.filter((k) => !k.includes('.')));
    return near ? new DeployError('config', message, { hint: `Did you mean ${near}? (To set an environment variable of that name, pass --env.)` }) : null;
  }
  // A dotted name cannot be an environment variable, so --env is not offered: the group, then the name in it.
  const head = key.slice(0, dot);
  const tail = key.slice(dot + 1);
  const group = nearestName(head, ['healthCheck', 'buildArgs']);
  let hint = `Settings: ${SETTING_KEYS.join(', ')}, buildArgs.NAME. A name with a dot cannot be an environment variable.`;
  if (group === 'healthCheck') {
    const near = nearestName(tail, HEALTH_KEYS);
    hint = near ? `Did you mean healthCheck.${near}?` : `The health check's settings: ${HEALTH_KEYS.map((k) => `healthCheck.${k}`).join(', ')}.`;
  } else if (group === 'buildArgs') {
    hint = /^[A-Za-z_][A-Za-z0-9_]*$/.test(tail) ? `Did you mean buildArgs.${tail}?` : 'A build arg is buildArgs.NAME, NAME being letters, digits and "_" (not starting with a digit).';
  }
  return new DeployError('config', message, { hint });
}

/** Turns `config set` text into the JSON value deploy.json would hold for that key. */
export function settingValueFromText(key: string, text: string): unknown {
  if (key === 'ports' || key === 'volumes') return text.trim() === '' ? [] : text.split(',').map((p) => p.trim());
  if (key === 'retention' || key === 'healthCheck.port') {
    if (!/^\d+$/.test(text.trim())) {
      throw new DeployError('config', `${key} must be a whole number, not ${JSON.stringify(text)}.`, {
        hint: key === 'retention' ? 'For example: retention=5 (1 to 1000).' : 'For example: healthCheck.port=8080 (1 to 65535).',
      });
    }
    return Number(text.trim());
  }
  if (key === 'healthCheck.path' && (text === 'none' || text === '')) return null;
  return text;
}

/** Builds a settings layer from stored entries (values are JSON) and validates it like deploy.json. */
export function settingsFromEntries(entries: ReadonlyArray<{ key: string; value: unknown }>, env: Record<string, EnvVar>, where: string): Settings {
  const doc: Record<string, unknown> = {};
  for (const { key, value } of entries) {
    const [head, tail] = key.split('.', 2) as [string, string | undefined];
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

/** The value of a setting as a person reads it in `deploy config list`. */
export function displaySetting(key: string, value: unknown): string {
  if (key === 'healthCheck.port' && value === null) return 'first published port';
  if (value === null || value === undefined) return 'none';
  if (key === 'ports' && Array.isArray(value)) {
    return value.length === 0 ? 'none' : value.map((p) => (typeof p === 'string' ? p : formatPort(p as never))).join(', ');
  }
  if (key === 'volumes' && Array.isArray(value)) {
    return value.length === 0 ? 'none' : value.map((v) => (typeof v === 'string' ? v : formatVolume(v as never))).join(', ');
  }
  if (/^healthCheck\.(timeout|interval|settle)$/.test(key) && typeof value === 'number') return formatDuration(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}
