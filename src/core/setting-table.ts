import { isIP } from 'node:net';
import { parseBuildSecret } from './build-secrets.js';
import { parseDuration } from './duration.js';
import { assertEnvName, assertEnvValue } from './env.js';
import { isEndpointUrl, normalizeHost } from './endpoint-choice.js';
import { DeployError } from './errors.js';
import { parseRegistrySetting } from './image-ref.js';
import { assertNoDuplicatePorts, formatPort, parsePort } from './ports.js';
import type { DeployConfig } from './types.js';
import { assertNoDuplicateVolumes, formatVolume, parseVolume } from './volumes.js';

/**
 * Every setting an app can have, defined once: its name in deploy.json and `deploy config`, how a value is
 * checked (with the line it came from), read from `config set` text, merged across layers, shown, compared and
 * printed in `--json`, its default, whether the image depends on it, and its JSON Schema. Everything else —
 * validation, `config set`/`list`, resolving layers, snapshots, redeploy's overrides, the plan's diff, the public
 * record, schema/deploy.schema.json — is derived from this table. A new setting is one entry here.
 */

/** Raises a validation failure at the value being checked (or at its item `at`): the message, and the next step. */
export type Fail = (message: string, hint?: string, at?: string | number) => never;

export interface SettingDef {
  /** The name in deploy.json (inside `group` when there is one); `deploy config` dots a group's names. */
  name: string;
  /** Where the value is kept in the typed Settings and DeployConfig (inside `group` when there is one). */
  field: string;
  group?: 'healthCheck';
  /**
   * A map of NAME → text merged name by name across layers (`config set buildArgs.NAME=...`); `check` refuses a
   * name (`where`: the file or layer). Other settings come whole from the strongest layer that sets them.
   */
  map?: { check: (name: string, where: string) => void; example: string };
  default: unknown;
  /**
   * The value a snapshot made before the setting existed had (default: `default`): what the release really ran
   * with, not what a new one gets.
   */
  before?: unknown;
  /** The deploy.json value → the value kept; refuses through `fail`. */
  parse(value: unknown, fail: Fail): unknown;
  /** `deploy config set KEY=TEXT` → the deploy.json value (default: the text). */
  fromText?(text: string): unknown;
  /** How a person reads the kept value (config list, plan, inspect, the diff). */
  show(value: unknown): string;
  /** The kept value as `--json` prints it and deploy.json writes it (default: as kept). */
  json?(value: unknown): unknown;
  /** The image depends on it: a changed value needs a new build (a redeploy rebuilds). */
  build?: boolean;
  /** Not part of a deployment's snapshot: where the app runs, not how. */
  notInSnapshot?: boolean;
  /** Shown on its own line in plans and `inspect` when it is not the default. */
  listed?: boolean;
  schema: Record<string, unknown>;
  /** The docker CLI option it stands for, for README's table. */
  docker?: string;
}

// ---- value checkers shared by the entries -------------------------------------------------------------------

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function text(v: unknown, fail: Fail, item?: number): string {
  if (typeof v !== 'string') fail(`expected a string, found ${typeName(v)}`, undefined, item);
  return v as string;
}

function list(v: unknown, fail: Fail, example: string): unknown[] {
  if (!Array.isArray(v)) fail(`expected an array of strings such as ${example}, found ${typeName(v)}`);
  return v as unknown[];
}

/** Runs a parser that knows nothing of files (parsePort, parseVolume) and places its error at the value. */
function at<T>(fail: Fail, fn: () => T, item?: number): T {
  try {
    return fn();
  } catch (e) {
    // An error raised by fail() already says where it is.
    if (e instanceof DeployError && !(e.details && 'path' in e.details)) fail(e.message, e.hint, item);
    throw e;
  }
}

function duration(v: unknown, fail: Fail): number {
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (v < 0) fail(`a duration cannot be negative (${v})`);
    return Math.round(v * 1000);
  }
  const t = text(v, fail);
  try {
    return parseDuration(t);
  } catch (e) {
    return fail((e as Error).message, 'Write a duration such as "30s" or "2m", or a number of seconds.');
  }
}

function relativePath(v: unknown, fail: Fail): string {
  const p = text(v, fail);
  if (p === '' || p.startsWith('/') || p.split('/').includes('..'))
    fail(`${JSON.stringify(p)} must be a relative path inside the app's directory`);
  return p;
}

function wholeNumberText(key: string, example: string) {
  return (t: string): unknown => {
    if (!/^\d+$/.test(t.trim()))
      throw new DeployError('config', `${key} must be a whole number, not ${JSON.stringify(t)}.`, {
        hint: `For example: ${example}.`,
      });
    return Number(t.trim());
  };
}

/** A Docker endpoint as -H or --context names one: a URL (ssh://, tcp://, unix://) or a docker context name. */
function endpointText(v: unknown, fail: Fail, item?: number): string {
  const e = text(v, fail, item).trim();
  if (isEndpointUrl(e)) at(fail, () => normalizeHost(e), item);
  else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/.test(e))
    fail(`${JSON.stringify(e)} is neither a URL (ssh://, tcp://, unix://) nor a docker context name`, undefined, item);
  return e;
}

/** A count kept as a whole number from 1 to 1000 (retention, replicas). */
function oneToThousand(v: unknown, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000)
    fail('expected a whole number from 1 to 1000');
  return v as number;
}

const commaList = (t: string): unknown => (t.trim() === '' ? [] : t.split(',').map((p) => p.trim()));
const nullable = (t: string): unknown => (t === '' || t === 'none' ? null : t);
const orNone = (v: unknown): string => (v === null || v === undefined ? 'none' : String(v));
const listShow = (v: unknown): string => ((v as string[]).length === 0 ? 'none' : (v as string[]).join(', '));
const mapShow = (v: unknown): string => String(v);

/**
 * A command line as one string → its words, as a POSIX shell splits them (quotes and backslashes, no
 * expansion): how `command` and `entrypoint` read a string, as Compose does.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    const next = line.charAt(i + 1);
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && next !== '' && '"\\$`'.includes(next)) word += line.charAt(++i);
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && next !== '') {
      word += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote)
    throw new DeployError('config', `unterminated ${quote} quote in ${JSON.stringify(line)}`, {
      hint: 'Close the quote, or write the words as a JSON array.',
    });
  if (inWord) words.push(word);
  return words;
}

/** Words → one line a shell would split back into them. */
export function joinWords(words: readonly string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function words(v: unknown, fail: Fail): string[] {
  if (typeof v === 'string') return at(fail, () => splitWords(v));
  if (!Array.isArray(v) || v.some((w) => typeof w !== 'string'))
    fail(`expected a string or an array of strings, found ${typeName(v)}`);
  return [...(v as string[])];
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** docker's memory sizes: 512m, 1g, 1.5g, 64k, or a number of bytes; units are powers of 1024. */
export function parseBytes(v: unknown, fail: Fail): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  const t = text(v, fail).trim().toLowerCase();
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/.exec(t);
  if (!m)
    return fail(
      `${JSON.stringify(v)} is not a size`,
      'Write it as docker does: 512m, 1g, 1.5g (k, m, g are powers of 1024).',
    );
  return Math.round(Number(m[1]) * (UNITS[m[2] as string] as number));
}

/** Bytes → the shortest docker size that is exact (536870912 → 512m). */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const) {
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}b`;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** A DNS hostname (labels of letters, digits and inner hyphens), or a wildcard's first label. */
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A setting naming a PEM file on this machine (checked for being one when a deploy reads it); null: none. */
function pemFile(name: string, description: string): SettingDef {
  return {
    name,
    field: name,
    default: null,
    parse: (v, fail) => {
      if (v === null) return null;
      const t = text(v, fail).trim();
      if (t === '') fail('expected a file path');
      return t;
    },
    fromText: nullable,
    show: orNone,
    listed: true,
    schema: { description, oneOf: [{ type: 'string' }, { type: 'null' }] },
  };
}

/**
 * A list setting given as an array (comma-separated to `config set`): each item checked by `item` at its
 * position, then the whole list by `whole`; `format` writes an item back (its `--json` form).
 */
function listSetting<T>(o: {
  name: string;
  example: string;
  item: (v: unknown, fail: Fail, i: number) => T;
  whole: (items: T[], fail: Fail) => void;
  format?: (item: T) => string;
  listed?: boolean;
  docker?: string;
  description: string;
  pattern?: string;
  examples: unknown[];
}): SettingDef {
  const format = o.format ?? String;
  return {
    name: o.name,
    field: o.name,
    default: [],
    parse: (v, fail) => {
      const items = list(v, fail, o.example).map((item, i) => o.item(item, fail, i));
      o.whole(items, fail);
      return items;
    },
    fromText: commaList,
    show: (v) => ((v as T[]).length === 0 ? 'none' : (v as T[]).map(format).join(', ')),
    ...(o.format === undefined ? {} : { json: (v: unknown) => (v as T[]).map(format) }),
    ...(o.listed ? { listed: true } : {}),
    ...(o.docker === undefined ? {} : { docker: o.docker }),
    schema: {
      description: o.description,
      type: 'array',
      items: o.pattern === undefined ? { type: 'string' } : { type: 'string', pattern: o.pattern },
      examples: o.examples,
    },
  };
}

/** A list item in docker's own syntax, parsed at its position. */
const spec =
  <T>(parse: (text: string) => T) =>
  (v: unknown, fail: Fail, n: number): T =>
    at(fail, () => parse(text(v, fail, n)), n);

/** The whole list refused, in `fail`'s words, by a check that throws. */
const checked =
  <T>(check: (items: T[]) => void) =>
  (items: T[], fail: Fail): void =>
    void at(fail, () => check(items));

/** No item twice. */
const noneTwice =
  (message: string) =>
  (items: unknown[], fail: Fail): void => {
    if (new Set(items).size !== items.length) fail(message);
  };

/** Text that must match `pattern`, else "TEXT is not WHAT" with a hint. */
function matching(pattern: RegExp, what: string, hint: string) {
  return (t: string, fail: Fail): string => {
    if (!pattern.test(t)) fail(`${JSON.stringify(t)} is not ${what}`, hint);
    return t;
  };
}

/** A text setting whose absence (null) means the image's own value, shown as `image`. */
function imageOrText(o: {
  name: string;
  parse: (text: string, fail: Fail, given: unknown) => string;
  image: string;
  docker: string;
  schema: Record<string, unknown>;
}): SettingDef {
  return {
    name: o.name,
    field: o.name,
    default: null,
    parse: (v, fail) => (v === null ? null : o.parse(text(v, fail), fail, v)),
    fromText: nullable,
    show: (v) => (v === null ? o.image : String(v)),
    listed: true,
    docker: o.docker,
    schema: o.schema,
  };
}

/** A duration setting kept in milliseconds, shown as 30s and printed in --json as seconds. */
function durationSetting(name: string, field: string, ms: number, max: number, description: string): SettingDef {
  return {
    name,
    field,
    default: ms,
    parse: (v, fail) => {
      const value = duration(v, fail);
      if (value > max) fail(`at most ${formatSettingDuration(max)}`);
      return value;
    },
    show: (v) => formatSettingDuration(v as number),
    json: (v) => (v as number) / 1000,
    listed: true,
    schema: { description, $ref: '#/$defs/duration' },
  };
}

/** A duration setting as it could be written back: 500ms, 3s, 1.5s, 2m, 1m30s, 1h. */
export function formatSettingDuration(ms: number): string {
  if (ms < 1000 || ms % 100 !== 0) return `${ms}ms`;
  if (ms % 1000 !== 0) return `${ms / 1000}s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sec = (ms % 60_000) / 1000;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${sec ? `${sec}s` : ''}`;
}

// ---- the table ------------------------------------------------------------------------------------------------

export const SETTINGS: readonly SettingDef[] = [
  {
    name: 'dockerfile',
    field: 'dockerfile',
    default: 'Dockerfile',
    parse: relativePath,
    show: String,
    build: true,
    docker: 'docker build -f',
    schema: {
      description: 'Path of the Dockerfile, relative to the build context.',
      type: 'string',
      default: 'Dockerfile',
    },
  },
  {
    name: 'context',
    field: 'context',
    default: '.',
    parse: relativePath,
    show: String,
    build: true,
    docker: 'docker build PATH',
    schema: { description: "Build context, relative to the app's directory.", type: 'string', default: '.' },
  },
  {
    name: 'buildArgs',
    field: 'buildArgs',
    map: { check: (name, where) => void assertEnvName(name, where), example: 'buildArgs.NODE_ENV=production' },
    default: {},
    parse: (v, fail) => textMap(v, fail, (name, value, f) => at(f, () => assertEnvValue(name, value, 'buildArgs'))),
    show: mapShow,
    build: true,
    docker: 'docker build --build-arg',
    schema: {
      description:
        "Build arguments (ARG) passed to the build. They are visible in the image's history: never put secrets here (use buildSecrets).",
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  },
  {
    name: 'buildTarget',
    field: 'buildTarget',
    default: null,
    parse: (v, fail) => {
      if (v === null) return null;
      const t = text(v, fail);
      if (!NAME.test(t))
        fail(`${JSON.stringify(t)} is not a stage name`, 'Give the name after AS in a FROM line of the Dockerfile.');
      return t;
    },
    fromText: nullable,
    show: orNone,
    build: true,
    listed: true,
    docker: 'docker build --target',
    schema: {
      description: 'The Dockerfile stage to build (the name after AS in a FROM line); default: the last stage.',
      type: ['string', 'null'],
      pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
    },
  },
  {
    name: 'buildSecrets',
    field: 'buildSecrets',
    default: [],
    parse: (v, fail) => {
      const items = list(v, fail, '"id=npmrc,src=~/.npmrc"').map((item, n) => text(item, fail, n));
      const ids = new Set<string>();
      items.forEach((item, n) => {
        // Checked as docker reads it; where the value comes from is resolved when the build runs.
        const { id } = at(
          fail,
          () => parseBuildSecret(item, { cwd: '/', home: '/', env: {}, where: 'build secret' }),
          n,
        );
        if (ids.has(id)) fail(`the build secret ${id} is given twice`);
        ids.add(id);
      });
      return items;
    },
    fromText: (t) => (t.trim() === '' ? [] : t.split(/\s*;\s*/).filter(Boolean)),
    show: listShow,
    build: true,
    listed: true,
    docker: 'docker build --secret',
    schema: {
      description:
        'BuildKit secrets for RUN --mount=type=secret, as docker build --secret writes them: id=ID,src=PATH (a file; relative to where deploy runs, ~/ allowed) or id=ID,env=VAR. Only where the value comes from is kept; the value is never in a layer, a label, the record or any output.',
      type: 'array',
      items: { type: 'string', pattern: '(^|,)id=[^,]+' },
      examples: [['id=npmrc,src=~/.npmrc', 'id=token,env=NPM_TOKEN']],
    },
  },
  listSetting({
    name: 'ports',
    example: '"8080:80"',
    item: spec(parsePort),
    whole: checked(assertNoDuplicatePorts),
    format: formatPort,
    docker: 'docker run -p',
    description: 'Ports to publish, as `docker run -p` writes them: [IP:]HOST:CONTAINER[/tcp|/udp].',
    pattern: '^(\\[[0-9a-fA-F:.]+\\]:|[0-9.]+:)?[0-9]{1,5}:[0-9]{1,5}(/(tcp|udp))?$',
    examples: [['127.0.0.1:8080:8080']],
  }),
  listSetting({
    name: 'volumes',
    example: '"data:/data"',
    item: spec(parseVolume),
    whole: checked(assertNoDuplicateVolumes),
    format: formatVolume,
    docker: 'docker run -v',
    description:
      'Data kept across every release, rollback and restart: NAME:/path (a volume kept per app, deploy-APP-NAME on the engine) or /host/path:/path (a bind mount), with :ro for read-only. A path the image declares as VOLUME and that is not mapped here gets a volume of its own per app.',
    pattern: '^([a-zA-Z0-9][a-zA-Z0-9_.-]*|/[^:]*):/[^:]*(:(ro|rw))?$',
    examples: [['data:/data', '/srv/uploads:/uploads:ro']],
  }),
  ...healthCheckFields(),
  {
    name: 'restart',
    field: 'restart',
    default: 'unless-stopped',
    parse: (v, fail) => {
      const t = text(v, fail);
      const m = /^on-failure:(\d+)$/.exec(t);
      if (m && Number(m[1]) >= 1 && Number(m[1]) <= 1000) return t;
      if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(t))
        fail('expected one of no, always, unless-stopped, on-failure, on-failure:N (N retries, 1 to 1000)');
      return t;
    },
    show: String,
    docker: 'docker run --restart',
    schema: {
      description:
        "The container's restart policy, as docker run --restart writes it; on-failure alone retries 5 times.",
      type: 'string',
      pattern: '^(no|always|unless-stopped|on-failure(:[0-9]+)?)$',
      default: 'unless-stopped',
    },
  },
  {
    name: 'memory',
    field: 'memory',
    default: null,
    parse: (v, fail) => {
      if (v === null) return null;
      const n = parseBytes(v, fail);
      if (n < 6 * 1024 * 1024) fail(`${formatBytes(n)} is below the engine's minimum of 6m`);
      return n;
    },
    fromText: nullable,
    show: (v) => (v === null ? 'none' : formatBytes(v as number)),
    json: (v) => (v === null ? null : formatBytes(v as number)),
    listed: true,
    docker: 'docker run -m/--memory',
    schema: {
      description: 'Memory limit, as docker run --memory writes it: 512m, 1g (powers of 1024).',
      type: ['string', 'integer', 'null'],
      pattern: '^[0-9]+(\\.[0-9]+)?[bkmgtBKMGT]?[bB]?$',
      examples: ['512m'],
    },
  },
  {
    name: 'cpus',
    field: 'cpus',
    default: null,
    parse: (v, fail) => {
      if (v === null) return null;
      const n =
        typeof v === 'number' ? v : /^\d+(\.\d+)?$/.test(text(v, fail).trim()) ? Number((v as string).trim()) : NaN;
      if (!Number.isFinite(n) || n < 0.01 || n > 1024)
        fail(`${JSON.stringify(v)} is not a number of CPUs`, 'For example: 0.5, 1, 2 (at least 0.01).');
      return Math.round(n * 100) / 100;
    },
    fromText: nullable,
    show: orNone,
    listed: true,
    docker: 'docker run --cpus',
    schema: {
      description: 'CPU limit in CPUs, as docker run --cpus: 0.5, 2.',
      type: ['number', 'string', 'null'],
      minimum: 0.01,
    },
  },
  ...['command', 'entrypoint'].map((name): SettingDef => ({
    name,
    field: name,
    default: null,
    parse: (v, fail) => (v === null ? null : words(v, fail)),
    fromText: (t) => (t === 'none' ? null : t),
    show: (v) => (v === null ? "the image's" : (v as string[]).length === 0 ? '(empty)' : joinWords(v as string[])),
    listed: true,
    docker: name === 'command' ? 'docker run IMAGE COMMAND' : 'docker run --entrypoint',
    schema: {
      description:
        name === 'command'
          ? "Replaces the image's CMD: an array of words, or one string split as a shell splits it (no shell runs it)."
          : 'Replaces the image\'s ENTRYPOINT: an array of words, or one string split as a shell splits it; [] or "" clears it.',
      type: ['array', 'string', 'null'],
      items: { type: 'string' },
    },
  })),
  imageOrText({
    name: 'user',
    parse: matching(
      /^[a-zA-Z0-9_][a-zA-Z0-9_.-]*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]*)?$/,
      'a user',
      'Write USER, UID, USER:GROUP or UID:GID.',
    ),
    image: "the image's",
    docker: 'docker run -u/--user',
    schema: {
      description: "The user the app runs as: USER, UID, USER:GROUP or UID:GID; default: the image's USER.",
      type: ['string', 'null'],
    },
  }),
  {
    name: 'extraHosts',
    field: 'extraHosts',
    default: [],
    parse: (v, fail) =>
      list(v, fail, '"db.internal:10.0.0.5"').map((item) => {
        const t = text(item, fail);
        const sep = t.search(/[:=]/);
        const host = t.slice(0, sep);
        const ip = t.slice(sep + 1).replace(/^\[(.*)\]$/, '$1');
        if (
          sep <= 0 ||
          !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host) ||
          (ip !== 'host-gateway' && isIP(ip) === 0)
        ) {
          fail(
            `${JSON.stringify(t)} is not HOST:IP`,
            'For example: db.internal:10.0.0.5, or host.docker.internal:host-gateway.',
          );
        }
        return `${host}:${ip}`;
      }),
    fromText: commaList,
    show: listShow,
    listed: true,
    docker: 'docker run --add-host',
    schema: {
      description: "Lines added to the container's /etc/hosts: HOST:IP (host-gateway for the engine's host).",
      type: 'array',
      items: { type: 'string' },
      examples: [['host.docker.internal:host-gateway']],
    },
  },
  {
    name: 'labels',
    field: 'labels',
    map: {
      check: (n) => {
        if (!/^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/.test(n))
          throw new DeployError(
            'config',
            `${JSON.stringify(n)} is not a label name: a label is letters, digits, ".", "_", "/" and "-".`,
          );
        if (n.startsWith('dev.deploy.'))
          throw new DeployError('config', `${n}: labels starting with dev.deploy. are the tool's own.`, {
            hint: 'Name it after your own domain: com.example.team.',
          });
      },
      example: 'labels.com.example.team=payments',
    },
    default: {},
    parse: (v, fail) => textMap(v, fail, (_name, value) => value),
    show: mapShow,
    listed: true,
    docker: 'docker run -l/--label',
    schema: {
      description: "Labels of the app's containers, beside the tool's own (dev.deploy.*).",
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
  },
  listSetting({
    name: 'networks',
    example: '"backend"',
    item: (item, fail) => {
      const n = text(item, fail);
      if (n === 'host' || n === 'none' || n.startsWith('container:'))
        fail(
          `${n} networking is not supported`,
          "Publish ports and join user-defined networks; the health gate needs the app's own network.",
        );
      if (!NAME.test(n)) fail(`${JSON.stringify(n)} is not a network name`);
      return n;
    },
    whole: noneTwice('a network is listed twice'),
    listed: true,
    docker: 'docker run --network',
    description:
      "Networks the container joins (made beforehand with docker network create), where other containers reach it by the app's name. Default: the engine's default bridge.",
    examples: [['backend']],
  }),
  imageOrText({
    name: 'logDriver',
    parse: matching(
      /^[a-z0-9][a-z0-9_./:-]*$/,
      'a log driver',
      'For example: json-file, local, journald, syslog, fluentd.',
    ),
    image: 'json-file (3 × 10m)',
    docker: 'docker run --log-driver',
    schema: {
      description:
        'The log driver; default json-file kept to 3 files of 10 MB (logOptions max-size and max-file change that).',
      type: ['string', 'null'],
    },
  }),
  {
    name: 'logOptions',
    field: 'logOptions',
    map: {
      check: (n) => {
        if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(n))
          throw new DeployError(
            'config',
            `${JSON.stringify(n)} is not a log option: a log option is letters, digits, ".", "_" and "-".`,
          );
      },
      example: 'logOptions.max-size=50m',
    },
    default: {},
    parse: (v, fail) => textMap(v, fail, (_name, value) => value),
    show: mapShow,
    listed: true,
    docker: 'docker run --log-opt',
    schema: {
      description: 'Options of the log driver, as docker run --log-opt.',
      type: 'object',
      additionalProperties: { type: ['string', 'number'] },
    },
  },
  imageOrText({
    name: 'stopSignal',
    parse: (given, fail, v) => {
      const t = given.toUpperCase();
      if (!/^(SIG)?[A-Z][A-Z0-9]*(\+\d+)?$|^\d+$/.test(t))
        fail(`${JSON.stringify(v)} is not a signal`, 'For example: SIGQUIT, SIGINT, SIGTERM.');
      return /^\d+$/.test(t) || t.startsWith('SIG') ? t : `SIG${t}`;
    },
    image: "the image's (SIGTERM)",
    docker: 'docker run --stop-signal',
    schema: {
      description: "The signal that asks the app to stop; default: the image's STOPSIGNAL, else SIGTERM.",
      type: ['string', 'null'],
      examples: ['SIGQUIT'],
    },
  }),
  {
    name: 'stopTimeout',
    field: 'stopTimeoutMs',
    default: null,
    parse: (v, fail) => {
      if (v === null) return null;
      const ms = duration(v, fail);
      if (ms > 3_600_000) fail('at most 1h');
      return Math.ceil(ms / 1000) * 1000;
    },
    fromText: nullable,
    show: (v) => (v === null ? '10s' : formatSettingDuration(v as number)),
    json: (v) => (v === null ? null : (v as number) / 1000),
    listed: true,
    docker: 'docker run --stop-timeout',
    schema: {
      description: 'How long the app gets to stop before it is killed, in whole seconds (default 10s).',
      oneOf: [{ $ref: '#/$defs/duration' }, { type: 'null' }],
    },
  },
  {
    name: 'init',
    field: 'init',
    default: true,
    parse: (v, fail) => {
      if (typeof v !== 'boolean') fail(`expected true or false, found ${typeName(v)}`);
      return v;
    },
    fromText: (t) => (t === 'true' ? true : t === 'false' ? false : t),
    show: String,
    listed: true,
    docker: 'docker run --init',
    schema: {
      description:
        'Run the app under docker-init as PID 1 (reaps zombies, forwards signals). Default true; set false for images with their own init (s6-overlay, tini, dumb-init).',
      type: 'boolean',
      default: true,
    },
  },
  {
    name: 'proxy',
    field: 'proxy',
    // The front door owns an app's ports unless the app says otherwise (README "Zero-downtime switches").
    default: true,
    // Releases made before the front door published their ports themselves.
    before: false,
    parse: (v, fail) => {
      if (typeof v !== 'boolean' && v !== 'tcp')
        fail(
          `expected true, false or "tcp", found ${typeName(v)}`,
          'true: HTTP through the front door; "tcp": raw TCP through it (new connections go to the new release); false: the containers publish the ports.',
        );
      return v;
    },
    fromText: (t) => (t === 'true' ? true : t === 'false' ? false : t),
    show: String,
    listed: true,
    schema: {
      description:
        'Whether the engine\'s front door owns the app\'s published ports (zero-downtime switches, drain, bake window, pause): true for HTTP, "tcp" for another protocol over TCP (new connections go to the new release, old ones drain). ' +
        "false publishes them on the app's own containers (a moment without service on each switch when a port is fixed). Default true.",
      oneOf: [{ type: 'boolean' }, { const: 'tcp' }],
      default: true,
    },
  },
  listSetting({
    name: 'domains',
    example: '"app.example.com"',
    item: (item, fail, i) => {
      const t = text(item, fail, i).toLowerCase();
      if (!HOSTNAME.test(t) || t.length > 253)
        fail(
          `${JSON.stringify(t)} is not a hostname`,
          'For example: app.example.com (no scheme, no port, no path).',
          i,
        );
      return t;
    },
    whole: noneTwice('a domain is listed twice'),
    listed: true,
    description:
      'Hostnames the front door routes to the app, so that several apps share ports 80/443 (by Host header, and by SNI with TLS). Empty: the app owns its ports.',
    examples: [['app.example.com']],
  }),
  pemFile(
    'tlsCertificate',
    "A PEM certificate (chain) file the front door serves for the app's domains on its TLS ports (with tlsKey); a path on this machine, relative to the app's directory. Read at each deploy; only the path is recorded.",
  ),
  pemFile(
    'tlsKey',
    'The PEM private key file of tlsCertificate; a path on this machine. Read at each deploy and given only to the front door; never recorded, printed or labelled.',
  ),
  durationSetting(
    'drainTimeout',
    'drainTimeoutMs',
    30_000,
    3_600_000,
    'How long requests in flight on the old release may take to finish after the front door switches (streams get longer; see README). Default 30s.',
  ),
  durationSetting(
    'bakeWindow',
    'bakeWindowMs',
    60_000,
    86_400_000,
    'How long after a switch the old release keeps running while the front door keeps checking the new one: it switches back at once if the new one fails, and `deploy rollback` inside it is a swap back. 0 turns it off. Default 60s.',
  ),
  {
    name: 'retention',
    field: 'retention',
    default: 5,
    parse: oneToThousand,
    fromText: wholeNumberText('retention', 'retention=5 (1 to 1000)'),
    show: String,
    schema: {
      description: 'How many successful images of the app to keep besides the running one, for fast rollbacks.',
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 5,
    },
  },
  {
    name: 'registry',
    field: 'registry',
    default: null,
    parse: (v, fail) => {
      if (v === null) return null;
      const t = text(v, fail);
      try {
        return parseRegistrySetting(t);
      } catch (error) {
        return fail(
          (error as Error).message,
          'Write it as docker names a repository: HOST[:PORT][/PATH], e.g. registry.example.com/team.',
        );
      }
    },
    fromText: nullable,
    show: orNone,
    listed: true,
    schema: {
      description:
        "A registry to push every release to, as REGISTRY/APP:ID (HOST[:PORT][/PATH], e.g. registry.example.com/team), with the credentials of docker login or a credential helper. The record keeps the registry digest, and an engine that lacks a release's image pulls it by that digest. null: images stay on the engine that built them.",
      type: ['string', 'null'],
      pattern:
        '^(localhost(:[0-9]{1,5})?|[a-zA-Z0-9-]+(\\.[a-zA-Z0-9-]+)+(:[0-9]{1,5})?|[a-zA-Z0-9-]+:[0-9]{1,5})(/[a-z0-9]+((\\.|_{1,2}|-+)[a-z0-9]+)*)*/?$',
      examples: ['registry.example.com/team', '127.0.0.1:5000'],
    },
  },
  {
    name: 'runtime',
    field: 'runtime',
    default: 'containers',
    // Every release before this setting ran as a container.
    before: 'containers',
    parse: (v, fail) => {
      if (v !== 'containers' && v !== 'swarm')
        fail(
          `expected "containers" or "swarm", found ${JSON.stringify(v)}`,
          'containers: one container on the engine; swarm: a Swarm service on a manager (docker swarm init).',
        );
      return v;
    },
    show: String,
    listed: true,
    schema: {
      description:
        'What runs a release: "containers", one container on the engine; "swarm", a Swarm service on the engine, which must be a swarm manager (docker swarm init), with `replicas` tasks over its nodes. Moving an app from one to the other asks for confirmation (--yes).',
      enum: ['containers', 'swarm'],
      default: 'containers',
    },
  },
  {
    name: 'replicas',
    field: 'replicas',
    default: 1,
    before: 1,
    parse: oneToThousand,
    fromText: wholeNumberText('replicas', 'replicas=3 (1 to 1000)'),
    show: String,
    listed: true,
    schema: {
      description:
        'How many tasks the Swarm service of a release runs (runtime swarm); `deploy scale APP N` changes it for the running release. With runtime containers it must be 1.',
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 1,
    },
  },
  listSetting({
    name: 'nodes',
    example: '"ssh://me@worker-1"',
    item: (item, fail, i) => endpointText(item, fail, i),
    whole: noneTwice('a node is listed twice'),
    listed: true,
    description:
      "The Docker endpoints of the swarm's other nodes (runtime swarm, no registry), each as -H or --context names an engine: a URL (ssh://USER@HOST, tcp://HOST:PORT, unix:///path) or a docker context name. Each must be a node of the manager's swarm. A release's image is streamed from the manager that built it to each of them that lacks it, and its tasks run on the manager and those nodes; `deploy stats` reads their tasks' figures. Empty: without a registry, the tasks run on the manager only.",
    examples: [['ssh://deploy@worker-1.example.com', 'worker-2']],
  }),
  {
    name: 'endpoint',
    field: 'endpoint',
    default: null,
    notInSnapshot: true,
    parse: (v, fail) => endpointText(v, fail),
    show: orNone,
    docker: 'docker --context / -H',
    schema: {
      description:
        "The Docker Engine the app runs on: a docker context name, or a URL (ssh://USER@HOST[:PORT], tcp://HOST:PORT, unix:///path). --context and --host override it; it overrides DOCKER_HOST, DOCKER_CONTEXT and the docker CLI's current context.",
      type: 'string',
      examples: ['prod', 'ssh://deploy@app1.example.com'],
    },
  },
];

/** NAME → text pairs; numbers and booleans are written as text. `value` checks (and may rewrite) each value. */
function textMap(
  v: unknown,
  fail: Fail,
  value: (name: string, text: string, fail: Fail) => string,
): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`expected an object, found ${typeName(v)}`);
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(v as Record<string, unknown>)) {
    const t =
      typeof raw === 'number' || typeof raw === 'boolean'
        ? String(raw)
        : typeof raw === 'string'
          ? raw
          : fail(`expected a string, found ${typeName(raw)}`);
    out[name] = value(name, t, fail);
  }
  return out;
}

function healthCheckFields(): SettingDef[] {
  const group = 'healthCheck' as const;
  const durationField = (name: string, field: string, ms: number, description: string): SettingDef => ({
    name,
    field,
    group,
    default: ms,
    parse: duration,
    show: (v) => formatSettingDuration(v as number),
    schema: { $ref: '#/$defs/duration', description },
  });
  return [
    {
      name: 'path',
      field: 'path',
      group,
      default: null,
      parse: (v, fail) => {
        if (v === null) return null;
        const s = text(v, fail);
        if (!s.startsWith('/')) fail('the path must start with "/"');
        return s;
      },
      fromText: nullable,
      show: orNone,
      schema: { type: ['string', 'null'], pattern: '^/', description: 'HTTP path that must answer 2xx or 3xx.' },
    },
    {
      name: 'port',
      field: 'port',
      group,
      default: null,
      parse: (v, fail) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
          fail('expected a port number (1-65535)');
        return v;
      },
      fromText: wholeNumberText('healthCheck.port', 'healthCheck.port=8080 (1 to 65535)'),
      show: (v) => (v === null ? 'first published port' : String(v)),
      schema: {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
        description: 'Container port to check (default: the first published TCP port).',
      },
    },
    durationField('timeout', 'timeoutMs', 60_000, 'How long to wait (default 60s).'),
    durationField('interval', 'intervalMs', 500, 'Time between HTTP tries (default 500ms).'),
    durationField(
      'settle',
      'settleMs',
      2_000,
      'Without any check: how long the container must keep running (default 2s).',
    ),
    {
      name: 'command',
      field: 'command',
      group,
      default: null,
      parse: (v, fail) => {
        if (v === null) return null;
        const t = text(v, fail).trim();
        if (t === '')
          fail(
            'the command is empty',
            'Give a shell command that exits 0 when the app is healthy, or "none" to turn the image\'s HEALTHCHECK off.',
          );
        return t;
      },
      fromText: (t) => (t === '' ? null : t),
      show: (v) => (v === null ? "the image's" : v === 'none' ? "none (the image's turned off)" : String(v)),
      listed: true,
      docker: 'docker run --health-cmd / --no-healthcheck',
      schema: {
        type: ['string', 'null'],
        description:
          "Replaces the image's HEALTHCHECK with a shell command run in the container (exit 0 = healthy), or \"none\" to turn the image's off; default: the image's.",
      },
    },
  ];
}

// ---- lookups and generic access -------------------------------------------------------------------------------

/** The name `deploy config` and the diff give a setting: a group's fields dotted (healthCheck.timeout). */
export const keyOf = (d: SettingDef): string => (d.group ? `${d.group}.${d.name}` : d.name);

/** The names deploy.json's top level knows. */
export const TOP_LEVEL_KEYS: readonly string[] = ['app', ...new Set(SETTINGS.map((d) => d.group ?? d.name)), 'env'];

export const GROUPS = ['healthCheck'] as const;

export function groupFields(group: string): SettingDef[] {
  return SETTINGS.filter((d) => d.group === group);
}

/** The definition of a `deploy config` key (healthCheck.timeout, memory) or of a map entry's (buildArgs.NAME). */
export function settingDef(key: string): { def: SettingDef; entry?: string } | null {
  const whole = SETTINGS.find((d) => keyOf(d) === key && !d.map);
  if (whole) return { def: whole };
  const dot = key.indexOf('.');
  if (dot === -1) return null;
  const map = SETTINGS.find((d) => d.map && d.name === key.slice(0, dot));
  return map ? { def: map, entry: key.slice(dot + 1) } : null;
}

type Bag = Record<string, unknown>;

/** A setting's value in a Settings layer or a DeployConfig (undefined when the layer does not set it). */
export function readSetting(from: object, d: SettingDef): unknown {
  const bag = from as Bag;
  return d.group ? (bag[d.group] as Bag | undefined)?.[d.field] : bag[d.field];
}

export function writeSetting(to: object, d: SettingDef, value: unknown): void {
  const bag = to as Bag;
  if (d.group) ((bag[d.group] ??= {}) as Bag)[d.field] = value;
  else bag[d.field] = value;
}

/** The snapshot's defaults: every setting a deployment keeps, at its default (or at what releases had before it existed). */
export function settingDefaults(of: 'new' | 'older' = 'new'): Omit<DeployConfig, 'env' | 'noCache' | 'pull'> {
  const out: Bag = {};
  for (const d of SETTINGS)
    if (!d.notInSnapshot) writeSetting(out, d, structuredClone(of === 'older' && 'before' in d ? d.before : d.default));
  return out as unknown as Omit<DeployConfig, 'env' | 'noCache' | 'pull'>;
}

let defaults: ReturnType<typeof settingDefaults> | undefined;

/**
 * A snapshot from an older version (a store or label written before some settings existed), completed with
 * defaults. A complete snapshot comes back as it is (no copy: `ls` reads thousands).
 */
export function completeConfig(c: Partial<DeployConfig>): DeployConfig {
  defaults ??= settingDefaults('older');
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(defaults)) {
    if (k in c) continue;
    out ??= { env: {}, noCache: false, pull: false, ...c };
    out[k] = structuredClone(v);
  }
  const hc = c.healthCheck;
  if (hc && Object.keys(defaults.healthCheck).some((k) => !(k in hc))) {
    out ??= { ...c };
    out.healthCheck = { ...defaults.healthCheck, ...hc };
  }
  return (out ?? c) as DeployConfig;
}

/** The settings a plan and `inspect` list when they are not at their default: `name value` each. */
export function listedSettings(config: DeployConfig): Array<{ name: string; value: string }> {
  const c = completeConfig(config);
  const out: Array<{ name: string; value: string }> = [];
  for (const d of SETTINGS) {
    if (!d.listed || d.group) continue;
    const v = readSetting(c, d);
    if (JSON.stringify(v) === JSON.stringify(d.default)) continue;
    if (d.map)
      for (const [k, t] of Object.entries(v as Record<string, string>)) out.push({ name: `${d.name}.${k}`, value: t });
    else out.push({ name: d.name, value: d.show(v) });
  }
  return out;
}
