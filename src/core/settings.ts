import { assertEnvName, assertEnvValue } from './env.js';
import { DeployError } from './errors.js';
import { assertAppName } from './ids.js';
import { jsonPath, RESERVED_KEYS, type Position } from './json-source.js';
import { GROUPS, groupFields, SETTINGS, TOP_LEVEL_KEYS, type Fail, type SettingDef } from './setting-table.js';
import type { EnvVar, HealthCheck, PortMapping, RestartPolicy, VolumeMount } from './types.js';

/**
 * The settings an app can have, as deploy.json, the app's stored configuration and the user-wide defaults
 * all write them. Each layer sets some of them; `resolveConfig` merges the layers. What each one means, and
 * how it is checked, shown and merged, is in setting-table.ts.
 */
export interface Settings {
  app?: string;
  dockerfile?: string;
  context?: string;
  ports?: PortMapping[];
  volumes?: VolumeMount[];
  env?: Record<string, EnvVar>;
  buildArgs?: Record<string, string>;
  buildTarget?: string | null;
  buildSecrets?: string[];
  healthCheck?: Partial<HealthCheck>;
  restart?: RestartPolicy;
  retention?: number;
  memory?: number | null;
  cpus?: number | null;
  command?: string[] | null;
  entrypoint?: string[] | null;
  user?: string | null;
  extraHosts?: string[];
  labels?: Record<string, string>;
  networks?: string[];
  logDriver?: string | null;
  logOptions?: Record<string, string>;
  stopSignal?: string | null;
  stopTimeoutMs?: number | null;
  init?: boolean;
  runtime?: 'containers' | 'swarm';
  replicas?: number;
  /** The Docker endpoints of the swarm's other nodes (runtime swarm). */
  nodes?: string[];
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

export const SETTINGS_KEYS: readonly string[] = TOP_LEVEL_KEYS;
export const HEALTH_KEYS: readonly string[] = groupFields('healthCheck').map((d) => d.name);

/** Edit distance (a swap of two neighbouring letters counts as one edit), for "did you mean" on a misspelt key. */
function distance(a: string, b: string): number {
  // d[i][j]: the distance between the first i letters of a and the first j letters of b.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
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
  return invalid(
    where,
    jsonPath(path, key),
    `unknown key ${JSON.stringify(key)}`,
    near ? `Did you mean "${near}"?` : `Known keys: ${known.join(', ')}.`,
  );
}

function record(where: Where, path: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    invalid(
      where,
      path,
      `expected an object, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`}`,
    );
  return v as Record<string, unknown>;
}

/** Checks a map's NAME → text entries one by one, so an error names the entry and its line. */
function mapEntries(
  where: Where,
  path: string,
  v: unknown,
  def: SettingDef | null,
  out: Record<string, unknown>,
): Record<string, unknown> {
  const obj = record(where, path, v);
  for (const [name, raw] of Object.entries(obj)) {
    const p = jsonPath(path, name);
    if (RESERVED_KEYS.includes(name))
      invalid(
        where,
        p,
        `unknown key ${JSON.stringify(name)}`,
        `${RESERVED_KEYS.join(', ')} cannot be used as names in ${where.file}.`,
      );
    if (def === null) {
      rethrowAt(where, p, () => assertEnvName(name, where.file));
      const text =
        typeof raw === 'number' || typeof raw === 'boolean'
          ? String(raw)
          : typeof raw === 'string'
            ? raw
            : invalid(
                where,
                p,
                `expected a string, found ${raw === null ? 'null' : typeof raw === 'object' ? 'an object' : `a ${typeof raw}`}`,
              );
      out[name] = { value: rethrowAt(where, p, () => assertEnvValue(name, text, where.file)), secret: false };
      continue;
    }
    rethrowAt(where, p, () => def.map?.check(name, where.file), `For example: ${def.map?.example}.`);
    Object.assign(out, def.parse({ [name]: raw }, failAt(where, p)));
  }
  return out;
}

function failAt(where: Where, path: string): Fail {
  return (message, hint, item) => invalid(where, item === undefined ? path : jsonPath(path, item), message, hint);
}

/** Runs a parser that knows nothing of files (assertAppName) and places its error in the file. */
function rethrowAt<T>(where: Where, path: string, fn: () => T, hint?: string): T {
  try {
    return fn();
  } catch (e) {
    // Errors raised by invalid() already say where they are.
    if (e instanceof DeployError && !(e.details && 'path' in e.details))
      invalid(where, path, e.message, e.hint ?? hint);
    throw e;
  }
}

/** Validates a parsed settings object (deploy.json or a stored layer); errors name the JSON path and line. */
export function validateSettings(value: unknown, file: string, positions?: Map<string, Position>): Settings {
  const where: Where = { file, positions };
  const root = record(where, '$', value);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(root)) {
    const path = jsonPath('$', key);
    if (key === '$schema') continue;
    if (key === 'app') {
      if (typeof v !== 'string')
        invalid(
          where,
          path,
          `expected a string, found ${v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`}`,
        );
      out.app = rethrowAt(where, path, () => assertAppName(v as string, file));
    } else if (key === 'env') {
      out.env = mapEntries(where, path, v, null, {});
    } else if ((GROUPS as readonly string[]).includes(key)) {
      // `"healthCheck": false` (or null) turns the HTTP check off.
      if (key === 'healthCheck' && (v === false || v === null)) {
        out.healthCheck = { path: null };
        continue;
      }
      const obj = record(where, path, v);
      const fields = groupFields(key);
      const group: Record<string, unknown> = {};
      for (const [name, fv] of Object.entries(obj)) {
        const def = fields.find((d) => d.name === name);
        if (!def)
          unknownKey(
            where,
            path,
            name,
            fields.map((d) => d.name),
          );
        group[def.field] = def.parse(fv, failAt(where, jsonPath(path, name)));
      }
      out[key] = group;
    } else {
      const def = SETTINGS.find((d) => !d.group && d.name === key);
      if (!def) unknownKey(where, '$', key, [...SETTINGS_KEYS]);
      out[def.field] = def.map ? mapEntries(where, path, v, def, {}) : def.parse(v, failAt(where, path));
    }
  }
  return out as Settings;
}
