import { describe, expect, it } from 'vitest';
import {
  appNameFrom,
  assertAppName,
  ID_LENGTH,
  isValidAppName,
  MIN_PREFIX,
  newDeploymentId,
  parseDeploymentRef,
} from '../../src/core/ids.js';
import { failure, failureMessage, usageFailure } from '../helpers/unit.js';

const REF_HINT = 'Write an id (or a unique prefix of one), APP@vN, or an app name.';

/** A fake random source that hands out the given bytes and records what was asked for. */
function bytes(...values: number[]) {
  const asked: number[] = [];
  const random = (n: number) => {
    asked.push(n);
    return Uint8Array.from(values);
  };
  return { random, asked };
}

describe('newDeploymentId', () => {
  it('asks for ID_LENGTH random bytes and maps each onto the alphabet', () => {
    const { random, asked } = bytes(0, 1, 2, 3, 4, 5, 6, 7);
    expect(newDeploymentId(random)).toBe('abcdefgh');
    expect(asked).toEqual([ID_LENGTH]);
    expect(ID_LENGTH).toBe(8);
    expect(MIN_PREFIX).toBe(3);
  });

  it('skips the look-alikes 0, o, 1 and l', () => {
    // indices 8..15 of the alphabet, then the last ones (the digits 2-9)
    expect(newDeploymentId(bytes(8, 9, 10, 11, 12, 13, 14, 15).random)).toBe('ijkmnpqr');
    expect(newDeploymentId(bytes(23, 24, 25, 26, 27, 28, 29, 31).random)).toBe('z2345679');
  });

  it('wraps bytes around the alphabet, and the first character around its letters only', () => {
    // first: 24 % 24 = 0 -> "a"; others: 32 % 32 = 0 -> "a", 255 % 32 = 31 -> "9", 100 % 32 = 4 -> "e"
    expect(newDeploymentId(bytes(24, 32, 255, 64, 31, 33, 100, 200).random)).toBe('aa9a9bei');
    // 255 % 24 = 15 -> "r": the first character never reaches the digits
    expect(newDeploymentId(bytes(255, 0, 0, 0, 0, 0, 0, 0).random)).toBe('raaaaaaa');
  });

  it('always starts with a letter and uses only the alphabet', () => {
    for (let b = 0; b < 256; b++) {
      const id = newDeploymentId(() => Uint8Array.from([b, b, b, b, b, b, b, b]));
      expect(id).toMatch(/^[a-km-np-z][a-km-np-z2-9]{7}$/);
    }
  });

  it('fills missing bytes as zero', () => {
    expect(newDeploymentId(() => Uint8Array.from([2, 3]))).toBe('cdaaaaaa');
  });
});

describe('isValidAppName', () => {
  it('accepts lower-case letters and digits joined as Docker accepts in image and container names', () => {
    for (const name of [
      'web',
      'a',
      '0',
      'my-app',
      'my_app',
      'app.v2',
      '9lives',
      'a'.repeat(63),
      'a__b',
      'a--b',
      'a.b_c-d',
    ]) {
      expect(isValidAppName(name), name).toBe(true);
    }
  });

  it('refuses anything else', () => {
    // app-, app. and app_ end with a separator; a..b and a___b are separators Docker refuses in a repository name.
    for (const name of [
      '',
      'Web',
      '-web',
      '.web',
      '_web',
      'my app',
      'my/app',
      'app@v1',
      'ünï',
      'a'.repeat(64),
      'web\n',
      'app-',
      'app.',
      'app_',
      'a..b',
      'a___b',
      'a._b',
      'a-.b',
    ]) {
      expect(isValidAppName(name), JSON.stringify(name)).toBe(false);
    }
  });
});

describe('assertAppName', () => {
  it('returns a valid name', () => {
    expect(assertAppName('web')).toBe('web');
  });

  it('refuses an invalid name, saying where it came from', () => {
    expect(failure(() => assertAppName('My App'))).toEqual(
      usageFailure(
        'Invalid app name "My App" (from --app).',
        'Use 1 to 63 lower-case letters and digits, joined by single ".", "_" or "__", or by "-"; start and end with a letter or digit.',
      ),
    );
    expect(failureMessage(() => assertAppName('', 'deploy.json'))).toBe('Invalid app name "" (from deploy.json).');
  });
});

describe('appNameFrom', () => {
  it('keeps a name that is already valid', () => {
    expect(appNameFrom('web')).toBe('web');
    expect(appNameFrom('api_v2.1')).toBe('api_v2.1');
  });

  it('lower-cases and drops a trailing .git', () => {
    expect(appNameFrom('MyService')).toBe('myservice');
    expect(appNameFrom('billing.git')).toBe('billing');
    expect(appNameFrom('Billing.GIT')).toBe('billing');
  });

  it('turns runs of other characters into one "-" and trims the ends', () => {
    expect(appNameFrom('My Cool  Project!')).toBe('my-cool-project');
    expect(appNameFrom('---web---')).toBe('web');
    expect(appNameFrom('.hidden')).toBe('hidden');
    expect(appNameFrom('über app')).toBe('ber-app');
    expect(appNameFrom('@scope/pkg')).toBe('scope-pkg');
    // A directory named dir_ or a..b still gives a name Docker takes.
    expect(appNameFrom('dir_')).toBe('dir');
    expect(appNameFrom('a..b')).toBe('a-b');
    expect(appNameFrom('a___b')).toBe('a-b');
  });

  it('keeps at most 63 characters', () => {
    expect(appNameFrom('x'.repeat(100))).toBe('x'.repeat(63));
  });

  it('returns null when nothing usable is left', () => {
    for (const raw of ['', '...', '---', '.git', '日本語', '!!!']) {
      expect(appNameFrom(raw), raw).toBeNull();
    }
  });
});

describe('parseDeploymentRef', () => {
  it('reads APP@vN and APP@N as a version', () => {
    expect(parseDeploymentRef('web@v3')).toEqual({ type: 'version', app: 'web', version: 3 });
    expect(parseDeploymentRef('web@12')).toEqual({ type: 'version', app: 'web', version: 12 });
    expect(parseDeploymentRef('web@V7')).toEqual({ type: 'version', app: 'web', version: 7 });
    expect(parseDeploymentRef('  api.v2@v1 ')).toEqual({ type: 'version', app: 'api.v2', version: 1 });
  });

  it('reads anything else without "@" or spaces as a word (id, id prefix or app name)', () => {
    expect(parseDeploymentRef('abcd2345')).toEqual({ type: 'word', word: 'abcd2345' });
    expect(parseDeploymentRef('abc')).toEqual({ type: 'word', word: 'abc' });
    expect(parseDeploymentRef(' web ')).toEqual({ type: 'word', word: 'web' });
  });

  it('refuses version 0, an invalid app name and an unsafe number', () => {
    const expected = (input: string) =>
      usageFailure(`Invalid deployment reference ${JSON.stringify(input)}.`, REF_HINT);
    for (const input of ['web@v0', 'Web@v1', '-web@v1', 'web@v99999999999999999999']) {
      expect(failure(() => parseDeploymentRef(input))).toEqual(expected(input));
    }
  });

  it('refuses empty text, spaces inside and an "@" that is not a version', () => {
    for (const input of ['', '   ', 'my app', 'web@latest', 'web@', '@v1', 'web@v1@v2']) {
      expect(failureMessage(() => parseDeploymentRef(input))).toBe(
        `Invalid deployment reference ${JSON.stringify(input)}.`,
      );
    }
  });
});
