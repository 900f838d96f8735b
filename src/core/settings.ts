import { parseDuration } from './duration.js';
import { assertEnvName, assertEnvValue } from './env.js';
import { isEndpointUrl, normalizeHost } from './endpoint-choice.js';
import { DeployError } from './errors.js';
import { assertAppName } from './ids.js';
import { jsonPath, RESERVED_KEYS, type Position } from './json-source.js';
import { assertNoDuplicatePorts, parsePort } from './ports.js';
import type { EnvVar, HealthCheck, PortMapping, RestartPolicy, VolumeMount } from './types.js';
import { assertNoDuplicateVolumes, parseVolume } from './volumes.js';

/**
 * The settings an app can have, as deploy.json, the app's stored configuration and the user-wide defaults
 * all write them. Each layer sets some of them; `resolveConfig` merges the layers.
 */
export interface Settings {
  app?: string;
  dockerfile?: string;
  context?: string;
  ports?: PortMapping[];
  volumes?: VolumeMount[];
  env?: Record<string, EnvVar>;
  buildArgs?: Record<string, string>;
  healthCheck?: Partial<HealthCheck>;
  restart?: RestartPolicy;
  retention?: number;
  /** The engine the app runs on: a docker context name or a URL (ssh://, tcp://, unix://). */
  endpoint?: string;
}

export const RESTART_POLICIES: readonly RestartPolicy[] = ['no', 'always', 'unless-stopped', 'on-failure'];

/** Where a settings value came from; also the order of precedence, strongest first. */
export type Origin = 'flag' | 'app' | 'deploy.json' | 'global' | 'default';

interface Where {
  file: string;
  positions?: Map<string, Position> | undefined;
}

function invalid(where: Where, path: string, message: string, hint?: string): never {
  const pos = where.positions?.get(path);
  const at = pos ? `${where.file}:${pos.line}:${pos.column}` : where.file;
  throw new DeployError('config', `${at}: ${path}: ${message}`, {
    hint: hint ?? 'Fix the value, then run the command again. The schema is in schema/deploy.schema.json.',
    details: { file: where.file, path, ...(pos ? { line: pos.line, column: pos.column } : {}) },
  });
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function str(where: Where, path: string, v: unknown): string {
  if (typeof v !== 'string') invalid(where, path, `expected a string, found ${typeName(v)}`);
  return v;
}

function record(where: Where, path: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(where, path, `expected an object, found ${typeName(v)}`);
  return v as Record<string, unknown>;
}

function duration(where: Where, path: string, v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (v < 0) invalid(where, path, `a duration cannot be negative (${v})`);
    return Math.round(v * 1000);
  }
  const text = str(where, path, v);
  try {
    return parseDuration(text);
  } catch (e) {
    return invalid(where, path, (e as Error).message, 'Write a duration such as "30s" or "2m", or a number of seconds.');
  }
}

/** Runs a parser that knows nothing of files (parsePort, assertAppName) and places its error in the file. */
function rethrowAt<T>(where: Where, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // Errors raised by invalid() already say where they are.
    if (e instanceof DeployError && e.code !== 'config') invalid(where, path, e.message, e.hint);
    throw e;
  }
}

export const SETTINGS_KEYS = ['app', 'dockerfile', 'context', 'ports', 'volumes', 'env', 'buildArgs', 'healthCheck', 'restart', 'retention', 'endpoint'];
export const HEALTH_KEYS = ['path', 'port', 'timeout', 'interval', 'settle'];

/** Edit distance (a swap of two neighbouring letters counts as one edit), for "did you mean" on a misspelt key. */
function distance(a: string, b: string): number {
  // d[i][j]: the distance between the first i letters of a and the first j letters of b.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]?.[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known name a misspelt one most likely meant (letter case ignored; at most one edit per four letters),
 * or null: "did you mean" for deploy.json's keys and for `deploy config set`.
 */
export function nearestName(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  return (
    known
      .map((k) => ({ k, d: distance(lower, k.toLowerCase()) }))
      .filter(({ d }) => d <= Math.max(1, Math.floor(key.length / 4)))
      .sort((a, b) => a.d - b.d)[0]?.k ?? null
  );
}

function unknownKey(where: Where, path: string, key: string, known: string[]): never {
  const near = nearestName(key, known);
  return invalid(where, jsonPath(path, key), `unknown key ${JSON.stringify(key)}`, near ? `Did you mean "${near}"?` : `Known keys: ${known.join(', ')}.`);
}

/** Validates a parsed settings object (deploy.json or a stored layer); errors name the JSON path and line. */
export function validateSettings(value: unknown, file: string, positions?: Map<string, Position>): Settings {
  const where: Where = { file, positions };
  const root = record(where, '$', value);
  const out: Settings = {};
  for (const [key, v] of Object.entries(root)) {
    const path = jsonPath('$', key);
    switch (key) {
      case '$schema':
        break;
      case 'app':
        out.app = rethrowAt(where, path, () => assertAppName(str(where, path, v), file));
        break;
      case 'dockerfile':
      case 'context': {
        const p = str(where, path, v);
        if (p === '' || p.startsWith('/') || p.split('/').includes('..')) {
          invalid(where, path, `${JSON.stringify(p)} must be a relative path inside the app's directory`);
        }
        out[key] = p;
        break;
      }
      case 'ports': {
        if (!Array.isArray(v)) invalid(where, path, `expected an array of strings such as "8080:80", found ${typeName(v)}`);
        out.ports = (v as unknown[]).map((item, n) => rethrowAt(where, jsonPath(path, n), () => parsePort(str(where, jsonPath(path, n), item))));
        rethrowAt(where, path, () => assertNoDuplicatePorts(out.ports ?? []));
        break;
      }
      case 'volumes': {
        if (!Array.isArray(v)) invalid(where, path, `expected an array of strings such as "data:/data", found ${typeName(v)}`);
        out.volumes = (v as unknown[]).map((item, n) => rethrowAt(where, jsonPath(path, n), () => parseVolume(str(where, jsonPath(path, n), item))));
        rethrowAt(where, path, () => assertNoDuplicateVolumes(out.volumes ?? []));
        break;
      }
      case 'env':
      case 'buildArgs': {
        const obj = record(where, path, v);
        const vars: Record<string, string> = {};
        for (const [name, raw] of Object.entries(obj)) {
          const p = jsonPath(path, name);
          if (RESERVED_KEYS.includes(name)) invalid(where, p, `unknown key ${JSON.stringify(name)}`, `${RESERVED_KEYS.join(', ')} cannot be used as names in ${file}.`);
          rethrowAt(where, p, () => assertEnvName(name, file));
          const text = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : str(where, p, raw);
          vars[name] = rethrowAt(where, p, () => assertEnvValue(name, text, file));
        }
        if (key === 'env') {
          out.env = Object.fromEntries(Object.entries(vars).map(([k, val]) => [k, { value: val, secret: false }]));
        } else {
          out.buildArgs = vars;
        }
        break;
      }
      case 'healthCheck': {
        if (v === false || v === null) {
          out.healthCheck = { path: null };
          break;
        }
        const obj = record(where, path, v);
        const hc: Partial<HealthCheck> = {};
        for (const [hk, hv] of Object.entries(obj)) {
          const p = jsonPath(path, hk);
          switch (hk) {
            case 'path': {
              if (hv === null) {
                hc.path = null;
                break;
              }
              const s = str(where, p, hv);
              if (!s.startsWith('/')) invalid(where, p, `the path must start with "/"`);
              hc.path = s;
              break;
            }
            case 'port':
              if (typeof hv !== 'number' || !Number.isInteger(hv) || hv < 1 || hv > 65535) invalid(where, p, 'expected a port number (1-65535)');
              hc.port = hv;
              break;
            case 'timeout':
              hc.timeoutMs = duration(where, p, hv);
              break;
            case 'interval':
              hc.intervalMs = duration(where, p, hv);
              break;
            case 'settle':
              hc.settleMs = duration(where, p, hv);
              break;
            default:
              unknownKey(where, path, hk, HEALTH_KEYS);
          }
        }
        out.healthCheck = hc;
        break;
      }
      case 'restart': {
        const s = str(where, path, v);
        if (!RESTART_POLICIES.includes(s as RestartPolicy)) invalid(where, path, `expected one of ${RESTART_POLICIES.join(', ')}`);
        out.restart = s as RestartPolicy;
        break;
      }
      case 'retention':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000) invalid(where, path, 'expected a whole number from 1 to 1000');
        out.retention = v;
        break;
      case 'endpoint': {
        const e = str(where, path, v).trim();
        if (isEndpointUrl(e)) rethrowAt(where, path, () => normalizeHost(e));
        else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/.test(e)) invalid(where, path, `${JSON.stringify(e)} is neither a URL (ssh://, tcp://, unix://) nor a docker context name`);
        out.endpoint = e;
        break;
      }
      default:
        unknownKey(where, '$', key, SETTINGS_KEYS);
    }
  }
  return out;
}
