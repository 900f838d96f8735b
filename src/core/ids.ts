import { DeployError } from './errors.js';

// Lower-case letters and digits without the look-alikes 0/o and 1/l, so an id read aloud or off a
// screen is typed back right.
const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
export const ID_LENGTH = 8;
/** The shortest prefix accepted in place of a whole id. */
export const MIN_PREFIX = 3;

/** A new deployment id: eight characters, the first a letter so it never reads as a number. */
export function newDeploymentId(random: (n: number) => Uint8Array): string {
  const bytes = random(ID_LENGTH);
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) {
    const b = bytes[i] ?? 0;
    id += i === 0 ? ID_ALPHABET.charAt(b % 24) : ID_ALPHABET.charAt(b % ID_ALPHABET.length);
  }
  return id;
}

/**
 * What Docker accepts in every name the app's name goes into: the image repository `deploy/APP` (components of
 * letters and digits joined by one ".", one or two "_", or any number of "-"), the container names
 * `APP-vN-ID` and the lock `deploy-lock.APP`.
 */
const APP_NAME = /^[a-z0-9]+(?:(?:\.|_{1,2}|-+)[a-z0-9]+)*$/;
const APP_NAME_MAX = 63;
/** Longer than any id, APP@vN or app name can be. */
const MAX_REF_LENGTH = 100;

/** Text from the command line, quoted for a message; a very long one is cut, with its length said. */
export function quoted(text: string): string {
  const chars = [...text];
  return chars.length <= 80
    ? JSON.stringify(text)
    : `${JSON.stringify(`${chars.slice(0, 20).join('')}…`)} (${chars.length} characters)`;
}

export function isValidAppName(name: string): boolean {
  return name.length <= APP_NAME_MAX && APP_NAME.test(name);
}

export function assertAppName(name: string, where = '--app'): string {
  if (!isValidAppName(name)) {
    throw new DeployError('usage', `Invalid app name ${quoted(name)} (from ${where}).`, {
      hint: 'Use 1 to 63 lower-case letters and digits, joined by single ".", "_" or "__", or by "-"; start and end with a letter or digit.',
    });
  }
  return name;
}

/**
 * Turns a directory or repository name into an app name, or null if nothing usable is left: runs of other
 * characters become one separator Docker accepts ("." or "_" or "__" kept, anything else "-").
 */
export function appNameFrom(raw: string): string | null {
  const name = raw
    .toLowerCase()
    .replace(/\.git$/, '')
    .replace(/[^a-z0-9]+/g, (run) => (run === '.' || run === '_' || run === '__' ? run : '-'))
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, APP_NAME_MAX)
    .replace(/[^a-z0-9]+$/, '');
  return isValidAppName(name) ? name : null;
}

/** What a user may write where a deployment is expected. */
export type DeploymentRef = { type: 'version'; app: string; version: number } | { type: 'word'; word: string };

/** `APP@vN` / `APP@N` name a version; anything else is an id, an id prefix or an app name. */
export function parseDeploymentRef(input: string): DeploymentRef {
  const text = input.trim();
  if (text.length > MAX_REF_LENGTH) {
    throw new DeployError(
      'usage',
      `Invalid deployment reference ${quoted(input)}: an id has ${ID_LENGTH} characters and an app name at most 63.`,
      {
        hint: 'Write an id (or a unique prefix of one), APP@vN, or an app name.',
      },
    );
  }
  const at = /^(.+)@v?(\d+)$/i.exec(text);
  if (at) {
    const app = at[1] ?? '';
    const version = Number(at[2]);
    if (!isValidAppName(app) || !Number.isSafeInteger(version) || version < 1) {
      throw new DeployError('usage', `Invalid deployment reference ${JSON.stringify(input)}.`, {
        hint: 'Write an id (or a unique prefix of one), APP@vN, or an app name.',
      });
    }
    return { type: 'version', app, version };
  }
  if (text === '' || /[\s@]/.test(text)) {
    throw new DeployError('usage', `Invalid deployment reference ${JSON.stringify(input)}.`, {
      hint: 'Write an id (or a unique prefix of one), APP@vN, or an app name.',
    });
  }
  return { type: 'word', word: text };
}
