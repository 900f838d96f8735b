import { describe, expect, it } from 'vitest';
import { containerSpec, networksOf } from '../../src/core/container-spec.js';
import { parseRecordLabel, recordLabel } from '../../src/core/record-label.js';
import { makeConfig, makeDeployment, portMapping as mapping } from '../helpers/unit.js';

const LOG_CONFIG = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } };

/** The labels of the fixture deployment (makeDeployment), which has no parent. */
const LABELS = {
  'dev.deploy.managed': 'true',
  'dev.deploy.app': 'web',
  'dev.deploy.id': 'abcd2345',
  'dev.deploy.version': '3',
  'dev.deploy.kind': 'deploy',
  'dev.deploy.commit': '0123456789abcdef0123456789abcdef01234567',
  'dev.deploy.ref': 'main',
  'dev.deploy.created-at': '2026-01-02T10:00:00.000Z',
};

describe('containerSpec', () => {
  it('creates a bare container for a deployment without ports or env', () => {
    const d = makeDeployment();
    expect(containerSpec(d, 'deploy/web:abcd2345', 'web-v3-abcd2345')).toEqual({
      name: 'web-v3-abcd2345',
      Image: 'deploy/web:abcd2345',
      Env: [],
      Labels: { ...LABELS, 'dev.deploy.record': recordLabel(d) },
      ExposedPorts: {},
      HostConfig: {
        PortBindings: {},
        RestartPolicy: { Name: 'unless-stopped' },
        LogConfig: LOG_CONFIG,
        Init: true,
      },
    });
  });

  it('publishes ports, grouping host bindings by container port and protocol', () => {
    const d = makeDeployment({
      kind: 'rollback',
      parentId: 'zzzz9999',
      config: makeConfig({
        ports: [
          mapping(8080, 80),
          mapping(9090, 80, '127.0.0.1'),
          mapping(53, 53, '', 'udp'),
          mapping(5353, 53, '::1', 'tcp'),
        ],
        restart: 'always',
      }),
    });
    expect(containerSpec(d, 'sha256:abc', 'web-v3-abcd2345')).toEqual({
      name: 'web-v3-abcd2345',
      Image: 'sha256:abc',
      Env: [],
      Labels: {
        ...LABELS,
        'dev.deploy.kind': 'rollback',
        'dev.deploy.parent': 'zzzz9999',
        'dev.deploy.record': recordLabel(d),
      },
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '53/tcp': {} },
      HostConfig: {
        PortBindings: {
          '80/tcp': [
            { HostIp: '', HostPort: '8080' },
            { HostIp: '127.0.0.1', HostPort: '9090' },
          ],
          '53/udp': [{ HostIp: '', HostPort: '53' }],
          '53/tcp': [{ HostIp: '::1', HostPort: '5353' }],
        },
        RestartPolicy: { Name: 'always' },
        LogConfig: LOG_CONFIG,
        Init: true,
      },
    });
  });

  it('passes env vars as KEY=VALUE sorted by name, secrets with their real value', () => {
    const d = makeDeployment({
      config: makeConfig({
        env: {
          ZED: { value: 'last', secret: false },
          API_TOKEN: { value: 's3cr3t-t0ken', secret: true },
          EMPTY: { value: '', secret: false },
          MULTI: { value: 'a=b=c\nline 2', secret: false },
          B: { value: 'b', secret: false },
          a: { value: 'lower', secret: false },
        },
      }),
    });
    expect(containerSpec(d, 'img', 'n').Env).toEqual([
      'API_TOKEN=s3cr3t-t0ken',
      'B=b',
      'EMPTY=',
      'MULTI=a=b=c\nline 2',
      'ZED=last',
      'a=lower',
    ]);
  });

  it('retries an on-failure restart a bounded number of times', () => {
    const d = makeDeployment({ config: makeConfig({ restart: 'on-failure' }) });
    expect(containerSpec(d, 'img', 'n').HostConfig).toEqual({
      PortBindings: {},
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
      LogConfig: LOG_CONFIG,
      Init: true,
    });
  });

  it('passes the other restart policies through without a retry count', () => {
    for (const restart of ['no', 'always', 'unless-stopped'] as const) {
      const d = makeDeployment({ config: makeConfig({ restart }) });
      expect(containerSpec(d, 'img', 'n').HostConfig.RestartPolicy).toEqual({ Name: restart });
    }
  });

  it('does not depend on build options or the health check', () => {
    const plain = makeDeployment();
    const other = makeDeployment({
      config: makeConfig({
        noCache: true,
        pull: true,
        buildArgs: { A: '1' },
        healthCheck: { path: '/', port: 80, timeoutMs: 1, intervalMs: 1, settleMs: 1, command: null },
      }),
    });
    const { 'dev.deploy.record': _a, ...otherLabels } = containerSpec(other, 'img', 'n').Labels;
    const { 'dev.deploy.record': _b, ...plainLabels } = containerSpec(plain, 'img', 'n').Labels;
    expect({ ...containerSpec(other, 'img', 'n'), Labels: otherLabels }).toEqual({
      ...containerSpec(plain, 'img', 'n'),
      Labels: plainLabels,
    });
  });

  it('carries the record in a label, secret values left out', () => {
    const d = makeDeployment({
      config: makeConfig({
        env: { TOKEN: { value: 'hunter2-secret', secret: true }, MODE: { value: 'prod', secret: false } },
      }),
    });
    const label = containerSpec(d, 'img', 'n').Labels['dev.deploy.record'];
    expect(label).not.toContain('hunter2-secret');
    expect(parseRecordLabel(label)).toMatchObject({
      id: d.id,
      app: 'web',
      version: 3,
      commit: d.commit,
      config: { env: { TOKEN: { value: '', secret: true }, MODE: { value: 'prod', secret: false } } },
    });
  });

  it('leaves the deployment unchanged', () => {
    const d = makeDeployment({
      config: makeConfig({ ports: [mapping(8080, 80)], env: { A: { value: '1', secret: false } } }),
    });
    const before = structuredClone(d);
    containerSpec(d, 'img', 'n');
    expect(d).toEqual(before);
  });
});

describe('behind the front door (proxy: true)', () => {
  it("publishes nothing, exposes the ports, and joins the door's network under the release's own alias", () => {
    const d = makeDeployment({ config: makeConfig({ proxy: true, ports: [mapping(8080, 80, '127.0.0.1')] }) });
    const spec = containerSpec(d, 'deploy/web:abcd2345', 'web-v3-abcd2345');
    expect(spec.HostConfig.PortBindings).toEqual({});
    expect(spec.ExposedPorts).toEqual({ '80/tcp': {} });
    expect(spec.HostConfig.NetworkMode).toBe('deploy-front-door');
    expect(spec.NetworkingConfig).toEqual({ EndpointsConfig: { 'deploy-front-door': { Aliases: [`web-${d.id}`] } } });
  });

  it("joins the app's own networks first (under the app's name), the door's after", () => {
    const d = makeDeployment({
      config: makeConfig({ proxy: true, networks: ['backend'], ports: [mapping(8080, 80)] }),
    });
    expect(networksOf(d)).toEqual([
      { name: 'backend', aliases: ['web'] },
      { name: 'deploy-front-door', aliases: [`web-${d.id}`] },
    ]);
    expect(containerSpec(d, 'x', 'n').HostConfig.NetworkMode).toBe('backend');
  });

  it('publishes its own ports when proxy is false, or when a port is UDP (the door carries TCP only)', () => {
    for (const config of [
      makeConfig({ proxy: false, ports: [mapping(8080, 80)] }),
      makeConfig({ proxy: true, ports: [mapping(8080, 80), mapping(53, 53, '', 'udp')] }),
    ]) {
      const d = makeDeployment({ config });
      expect(Object.keys(containerSpec(d, 'x', 'n').HostConfig.PortBindings)).not.toEqual([]);
      expect(networksOf(d)).toEqual([]);
    }
  });
});
