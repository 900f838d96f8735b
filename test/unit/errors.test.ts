import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DeployError,
  type ErrorCode,
  errorToJson,
  EXIT_CODES,
  exitCodeOf,
  failureDocument,
  isDeployError,
  reasonOf,
} from '../../src/core/errors.js';

describe('EXIT_CODES', () => {
  it('gives every cause its own code', () => {
    const codes = Object.values(EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('matches the table in README.md, code for code', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('## Exit codes'),
      readme.indexOf('\n## ', readme.indexOf('## Exit codes') + 5),
    );
    const documented = [...section.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    expect(documented).toEqual(Object.values(EXIT_CODES).sort((a, b) => a - b));
  });

  it('uses codes a shell keeps (0-255), with 0 only for success', () => {
    for (const [name, code] of Object.entries(EXIT_CODES)) {
      expect(Number.isInteger(code) && code >= 0 && code <= 255, name).toBe(true);
      expect(code === 0, name).toBe(name === 'ok');
    }
  });
});

describe('DeployError', () => {
  it('carries its code, message, hint, details and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new DeployError('docker_unreachable', 'Cannot reach the Docker Engine.', {
      hint: 'Start Docker.',
      details: { socket: '/var/run/docker.sock' },
      cause,
    });
    expect({
      name: e.name,
      code: e.code,
      message: e.message,
      hint: e.hint,
      details: e.details,
      cause: e.cause,
      exitCode: e.exitCode,
    }).toEqual({
      name: 'DeployError',
      code: 'docker_unreachable',
      message: 'Cannot reach the Docker Engine.',
      hint: 'Start Docker.',
      details: { socket: '/var/run/docker.sock' },
      cause,
      exitCode: 13,
    });
    expect(e).toBeInstanceOf(Error);
  });

  it('has no hint, details or cause unless given', () => {
    const e = new DeployError('usage', 'Bad flag.');
    expect([e.hint, e.details, e.cause, 'cause' in e]).toEqual([undefined, undefined, undefined, false]);
  });

  it('gives the exit code of its cause for every code', () => {
    for (const code of Object.keys(EXIT_CODES).filter((k) => k !== 'ok') as ErrorCode[]) {
      expect(new DeployError(code, 'x').exitCode).toBe(EXIT_CODES[code]);
    }
  });

  describe('withDetails', () => {
    it('returns a new error with the details merged, the rest kept', () => {
      const cause = new Error('root');
      const e = new DeployError('health_failed', 'Health check failed.', {
        hint: 'See the logs.',
        details: { a: 1, b: 2 },
        cause,
      });
      const more = e.withDetails({ b: 3, record: { id: 'x' } });
      expect(more).not.toBe(e);
      expect(more).toBeInstanceOf(DeployError);
      expect({
        code: more.code,
        message: more.message,
        hint: more.hint,
        details: more.details,
        cause: more.cause,
      }).toEqual({
        code: 'health_failed',
        message: 'Health check failed.',
        hint: 'See the logs.',
        details: { a: 1, b: 3, record: { id: 'x' } },
        cause,
      });
      expect(e.details).toEqual({ a: 1, b: 2 });
    });

    it('works on an error without details', () => {
      expect(new DeployError('usage', 'x').withDetails({ k: 'v' }).details).toEqual({ k: 'v' });
    });
  });
});

describe('exitCodeOf', () => {
  it('gives the code of a DeployError and 1 for anything else', () => {
    expect(exitCodeOf(new DeployError('not_found', 'x'))).toBe(3);
    expect(exitCodeOf(new DeployError('interrupted', 'x'))).toBe(130);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
    expect(exitCodeOf(new TypeError('boom'))).toBe(1);
    expect(exitCodeOf('a string')).toBe(1);
    expect(exitCodeOf(undefined)).toBe(1);
  });

  it('does not trust look-alike objects', () => {
    expect(exitCodeOf({ name: 'DeployError', code: 'usage', exitCode: 2 })).toBe(1);
  });
});

describe('isDeployError', () => {
  it('tells a DeployError from anything else', () => {
    expect(isDeployError(new DeployError('usage', 'x'))).toBe(true);
    expect(isDeployError(new Error('x'))).toBe(false);
    expect(isDeployError(null)).toBe(false);
  });

  it('checks the code when one is given', () => {
    const e = new DeployError('lock_held', 'x');
    expect(isDeployError(e, 'lock_held')).toBe(true);
    expect(isDeployError(e, 'usage')).toBe(false);
    expect(isDeployError(new Error('x'), 'lock_held')).toBe(false);
  });
});

describe('errorToJson', () => {
  it('gives code, exit code, message, hint and details of a DeployError', () => {
    const e = new DeployError('ambiguous', 'The prefix "abc" matches 2 deployments.', {
      hint: 'Type more characters.',
      details: { candidates: ['abcd2345', 'abce6789'] },
    });
    expect(errorToJson(e)).toEqual({
      code: 'ambiguous',
      exitCode: 4,
      message: 'The prefix "abc" matches 2 deployments.',
      hint: 'Type more characters.',
      details: { candidates: ['abcd2345', 'abce6789'] },
    });
  });

  it('leaves out an absent hint and empty details entirely', () => {
    const json = errorToJson(new DeployError('usage', 'Bad flag.', { details: {} }));
    expect(json).toEqual({ code: 'usage', exitCode: 2, message: 'Bad flag.' });
    expect(Object.keys(json)).toEqual(['code', 'exitCode', 'message']);
  });

  it('leaves the record out of the details', () => {
    expect(
      errorToJson(new DeployError('build_failed', 'Build failed.', { details: { record: { id: 'x' }, step: 3 } })),
    ).toEqual({
      code: 'build_failed',
      exitCode: 9,
      message: 'Build failed.',
      details: { step: 3 },
    });
    expect(
      Object.keys(errorToJson(new DeployError('build_failed', 'Build failed.', { details: { record: { id: 'x' } } }))),
    ).toEqual(['code', 'exitCode', 'message']);
  });

  it('reports anything else as an internal error', () => {
    expect(errorToJson(new TypeError('x is undefined'))).toEqual({
      code: 'internal',
      exitCode: 1,
      message: 'x is undefined',
    });
    expect(errorToJson('thrown string')).toEqual({ code: 'internal', exitCode: 1, message: 'thrown string' });
    expect(errorToJson(42)).toEqual({ code: 'internal', exitCode: 1, message: '42' });
  });
});

describe('failureDocument', () => {
  it('is the failed deployment record when the error carries one, its error in the shape of every failure', () => {
    const record = { id: 'abcd2345', status: 'failed', error: { code: 'health_failed', message: 'No answer.' } };
    const e = new DeployError('health_failed', 'No answer.', {
      hint: 'See its output: deploy logs abcd2345',
    }).withDetails({ record });
    expect(failureDocument(e)).toEqual({
      id: 'abcd2345',
      status: 'failed',
      error: {
        code: 'health_failed',
        exitCode: 11,
        message: 'No answer.',
        hint: 'See its output: deploy logs abcd2345',
      },
    });
    expect(failureDocument(e)).toHaveProperty(
      'error',
      (
        failureDocument(
          new DeployError('health_failed', 'No answer.', { hint: 'See its output: deploy logs abcd2345' }),
        ) as { error: unknown }
      ).error,
    );
  });

  it('is {"error": ...} when there is no record', () => {
    expect(failureDocument(new DeployError('not_found', 'No deployment "zzz".', { hint: 'Run deploy ls.' }))).toEqual({
      error: { code: 'not_found', exitCode: 3, message: 'No deployment "zzz".', hint: 'Run deploy ls.' },
    });
    // A null record is no record, and is left out of the details like any record.
    expect(failureDocument(new DeployError('usage', 'x', { details: { record: null, arg: '--port' } }))).toEqual({
      error: { code: 'usage', exitCode: 2, message: 'x', details: { arg: '--port' } },
    });
  });

  it('is an internal error document for anything that is not a DeployError', () => {
    expect(failureDocument(new Error('boom'))).toEqual({ error: { code: 'internal', exitCode: 1, message: 'boom' } });
    expect(failureDocument({ details: { record: { id: 'x' } } })).toEqual({
      error: { code: 'internal', exitCode: 1, message: '[object Object]' },
    });
  });
});

describe('reasonOf', () => {
  it('gives a message as a clause, so "…: REASON. Run: …" has one full stop', () => {
    expect(reasonOf(new Error('Cannot connect to the Docker Engine at unix:///x (no socket there).'))).toBe(
      'Cannot connect to the Docker Engine at unix:///x (no socket there)',
    );
    expect(reasonOf(new Error('the engine did not answer'))).toBe('the engine did not answer');
    expect(reasonOf('plain text. \n')).toBe('plain text');
  });
});
