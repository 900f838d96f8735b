import { describe, expect, it } from 'vitest';
import { publicConfig, publicRecord, SECRET_MASK } from '../../src/core/record-view.js';
import type { DeployConfig } from '../../src/core/types.js';
import { makeConfig, makeDeployment, runOptionDefaults, settingDefaults } from '../helpers/unit.js';

const SECRET_VALUES = ['hunter2-db-password', 'ghp_abcdefghijklmnopqrstuvwxyz'];

function configWithSecrets(): DeployConfig {
  return makeConfig({
    dockerfile: 'Dockerfile.prod',
    context: 'app',
    buildArgs: { NODE_VERSION: '24' },
    env: {
      LOG_LEVEL: { value: 'info', secret: false },
      DB_PASSWORD: { value: SECRET_VALUES[0]!, secret: true },
      API_TOKEN: { value: SECRET_VALUES[1]!, secret: true },
    },
    ports: [
      { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostIp: '::1', hostPort: 53, containerPort: 53, protocol: 'udp' },
    ],
    healthCheck: { path: '/healthz', port: 80, timeoutMs: 30_000, intervalMs: 500, settleMs: 2_000, command: null },
    restart: 'on-failure',
    noCache: true,
    pull: false,
    retention: 7,
  });
}

/** The default durations in their deploy.json form (seconds), and the docker run and build options at their defaults. */
const DURATIONS = { stopTimeout: null, drainTimeout: 30, bakeWindow: 60 };
const RUN_DEFAULTS = runOptionDefaults(DURATIONS);

describe('publicConfig', () => {
  it('writes ports as specs, masks secret values and lists the secret names', () => {
    expect(publicConfig(configWithSecrets())).toEqual({
      dockerfile: 'Dockerfile.prod',
      context: 'app',
      buildArgs: { NODE_VERSION: '24' },
      env: { LOG_LEVEL: 'info', DB_PASSWORD: SECRET_MASK, API_TOKEN: SECRET_MASK },
      secrets: ['API_TOKEN', 'DB_PASSWORD'],
      ports: ['127.0.0.1:8080:80', '[::1]:53:53/udp'],
      volumes: [],
      healthCheck: { path: '/healthz', port: 80, timeoutMs: 30_000, intervalMs: 500, settleMs: 2_000, command: null },
      restart: 'on-failure',
      noCache: true,
      pull: false,
      retention: 7,
      registry: null,
      runtime: 'containers',
      replicas: 1,
      nodes: [],
      ...RUN_DEFAULTS,
    });
  });

  it('masks with eight asterisks', () => {
    expect(SECRET_MASK).toBe('********');
  });

  it('masks an empty secret too', () => {
    const c = makeConfig({ env: { EMPTY_SECRET: { value: '', secret: true } } });
    expect(publicConfig(c).env).toEqual({ EMPTY_SECRET: SECRET_MASK });
  });

  it('shows the defaults plainly', () => {
    expect(publicConfig(makeConfig())).toEqual({ ...settingDefaults(DURATIONS), secrets: [] });
  });

  it('never contains a secret value', () => {
    const json = JSON.stringify(publicConfig(configWithSecrets()));
    for (const secret of SECRET_VALUES) expect(json).not.toContain(secret);
  });

  it('leaves the configuration unchanged', () => {
    const c = configWithSecrets();
    const before = structuredClone(c);
    publicConfig(c);
    expect(c).toEqual(before);
  });
});

describe('publicRecord', () => {
  it('gives every field in camelCase, with ISO times and the public config', () => {
    const d = makeDeployment({ config: configWithSecrets(), parentId: 'zzzz9999', kind: 'redeploy', dirty: true });
    // The fields it shows as the record holds them (ids, source, image, container, who, outcome, the rollback mark
    // `ls` shows); what only the tool reads (worker, one-off settings, histories, last check) it leaves out.
    const {
      worker: _worker,
      overrides: _overrides,
      checkedAt: _checkedAt,
      rolledBackFrom: _rolledBackFrom,
      servedBefore: _servedBefore,
      ...asIs
    } = d;
    expect(publicRecord(d)).toEqual({
      ...asIs,
      commitTime: '2026-01-02T03:04:05.000Z',
      noCache: true,
      config: publicConfig(configWithSecrets()),
      createdAt: '2026-01-02T10:00:00.000Z',
      buildStartedAt: '2026-01-02T10:00:01.000Z',
      buildFinishedAt: '2026-01-02T10:00:30.000Z',
      startedAt: '2026-01-02T10:00:31.000Z',
      readyAt: '2026-01-02T10:00:33.000Z',
      finishedAt: '2026-01-02T10:00:33.000Z',
    });
  });

  it('keeps missing times and ids as null, and the error as it is', () => {
    // The same nulls in the record and in its public form.
    const missing = {
      commitTime: null,
      image: null,
      imageId: null,
      imageDigest: null,
      workload: null,
      containerId: null,
      containerName: null,
      buildStartedAt: null,
      buildFinishedAt: null,
      startedAt: null,
      readyAt: null,
    };
    const error = { code: 'build_failed', message: 'The build failed at step 3.' };
    const d = makeDeployment({ status: 'failed', ...missing, finishedAt: Date.UTC(2026, 0, 2, 10, 0, 5), error });
    expect(publicRecord(d)).toMatchObject({
      status: 'failed',
      ...missing,
      finishedAt: '2026-01-02T10:00:05.000Z',
      error: { code: 'build_failed', message: 'The build failed at step 3.' },
    });
  });

  it("names a container deployment's container (the documented contract), and a service deployment by its workload only", () => {
    const container = publicRecord(makeDeployment());
    expect(container).toMatchObject({
      runtime: 'container',
      workload: 'c0ffee',
      containerId: 'c0ffee',
      containerName: 'web-v3-abcd2345',
    });
    const service = publicRecord(
      makeDeployment({ runtime: 'service', workload: 'svc-id-1', containerId: null, containerName: null }),
    );
    expect(service).toMatchObject({ runtime: 'service', workload: 'svc-id-1' });
    expect(Object.keys(service)).not.toContain('containerId');
    expect(Object.keys(service)).not.toContain('containerName');
  });

  it('writes epoch 0 as a time, not as missing', () => {
    expect(publicRecord(makeDeployment({ commitTime: 0 })).commitTime).toBe('1970-01-01T00:00:00.000Z');
  });

  it('never contains a secret value, while keeping the secret names', () => {
    const json = JSON.stringify(publicRecord(makeDeployment({ config: configWithSecrets() })));
    for (const secret of SECRET_VALUES) expect(json).not.toContain(secret);
    expect(json).toContain('"DB_PASSWORD":"********"');
    expect(json).toContain('"secrets":["API_TOKEN","DB_PASSWORD"]');
  });

  it('leaves the deployment unchanged, secret values included', () => {
    const d = makeDeployment({ config: configWithSecrets() });
    const before = structuredClone(d);
    publicRecord(d);
    expect(d).toEqual(before);
    expect(d.config.env.DB_PASSWORD?.value).toBe(SECRET_VALUES[0]);
  });
});
