import { describe, expect, it } from 'vitest';
import { parseJsonWithPositions } from '../../src/core/json-source.js';
import { RESTART_POLICIES, validateSettings } from '../../src/core/settings.js';
import { failure, failureMessage } from '../helpers/unit.js';

const FIX_HINT = 'Fix the value, then run the command again. The schema is in schema/deploy.schema.json.';
const DURATION_HINT = 'Write a duration such as "30s" or "2m", or a number of seconds.';
const PORT_HINT = 'Write [IP:]HOST:CONTAINER[/tcp|/udp], for example 8080:80 or 127.0.0.1:8080:80.';

/** Validates deploy.json text the way the tool reads it: parsed with positions. */
function validateText(text: string, file = 'deploy.json') {
  const { value, positions } = parseJsonWithPositions(text);
  return validateSettings(value, file, positions);
}

describe('validateSettings: accepted values', () => {
  it('returns {} for an empty object and ignores "$schema"', () => {
    expect(validateSettings({}, 'deploy.json')).toEqual({});
    expect(validateSettings({ $schema: '../schema/deploy.schema.json' }, 'deploy.json')).toEqual({});
  });

  it('reads a complete deploy.json', () => {
    const text = JSON.stringify({
      $schema: './deploy.schema.json',
      app: 'hello',
      dockerfile: 'docker/Dockerfile.prod',
      context: 'services/web',
      ports: ['127.0.0.1:8080:80', '53:53/udp'],
      env: { GREETING: 'Hello', WORKERS: 4, DEBUG: false },
      buildArgs: { NODE_VERSION: '24', RETRIES: 3 },
      healthCheck: { path: '/healthz', port: 80, timeout: '30s', interval: 0.5, settle: '2s' },
      restart: 'on-failure',
      retention: 10,
    });
    expect(validateText(text)).toEqual({
      app: 'hello',
      dockerfile: 'docker/Dockerfile.prod',
      context: 'services/web',
      ports: [
        { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '', hostPort: 53, containerPort: 53, protocol: 'udp' },
      ],
      env: {
        GREETING: { value: 'Hello', secret: false },
        WORKERS: { value: '4', secret: false },
        DEBUG: { value: 'false', secret: false },
      },
      buildArgs: { NODE_VERSION: '24', RETRIES: '3' },
      healthCheck: { path: '/healthz', port: 80, timeoutMs: 30_000, intervalMs: 500, settleMs: 2_000 },
      restart: 'on-failure',
      retention: 10,
    });
  });

  it('accepts an empty port list, env and build args', () => {
    expect(validateSettings({ ports: [], env: {}, buildArgs: {} }, 'deploy.json')).toEqual({
      ports: [],
      env: {},
      buildArgs: {},
    });
  });

  it('accepts "." and nested relative paths for dockerfile and context', () => {
    expect(validateSettings({ context: '.', dockerfile: './build/Dockerfile' }, 'f')).toEqual({
      context: '.',
      dockerfile: './build/Dockerfile',
    });
    expect(validateSettings({ context: 'a..b/c' }, 'f')).toEqual({ context: 'a..b/c' });
  });

  it('accepts every restart policy', () => {
    expect(RESTART_POLICIES).toEqual(['no', 'always', 'unless-stopped', 'on-failure']);
    for (const restart of RESTART_POLICIES) {
      expect(validateSettings({ restart }, 'f')).toEqual({ restart });
    }
  });

  it('accepts retention from 1 to 1000', () => {
    expect(validateSettings({ retention: 1 }, 'f')).toEqual({ retention: 1 });
    expect(validateSettings({ retention: 1000 }, 'f')).toEqual({ retention: 1000 });
  });

  it('reads healthCheck false or null as "no HTTP check"', () => {
    expect(validateSettings({ healthCheck: false }, 'f')).toEqual({ healthCheck: { path: null } });
    expect(validateSettings({ healthCheck: null }, 'f')).toEqual({ healthCheck: { path: null } });
    expect(validateSettings({ healthCheck: { path: null } }, 'f')).toEqual({ healthCheck: { path: null } });
  });

  it('keeps only the health-check fields that are set', () => {
    expect(validateSettings({ healthCheck: {} }, 'f')).toEqual({ healthCheck: {} });
    expect(validateSettings({ healthCheck: { timeout: 90 } }, 'f')).toEqual({ healthCheck: { timeoutMs: 90_000 } });
  });

  it('reads durations as numbers of seconds or duration strings', () => {
    expect(validateSettings({ healthCheck: { timeout: 0, interval: '250ms', settle: '1m30s' } }, 'f')).toEqual({
      healthCheck: { timeoutMs: 0, intervalMs: 250, settleMs: 90_000 },
    });
    expect(validateSettings({ healthCheck: { timeout: 1.2346 } }, 'f')).toEqual({ healthCheck: { timeoutMs: 1235 } });
  });
});

describe('validateSettings: error messages', () => {
  it('refuses a root that is not an object, at $', () => {
    expect(failure(() => validateText('[1, 2]'))).toEqual({
      code: 'config',
      message: 'deploy.json:1:1: $: expected an object, found an array',
      hint: FIX_HINT,
      details: { file: 'deploy.json', path: '$', line: 1, column: 1 },
    });
    expect(failureMessage(() => validateSettings(null, 'deploy.json'))).toBe(
      'deploy.json: $: expected an object, found null',
    );
    expect(failureMessage(() => validateSettings('x', 'deploy.json'))).toBe(
      'deploy.json: $: expected an object, found a string',
    );
  });

  it('names the file alone when there are no positions', () => {
    expect(failure(() => validateSettings({ restart: 'sometimes' }, 'app settings'))).toEqual({
      code: 'config',
      message:
        'app settings: $.restart: expected one of no, always, unless-stopped, on-failure, on-failure:N (N retries, 1 to 1000)',
      hint: FIX_HINT,
      details: { file: 'app settings', path: '$.restart' },
    });
  });

  it('gives the JSON path, line and column of the bad value', () => {
    const text = ['{', '  "app": "web",', '  "restart": "sometimes"', '}'].join('\n');
    expect(failure(() => validateText(text, 'apps/web/deploy.json'))).toEqual({
      code: 'config',
      message:
        'apps/web/deploy.json:3:14: $.restart: expected one of no, always, unless-stopped, on-failure, on-failure:N (N retries, 1 to 1000)',
      hint: FIX_HINT,
      details: { file: 'apps/web/deploy.json', path: '$.restart', line: 3, column: 14 },
    });
  });

  it('refuses an unknown key with a "Did you mean" hint when only the case differs', () => {
    const text = '{\n  "Ports": ["8080:80"]\n}';
    expect(failure(() => validateText(text))).toEqual({
      code: 'config',
      message: 'deploy.json:2:12: $.Ports: unknown key "Ports"',
      hint: 'Did you mean "ports"?',
      details: { file: 'deploy.json', path: '$.Ports', line: 2, column: 12 },
    });
    expect(failure(() => validateSettings({ buildargs: {} }, 'deploy.json')).hint).toBe('Did you mean "buildArgs"?');
    expect(failure(() => validateSettings({ HEALTHCHECK: {} }, 'deploy.json')).hint).toBe(
      'Did you mean "healthCheck"?',
    );
  });

  it('lists the known keys for an unknown key that is not a case variant', () => {
    expect(failure(() => validateSettings({ image: 'nginx' }, 'deploy.json'))).toEqual({
      code: 'config',
      message: 'deploy.json: $.image: unknown key "image"',
      hint:
        'Known keys: app, dockerfile, context, buildArgs, buildTarget, buildSecrets, ports, volumes, healthCheck, restart, ' +
        'memory, cpus, command, entrypoint, user, extraHosts, labels, networks, logDriver, logOptions, stopSignal, stopTimeout, init, proxy, domains, tlsCertificate, tlsKey, drainTimeout, bakeWindow, retention, registry, runtime, replicas, nodes, endpoint, env.',
      details: { file: 'deploy.json', path: '$.image' },
    });
  });

  it('suggests the nearest key for a misspelt one', () => {
    expect(failure(() => validateSettings({ port: ['80:80'] }, 'deploy.json')).hint).toBe('Did you mean "ports"?');
    expect(failure(() => validateSettings({ retension: 3 }, 'deploy.json')).hint).toBe('Did you mean "retention"?');
    expect(failure(() => validateSettings({ healthCheck: { timout: '5s' } }, 'deploy.json')).hint).toBe(
      'Did you mean "timeout"?',
    );
  });

  it('refuses a negative duration for what it is', () => {
    expect(failureMessage(() => validateSettings({ healthCheck: { interval: -1 } }, 'deploy.json'))).toBe(
      'deploy.json: $.healthCheck.interval: a duration cannot be negative (-1)',
    );
  });

  it('quotes an unknown key that is not an identifier in the path', () => {
    expect(failure(() => validateSettings({ 'build-args': {} }, 'deploy.json')).details).toEqual({
      file: 'deploy.json',
      path: '$["build-args"]',
    });
  });

  it('refuses unknown health-check keys the same way, under $.healthCheck', () => {
    const text = '{"healthCheck": {"path": "/", "Timeout": "5s"}}';
    expect(failure(() => validateText(text))).toEqual({
      code: 'config',
      message: 'deploy.json:1:42: $.healthCheck.Timeout: unknown key "Timeout"',
      hint: 'Did you mean "timeout"?',
      details: { file: 'deploy.json', path: '$.healthCheck.Timeout', line: 1, column: 42 },
    });
    expect(failure(() => validateSettings({ healthCheck: { retries: 3 } }, 'deploy.json')).hint).toBe(
      'Known keys: path, port, timeout, interval, settle, command.',
    );
  });

  it('refuses values of the wrong type, naming both types', () => {
    expect(failureMessage(() => validateSettings({ dockerfile: 7 }, 'f'))).toBe(
      'f: $.dockerfile: expected a string, found a number',
    );
    expect(failureMessage(() => validateSettings({ context: ['.'] }, 'f'))).toBe(
      'f: $.context: expected a string, found an array',
    );
    expect(failureMessage(() => validateSettings({ restart: true }, 'f'))).toBe(
      'f: $.restart: expected a string, found a boolean',
    );
    expect(failureMessage(() => validateSettings({ env: ['A=1'] }, 'f'))).toBe(
      'f: $.env: expected an object, found an array',
    );
    expect(failureMessage(() => validateSettings({ buildArgs: 'A=1' }, 'f'))).toBe(
      'f: $.buildArgs: expected an object, found a string',
    );
    expect(failureMessage(() => validateSettings({ healthCheck: '/' }, 'f'))).toBe(
      'f: $.healthCheck: expected an object, found a string',
    );
    expect(failureMessage(() => validateSettings({ ports: '8080:80' }, 'f'))).toBe(
      'f: $.ports: expected an array of strings such as "8080:80", found a string',
    );
  });

  it('refuses an invalid app name with the name rules as the hint', () => {
    expect(failure(() => validateText('{"app": "My App"}'))).toEqual({
      code: 'config',
      message: 'deploy.json:1:9: $.app: Invalid app name "My App" (from deploy.json).',
      hint: 'Use 1 to 63 lower-case letters and digits, joined by single ".", "_" or "__", or by "-"; start and end with a letter or digit.',
      details: { file: 'deploy.json', path: '$.app', line: 1, column: 9 },
    });
  });

  it('refuses dockerfile and context paths that leave the app directory', () => {
    for (const [key, value] of [
      ['dockerfile', ''],
      ['dockerfile', '/etc/Dockerfile'],
      ['context', '..'],
      ['context', '../shared'],
      ['context', 'a/../../b'],
    ] as const) {
      expect(failureMessage(() => validateSettings({ [key]: value }, 'f'))).toBe(
        `f: $.${key}: ${JSON.stringify(value)} must be a relative path inside the app's directory`,
      );
    }
  });

  it('points at the bad item of the port list, with the port hint', () => {
    const text = '{\n  "ports": [\n    "8080:80",\n    "8081"\n  ]\n}';
    expect(failure(() => validateText(text))).toEqual({
      code: 'config',
      message: 'deploy.json:4:5: $.ports[1]: Invalid port "8081".',
      hint: PORT_HINT,
      details: { file: 'deploy.json', path: '$.ports[1]', line: 4, column: 5 },
    });
  });

  it('refuses two ports on the same host port, at the list', () => {
    const text = '{"ports": ["8080:80", "8080:81"]}';
    expect(failure(() => validateText(text))).toEqual({
      code: 'config',
      message: 'deploy.json:1:11: $.ports: Ports 8080:80 and 8080:81 bind the same host port.',
      hint: 'Publish each host port once.',
      details: { file: 'deploy.json', path: '$.ports', line: 1, column: 11 },
    });
  });

  // BUG (src/core/settings.ts): a value of the wrong type inside rethrowAt (a port item, the app name) is
  // refused by str() with a located message, which rethrowAt then locates again: the message reads
  // "deploy.json: $.ports[0]: deploy.json: $.ports[0]: expected a string, found a number".
  it('says where a non-string port item is only once', () => {
    expect(failureMessage(() => validateSettings({ ports: [8080] }, 'deploy.json'))).toBe(
      'deploy.json: $.ports[0]: expected a string, found a number',
    );
  });

  it('says where a non-string app name is only once', () => {
    expect(failureMessage(() => validateSettings({ app: 5 }, 'deploy.json'))).toBe(
      'deploy.json: $.app: expected a string, found a number',
    );
  });

  it('refuses an invalid env or build-arg name at its own path', () => {
    expect(failure(() => validateText('{"env": {\n  "MY-VAR": "x"}}'))).toEqual({
      code: 'config',
      message: 'deploy.json:2:13: $.env["MY-VAR"]: Invalid environment variable name "MY-VAR" in deploy.json.',
      hint: 'Names are letters, digits and "_", and do not start with a digit.',
      details: { file: 'deploy.json', path: '$.env["MY-VAR"]', line: 2, column: 13 },
    });
    expect(failureMessage(() => validateSettings({ buildArgs: { '1X': 'y' } }, 'f'))).toBe(
      'f: $.buildArgs["1X"]: Invalid environment variable name "1X" in f.',
    );
  });

  it('refuses env values that are objects, arrays or null', () => {
    expect(failureMessage(() => validateSettings({ env: { A: null } }, 'f'))).toBe(
      'f: $.env.A: expected a string, found null',
    );
    expect(failureMessage(() => validateSettings({ env: { A: { value: 'x' } } }, 'f'))).toBe(
      'f: $.env.A: expected a string, found an object',
    );
    expect(failureMessage(() => validateSettings({ buildArgs: { A: [1] } }, 'f'))).toBe(
      'f: $.buildArgs.A: expected a string, found an array',
    );
  });

  it('refuses env values with a NUL or over 64 KiB', () => {
    expect(failureMessage(() => validateSettings({ env: { A: 'x\0' } }, 'f'))).toBe(
      'f: $.env.A: The value of A in f contains a NUL character.',
    );
    expect(failure(() => validateSettings({ env: { BIG: 'x'.repeat(65 * 1024) } }, 'f'))).toEqual({
      code: 'config',
      message: 'f: $.env.BIG: The value of BIG in f is longer than 64 KiB.',
      hint: 'Put large data in a file inside the image or a mounted volume instead.',
      details: { file: 'f', path: '$.env.BIG' },
    });
  });

  it('refuses a health-check path that does not start with "/"', () => {
    expect(failureMessage(() => validateSettings({ healthCheck: { path: 'healthz' } }, 'f'))).toBe(
      'f: $.healthCheck.path: the path must start with "/"',
    );
    expect(failureMessage(() => validateSettings({ healthCheck: { path: 200 } }, 'f'))).toBe(
      'f: $.healthCheck.path: expected a string, found a number',
    );
  });

  it('refuses a health-check port that is not a whole number from 1 to 65535', () => {
    for (const port of [0, 65536, 80.5, '80', null]) {
      expect(failureMessage(() => validateSettings({ healthCheck: { port } }, 'f'))).toBe(
        'f: $.healthCheck.port: expected a port number (1-65535)',
      );
    }
    expect(validateSettings({ healthCheck: { port: 65535 } }, 'f')).toEqual({ healthCheck: { port: 65535 } });
  });

  it('refuses a bad duration with the duration hint', () => {
    const text = '{"healthCheck": {\n  "timeout": "soon"}}';
    expect(failure(() => validateText(text))).toEqual({
      code: 'config',
      message: 'deploy.json:2:14: $.healthCheck.timeout: Invalid duration "soon".',
      hint: DURATION_HINT,
      details: { file: 'deploy.json', path: '$.healthCheck.timeout', line: 2, column: 14 },
    });
    expect(failureMessage(() => validateSettings({ healthCheck: { settle: '3651d' } }, 'f'))).toBe(
      'f: $.healthCheck.settle: The duration "3651d" is too long (at most 3650d).',
    );
  });

  it('refuses negative and non-string durations at their path', () => {
    expect(failure(() => validateSettings({ healthCheck: { interval: -1 } }, 'f')).details).toEqual({
      file: 'f',
      path: '$.healthCheck.interval',
    });
    expect(failure(() => validateSettings({ healthCheck: { interval: true } }, 'f')).message).toBe(
      'f: $.healthCheck.interval: expected a string, found a boolean',
    );
  });

  it('refuses retention outside 1-1000 or not a whole number', () => {
    for (const retention of [0, 1001, 2.5, '5', -1]) {
      expect(failureMessage(() => validateSettings({ retention }, 'f'))).toBe(
        'f: $.retention: expected a whole number from 1 to 1000',
      );
    }
  });

  it('reports the first problem in document order', () => {
    expect(failureMessage(() => validateSettings({ restart: 'x', retention: 0 }, 'f'))).toBe(
      'f: $.restart: expected one of no, always, unless-stopped, on-failure, on-failure:N (N retries, 1 to 1000)',
    );
    expect(failureMessage(() => validateSettings({ retention: 0, restart: 'x' }, 'f'))).toBe(
      'f: $.retention: expected a whole number from 1 to 1000',
    );
  });
});

describe('validateSettings: keys that reach a prototype', () => {
  it('refuses "__proto__", "constructor" and "prototype" as unknown keys, wherever they are, polluting nothing', () => {
    expect(failureMessage(() => validateText('{"__proto__": {"retention": 3}}'))).toMatch(
      /^deploy\.json:1:15: \$\.__proto__: unknown key "__proto__"/,
    );
    expect(failureMessage(() => validateText('{"healthCheck": {"constructor": 1}}'))).toMatch(
      /\$\.healthCheck\.constructor: unknown key "constructor"/,
    );
    for (const group of ['env', 'buildArgs']) {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        expect(failureMessage(() => validateText(`{"${group}": {"${key}": "x"}}`))).toMatch(
          new RegExp(`\\$\\.${group}\\.${key}: unknown key "${key}"`),
        );
      }
    }
    expect(({} as Record<string, unknown>).retention).toBeUndefined();
  });
});
