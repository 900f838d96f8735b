import { formatDuration } from './duration.js';
import { DeployError } from './errors.js';
import { formatPort } from './ports.js';
import { HEALTH_KEYS, validateSettings, type Settings } from './settings.js';
import type { EnvVar } from './types.js';

/**
 * The names `deploy config` writes settings under: deploy.json's keys, with nested ones dotted. Anything
 * else in `deploy config set KEY=VALUE` is an environment variable (--env forces that reading).
 */
const SETTING_KEYS = ['dockerfile', 'context', 'ports', 'restart', 'retention', 'endpoint', ...HEALTH_KEYS.map((k) => `healthCheck.${k}`)] as const;

export function isSettingKey(key: string): boolean {
  return (SETTING_KEYS as readonly string[]).includes(key) || /^buildArgs\.[A-Za-z_][A-Za-z0-9_]*$/.test(key);
}

/** Turns `config set` text into the JSON value deploy.json would hold for that key. */
export function settingValueFromText(key: string, text: string): unknown {
  if (key === 'ports') return text.trim() === '' ? [] : text.split(',').map((p) => p.trim());
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
  if (/^healthCheck\.(timeout|interval|settle)$/.test(key) && typeof value === 'number') return formatDuration(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}
