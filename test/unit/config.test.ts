import { describe, expect, it } from 'vitest';
import { type ConfigLayer, DEFAULT_CONFIG, resolveConfig, secretKeys } from '../../src/core/config.js';
import { mistypedSetting } from '../../src/core/config-keys.js';
import { portMapping as port, settingDefaults } from '../helpers/unit.js';

/** The origins every resolution has (health-check fields under their deploy.json names), with the given ones changed. */
const defaultOrigins = (changes: Record<string, string> = {}) => ({
  dockerfile: 'default',
  context: 'default',
  restart: 'default',
  retention: 'default',
  registry: 'default',
  runtime: 'default',
  replicas: 'default',
  nodes: 'default',
  ports: 'default',
  volumes: 'default',
  'healthCheck.path': 'default',
  'healthCheck.port': 'default',
  'healthCheck.timeout': 'default',
  'healthCheck.interval': 'default',
  'healthCheck.settle': 'default',
  'healthCheck.command': 'default',
  buildTarget: 'default',
  buildSecrets: 'default',
  memory: 'default',
  cpus: 'default',
  command: 'default',
  entrypoint: 'default',
  user: 'default',
  extraHosts: 'default',
  networks: 'default',
  logDriver: 'default',
  stopSignal: 'default',
  stopTimeout: 'default',
  init: 'default',
  proxy: 'default',
  domains: 'default',
  tlsCertificate: 'default',
  tlsKey: 'default',
  drainTimeout: 'default',
  bakeWindow: 'default',
  ...changes,
});

describe('DEFAULT_CONFIG', () => {
  it('builds ./Dockerfile in the app directory, restarts unless stopped, keeps five images', () => {
    expect(DEFAULT_CONFIG).toEqual(
      settingDefaults({ stopTimeoutMs: null, drainTimeoutMs: 30_000, bakeWindowMs: 60_000 }),
    );
  });
});

describe('resolveConfig', () => {
  it('gives the defaults, all from "default", when there are no layers', () => {
    expect(resolveConfig([])).toEqual({ config: DEFAULT_CONFIG, origins: defaultOrigins() });
  });

  it('gives the defaults for layers that set nothing', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: {} },
      { origin: 'global', settings: {} },
    ];
    expect(resolveConfig(layers)).toEqual({ config: DEFAULT_CONFIG, origins: defaultOrigins() });
  });

  it('takes each scalar from the strongest layer that sets it (flag > app > deploy.json > global)', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { restart: 'always' } },
      { origin: 'app', settings: { restart: 'no', retention: 3 } },
      { origin: 'deploy.json', settings: { dockerfile: 'Dockerfile.prod', retention: 8, restart: 'on-failure' } },
      { origin: 'global', settings: { dockerfile: 'Containerfile', context: 'src', retention: 20 } },
    ];
    expect(resolveConfig(layers)).toEqual({
      config: { ...DEFAULT_CONFIG, restart: 'always', retention: 3, dockerfile: 'Dockerfile.prod', context: 'src' },
      origins: defaultOrigins({ restart: 'flag', retention: 'app', dockerfile: 'deploy.json', context: 'global' }),
    });
  });

  it('takes the port list whole from the strongest layer that sets it', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: {} },
      { origin: 'deploy.json', settings: { ports: [port(8080), port(8443, 443)] } },
      { origin: 'global', settings: { ports: [port(9000)] } },
    ];
    expect(resolveConfig(layers)).toEqual({
      config: { ...DEFAULT_CONFIG, ports: [port(8080), port(8443, 443)] },
      origins: defaultOrigins({ ports: 'deploy.json' }),
    });
  });

  it('lets an empty port list in a stronger layer clear the ports of a weaker one', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { ports: [] } },
      { origin: 'deploy.json', settings: { ports: [port(8080)] } },
    ];
    const { config, origins } = resolveConfig(layers);
    expect(config.ports).toEqual([]);
    expect(origins.ports).toBe('flag');
  });

  it('merges env vars key by key, the strongest layer winning each key', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { env: { TOKEN: { value: 'from-flag', secret: true } } } },
      { origin: 'app', settings: { env: { DB: { value: 'postgres://app', secret: false } } } },
      {
        origin: 'deploy.json',
        settings: { env: { TOKEN: { value: 'from-file', secret: false }, LEVEL: { value: 'info', secret: false } } },
      },
      {
        origin: 'global',
        settings: { env: { LEVEL: { value: 'debug', secret: false }, TZ: { value: 'UTC', secret: false } } },
      },
    ];
    expect(resolveConfig(layers)).toEqual({
      config: {
        ...DEFAULT_CONFIG,
        env: {
          TOKEN: { value: 'from-flag', secret: true },
          DB: { value: 'postgres://app', secret: false },
          LEVEL: { value: 'info', secret: false },
          TZ: { value: 'UTC', secret: false },
        },
      },
      origins: defaultOrigins({ 'env.TOKEN': 'flag', 'env.DB': 'app', 'env.LEVEL': 'deploy.json', 'env.TZ': 'global' }),
    });
  });

  it('merges build args key by key', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { buildArgs: { VERSION: '2' } } },
      { origin: 'deploy.json', settings: { buildArgs: { VERSION: '1', NODE: '24' } } },
    ];
    expect(resolveConfig(layers)).toEqual({
      config: { ...DEFAULT_CONFIG, buildArgs: { VERSION: '2', NODE: '24' } },
      origins: defaultOrigins({ 'buildArgs.VERSION': 'flag', 'buildArgs.NODE': 'deploy.json' }),
    });
  });

  it('merges health-check fields one by one over the defaults', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { healthCheck: { timeoutMs: 5_000 } } },
      { origin: 'deploy.json', settings: { healthCheck: { path: '/healthz', port: 8080, timeoutMs: 30_000 } } },
      { origin: 'global', settings: { healthCheck: { intervalMs: 1_000 } } },
    ];
    expect(resolveConfig(layers)).toEqual({
      config: {
        ...DEFAULT_CONFIG,
        healthCheck: {
          path: '/healthz',
          port: 8080,
          timeoutMs: 5_000,
          intervalMs: 1_000,
          settleMs: 2_000,
          command: null,
        },
      },
      origins: defaultOrigins({
        'healthCheck.path': 'deploy.json',
        'healthCheck.port': 'deploy.json',
        'healthCheck.timeout': 'flag',
        'healthCheck.interval': 'global',
      }),
    });
  });

  it('lets a stronger layer turn the HTTP check off with path null', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { healthCheck: { path: null } } },
      { origin: 'deploy.json', settings: { healthCheck: { path: '/', timeoutMs: 10_000 } } },
    ];
    const { config, origins } = resolveConfig(layers);
    expect(config.healthCheck).toEqual({
      path: null,
      port: null,
      timeoutMs: 10_000,
      intervalMs: 500,
      settleMs: 2_000,
      command: null,
    });
    expect(origins['healthCheck.path']).toBe('flag');
    expect(origins['healthCheck.timeout']).toBe('deploy.json');
  });

  it('ignores the app name, which is not part of the build configuration', () => {
    expect(resolveConfig([{ origin: 'deploy.json', settings: { app: 'web' } }])).toEqual({
      config: DEFAULT_CONFIG,
      origins: defaultOrigins(),
    });
  });

  it('takes noCache and pull from the build options only', () => {
    expect(resolveConfig([], { noCache: true, pull: true }).config).toEqual({
      ...DEFAULT_CONFIG,
      noCache: true,
      pull: true,
    });
    expect(resolveConfig([], { pull: true }).config).toEqual({ ...DEFAULT_CONFIG, pull: true });
    expect(resolveConfig([], {}).config).toEqual(DEFAULT_CONFIG);
  });

  it('neither changes DEFAULT_CONFIG nor shares objects with it or with the layers', () => {
    const before = structuredClone(DEFAULT_CONFIG);
    const tokens = { TOKEN: { value: 'a', secret: true } };
    const ports = [port(8080)];
    const layers: ConfigLayer[] = [{ origin: 'flag', settings: { env: tokens, ports, buildArgs: { A: '1' } } }];

    const { config } = resolveConfig(layers);
    config.env.TOKEN!.value = 'changed';
    config.env.OTHER = { value: 'x', secret: false };
    config.ports[0]!.hostPort = 1;
    config.buildArgs.B = '2';
    config.healthCheck.timeoutMs = 1;

    expect(DEFAULT_CONFIG).toEqual(before);
    expect(tokens).toEqual({ TOKEN: { value: 'a', secret: true } });
    expect(ports).toEqual([port(8080)]);
    expect(resolveConfig([]).config).toEqual(before);
  });

  it('keeps the order of layers given, without changing the array', () => {
    const layers: ConfigLayer[] = [
      { origin: 'flag', settings: { retention: 1 } },
      { origin: 'global', settings: { retention: 2 } },
    ];
    resolveConfig(layers);
    expect(layers.map((l) => l.origin)).toEqual(['flag', 'global']);
    expect(resolveConfig(layers).config.retention).toBe(1);
  });
});

describe('secretKeys', () => {
  it('lists the names of secret variables, sorted', () => {
    expect(
      secretKeys({
        ZED: { value: 'z', secret: true },
        PUBLIC: { value: 'p', secret: false },
        API_KEY: { value: 'k', secret: true },
        DB_PASSWORD: { value: 'd', secret: true },
      }),
    ).toEqual(['API_KEY', 'DB_PASSWORD', 'ZED']);
  });

  it('is empty without secrets', () => {
    expect(secretKeys({})).toEqual([]);
    expect(secretKeys({ A: { value: 'x', secret: false } })).toEqual([]);
  });
});

describe('mergeSettings and derivedOverrides', () => {
  it('merges env, build args and health fields key by key, the stronger layer winning', async () => {
    const { mergeSettings } = await import('../../src/core/config.js');
    const merged = mergeSettings(
      {
        env: { A: { value: '2', secret: false } },
        healthCheck: { path: '/h' },
        ports: [{ hostIp: '', hostPort: 81, containerPort: 80, protocol: 'tcp' }],
      },
      {
        env: { A: { value: '1', secret: false }, B: { value: 'b', secret: true } },
        healthCheck: { timeoutMs: 5000 },
        restart: 'always',
      },
    );
    expect(merged).toEqual({
      env: { A: { value: '2', secret: false }, B: { value: 'b', secret: true } },
      healthCheck: { path: '/h', timeoutMs: 5000 },
      ports: [{ hostIp: '', hostPort: 81, containerPort: 80, protocol: 'tcp' }],
      restart: 'always',
    });
  });

  it('guesses the one-off settings of an old record, leaving what the app sets now alone', async () => {
    const { derivedOverrides, resolveConfig } = await import('../../src/core/config.js');
    const port = (hostPort: number) => ({
      hostIp: '127.0.0.1',
      hostPort,
      containerPort: 8080,
      protocol: 'tcp' as const,
    });
    const snapshot = resolveConfig([
      {
        origin: 'flag',
        settings: {
          ports: [port(9001)],
          env: { ONE: { value: 'off', secret: false }, KEPT: { value: 'old', secret: false } },
        },
      },
      { origin: 'deploy.json', settings: { ports: [port(8080)] } },
    ]).config;
    const now = resolveConfig([
      { origin: 'app', settings: { env: { KEPT: { value: 'new', secret: false } } } },
      { origin: 'deploy.json', settings: { ports: [port(8080)] } },
    ]);
    expect(derivedOverrides(snapshot, now)).toEqual({
      ports: [port(9001)],
      env: { ONE: { value: 'off', secret: false } },
    });
  });
});

describe('a secret stays secret', () => {
  it('whichever layer sets its value', () => {
    const { config } = resolveConfig([
      { origin: 'flag', settings: { env: { API_KEY: { value: 'from-the-command-line', secret: false } } } },
      { origin: 'app', settings: { env: { API_KEY: { value: 'stored', secret: true } } } },
    ]);
    expect(config.env.API_KEY).toEqual({ value: 'from-the-command-line', secret: true });
  });
});

describe('mistypedSetting: config set names that look like a setting', () => {
  const refusal = (key: string) => {
    const e = mistypedSetting(key);
    return e && { code: e.code, message: e.message, hint: e.hint };
  };

  it('suggests the setting for a misspelt or wrongly cased name, and offers --env for a plain one', () => {
    expect(refusal('port')).toEqual({
      code: 'config',
      message: 'port is not a setting deploy knows.',
      hint: 'Did you mean ports? (To set an environment variable of that name, pass --env.)',
    });
    expect(refusal('Ports')?.hint).toMatch(/^Did you mean ports\?/);
    expect(refusal('retension')?.hint).toMatch(/^Did you mean retention\?/);
    expect(refusal('dockerFile')?.hint).toMatch(/^Did you mean dockerfile\?/);
  });

  it('suggests the nested setting for a dotted name, without --env (a dot cannot be in an env var name)', () => {
    expect(refusal('healthCheck.tiemout')).toEqual({
      code: 'config',
      message: 'healthCheck.tiemout is not a setting deploy knows.',
      hint: 'Did you mean healthCheck.timeout?',
    });
    expect(refusal('healthcheck.path')?.hint).toBe('Did you mean healthCheck.path?');
    expect(refusal('buildargs.VERSION')?.hint).toBe('Did you mean buildArgs.VERSION?');
    expect(refusal('healthCheck.retries')?.hint).toMatch(
      /^The settings of healthCheck: healthCheck.path, healthCheck.port/,
    );
    expect(refusal('foo.bar')?.hint).toMatch(
      /^Settings: dockerfile, .*buildArgs\.NAME, labels\.NAME, logOptions\.NAME\. A name with a dot cannot be an environment variable\.$/,
    );
  });

  it('leaves settings, UPPER_CASE env var names and names unlike any setting alone', () => {
    for (const key of [
      'ports',
      'healthCheck.timeout',
      'buildArgs.VERSION',
      'PORT',
      'PORTS',
      'CONTEXT',
      'RETENTION',
      'GREETING',
      'http_proxy',
      'Greeting',
      'api_key',
    ]) {
      expect(refusal(key), key).toBeNull();
    }
  });
});
