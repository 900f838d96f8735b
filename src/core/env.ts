import { DeployError } from './errors.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Values are passed to the engine as KEY=VALUE strings; keep each one within reason. */
export const MAX_ENV_VALUE = 64 * 1024;

export function assertEnvName(name: string, where: string): string {
  if (!ENV_NAME.test(name)) {
    throw new DeployError('usage', `Invalid environment variable name ${JSON.stringify(name)} in ${where}.`, {
      hint: 'Names are letters, digits and "_", and do not start with a digit.',
    });
  }
  return name;
}

export function assertEnvValue(name: string, value: string, where: string): string {
  if (value.includes('\0')) {
    throw new DeployError('usage', `The value of ${name} in ${where} contains a NUL character.`);
  }
  if (Buffer.byteLength(value) > MAX_ENV_VALUE) {
    throw new DeployError('usage', `The value of ${name} in ${where} is longer than ${MAX_ENV_VALUE / 1024} KiB.`, {
      hint: 'Put large data in a file inside the image or a mounted volume instead.',
    });
  }
  return value;
}

/**
 * `KEY=VALUE` sets a value; a bare `KEY` takes the value from the given environment, as `docker run -e` does,
 * so a CI job can pass a secret without writing it on the command line.
 */
export function parseEnvAssignment(
  text: string,
  from: Record<string, string | undefined>,
  where = '--env',
): [string, string] {
  const eq = text.indexOf('=');
  // What was typed after "=" is a value, and a misplaced word may be one too: an error never echoes either.
  if (eq === 0) {
    throw new DeployError('usage', `Invalid ${where}: the name is missing before "=" (the value is not shown).`, {
      hint: 'Write KEY=VALUE, or KEY alone to pass the value of KEY from your environment.',
    });
  }
  if (eq < 0) {
    if (!ENV_NAME.test(text) && where === '--secret') {
      throw new DeployError(
        'usage',
        `Invalid ${where}: ${text.length} characters that are not a variable name (not shown, in case it is the value).`,
        {
          hint: 'Write KEY alone to take the value from $KEY (it stays off the command line), or KEY=VALUE.',
        },
      );
    }
    const name = assertEnvName(text, where);
    const value = from[name];
    if (value === undefined) {
      throw new DeployError('usage', `${where} ${name} names a variable that is not set in your environment.`, {
        hint: `Write ${name}=VALUE, or export ${name} first.`,
      });
    }
    return [name, assertEnvValue(name, value, where)];
  }
  const name = assertEnvName(text.slice(0, eq), where);
  return [name, assertEnvValue(name, text.slice(eq + 1), where)];
}

/** Parses a dotenv-style file: KEY=VALUE lines, `#` comments, optional `export `, single or double quotes. */
export function parseEnvFile(content: string, file: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const lines = content.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${index + 1}`;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    if (eq <= 0) {
      throw new DeployError('usage', `Invalid line in ${where}: expected KEY=VALUE.`);
    }
    const name = assertEnvName(body.slice(0, eq).trim(), where);
    const value = parseEnvValue(body.slice(eq + 1).trim());
    out.push([name, assertEnvValue(name, value, where)]);
  });
  return out;
}

/**
 * A dotenv value: 'single quoted' is literal; "double quoted" understands \n, \" and \\ (read left to right);
 * unquoted stops at a " #" comment. Text after a closing quote (a comment) is ignored.
 */
function parseEnvValue(raw: string): string {
  const quote = raw[0];
  if (quote === "'" || quote === '"') {
    let out = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i] as string;
      if (c === quote) return out;
      if (quote === '"' && c === '\\' && i + 1 < raw.length) {
        const next = raw[++i] as string;
        out += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        continue;
      }
      out += c;
    }
    return raw; // no closing quote: take the text as it is
  }
  const hash = raw.search(/\s#/);
  return hash >= 0 ? raw.slice(0, hash).trimEnd() : raw;
}
