import { isUtf8 } from 'node:buffer';
import { isAbsolute, join, resolve } from 'node:path';
import { DeployError } from './errors.js';

/**
 * Build secrets, as `docker build --secret` takes them (docker/buildx util/buildflags/secrets.go, with
 * moby/buildkit's secretsprovider for what an id alone means):
 *
 *   id=ID[,src=PATH|source=PATH|env=VAR][,type=file|env]
 *
 * fields are comma-separated (CSV: a field may be double-quoted to hold a comma), keys are case-insensitive,
 * and a key given twice takes its last value. Where the value comes from:
 *   - `env=VAR`: the environment variable VAR; `src=PATH`: the file at PATH;
 *   - `type=env`: the variable named by env=, else by src=, else ID; `type=file`: the file src=, else ID;
 *   - ID alone: the environment variable ID when it is set, else the file named ID.
 * Where docker is loose this is strict, and says so: `src` and `env` together (docker reads the variable yet
 * fails if the file is missing) and `type=file` with `env=` are refused, and an explicit type is obeyed for an
 * id alone (docker would fall back from a variable to a file, or the other way round).
 * A path starting with `~/` is in the home directory; a relative path is relative to the directory given.
 */
export type BuildSecretSource = { file: string } | { env: string };

export interface BuildSecret {
  id: string;
  from: BuildSecretSource;
}

export interface BuildSecretContext {
  /** What relative paths are relative to. */
  cwd: string;
  /** What `~/` means. */
  home: string;
  /** Decides what an id alone means (a variable of that name, when it is set). */
  env: Record<string, string | undefined>;
  /** Named in errors: the flag or setting the spec came from. */
  where?: string | undefined;
}

/** BuildKit's own limit on one secret's size (secretsprovider.MaxSecretSize). */
export const MAX_BUILD_SECRET_BYTES = 500 * 1024;

const SYNTAX_HINT =
  'Write id=ID[,src=PATH|env=VAR][,type=file|env], as docker build --secret takes it (e.g. id=npmrc,src=~/.npmrc or id=token,env=NPM_TOKEN).';

/**
 * The fields of one CSV record, as Go's encoding/csv reads them: a field starting with `"` is quoted (`""` is
 * a quote inside it), a quote anywhere else is an error. Returns an error message rather than throwing.
 */
export function csvFields(text: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return 'a quoted field is not closed';
        const c = text[i++];
        if (c !== '"') field += c;
        else if (text[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
      if (i < text.length && text[i] !== ',') return 'a quoted field goes on after its closing quote';
    } else {
      while (i < text.length && text[i] !== ',') {
        const c = text[i++] as string;
        if (c === '"') return 'a quote inside a field that does not start with one';
        if (c === '\n' || c === '\r') return 'a line break outside quotes';
        field += c;
      }
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

function expandPath(path: string, at: BuildSecretContext): string {
  if (path === '~') return at.home;
  if (path.startsWith('~/')) return join(at.home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(at.cwd, path);
}

/**
 * Reads one build secret spec. Errors (exit 2) name the key that is wrong but never echo a value: a value typed
 * where a name belongs may be the secret itself.
 */
export function parseBuildSecret(spec: string, at: BuildSecretContext): BuildSecret {
  const where = at.where ?? '--build-secret';
  const refuse = (why: string, hint = SYNTAX_HINT) => new DeployError('usage', `Invalid ${where}: ${why}.`, { hint });
  if (spec.trim() === '') throw refuse('it is empty');
  const fields = csvFields(spec);
  if (typeof fields === 'string') throw refuse(fields);
  let id = '';
  let src = '';
  let env = '';
  let type = '';
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0) throw refuse('a field without "=" (each field is key=value; the field is not shown)');
    const key = field.slice(0, eq).toLowerCase();
    const value = field.slice(eq + 1);
    if (key === 'id') id = value;
    else if (key === 'src' || key === 'source') src = value;
    else if (key === 'env') env = value;
    else if (key === 'type') {
      if (value !== 'file' && value !== 'env') throw refuse('type is file or env');
      type = value;
    } else {
      const shown = /^[a-z][a-z0-9_-]{0,30}$/.test(key) ? `"${key}"` : 'in a field';
      throw refuse(`unknown key ${shown} (keys are id, src, source, env and type; the value is not shown)`);
    }
  }
  // As docker: an empty value is no value.
  if (id === '') throw refuse('no id (id=ID names the secret, as RUN --mount=type=secret,id=ID does)');
  const named = `build secret "${id}"`;
  if (src !== '' && env !== '') {
    throw refuse(`${named} has both src= and env= (give one: the file or the environment variable it is read from)`);
  }
  if (type === 'file' && env !== '') {
    throw refuse(
      `${named} is type=file but names an environment variable (env=); use src=PATH for a file, or type=env`,
    );
  }
  if (type === 'env') return { id, from: { env: env || src || id } };
  if (env !== '') return { id, from: { env } };
  if (src !== '') return { id, from: { file: expandPath(src, at) } };
  if (type !== 'file' && at.env[id] !== undefined) return { id, from: { env: id } };
  return { id, from: { file: expandPath(id, at) } };
}

/**
 * The texts a build's output must never show for these secrets: each value, and each line of a text value of
 * several lines (a step that prints a file of credentials prints it line by line; a binary value has no lines
 * worth the name). Longest first, so a value is masked whole before any part of it is; texts shorter than
 * redactValues masks are left out.
 */
export function buildSecretValues(secrets: ReadonlyMap<string, Buffer>): string[] {
  const texts = new Set<string>();
  for (const value of secrets.values()) {
    const text = value.toString('utf8');
    const lines = isUtf8(value) ? text.split(/\r?\n/).map((line) => line.trim()) : [];
    for (const candidate of [text, text.trim(), ...lines]) {
      if (candidate.length >= 4) texts.add(candidate);
    }
  }
  return [...texts].sort((a, b) => b.length - a.length);
}
