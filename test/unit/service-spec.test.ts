import { describe, expect, it } from 'vitest';
import { routedByFrontDoor, unroutedReason } from '../../src/core/front-door.js';
import { recordLabel } from '../../src/core/record-label.js';
import { serviceSpec, servicesCannotCarry } from '../../src/core/service-spec.js';
import type { RestartPolicy } from '../../src/core/types.js';
import { makeConfig, makeDeployment, portMapping as mapping } from '../helpers/unit.js';

const LOG_DRIVER = { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } };
const SECOND = 1_000_000_000;

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

describe('serviceSpec', () => {
  it('makes a bare deployment a dnsrr service of 0 replicas, labelled with the record, restarted by Swarm always', () => {
    const d = makeDeployment();
    expect(serviceSpec(d, 'deploy/web:abcd2345', 'web-v3-abcd2345')).toEqual({
      Name: 'web-v3-abcd2345',
      Labels: { ...LABELS, 'dev.deploy.record': recordLabel(d) },
      TaskTemplate: {
        ContainerSpec: { Image: 'deploy/web:abcd2345', Env: [], Init: true },
        RestartPolicy: { Condition: 'any' },
        LogDriver: LOG_DRIVER,
      },
      Mode: { Replicated: { Replicas: 0 } },
      UpdateConfig: { Parallelism: 1, Order: 'start-first' },
      EndpointSpec: { Mode: 'dnsrr' },
    });
  });

  it('carries command, entrypoint, user, env, stop signal and grace, health command, limits, volumes, hosts, logs and labels', () => {
    const d = makeDeployment({
      kind: 'rollback',
      parentId: 'zzzz9999',
      config: makeConfig({
        command: ['serve', '--port', '80'],
        entrypoint: ['/bin/app'],
        user: '1000:1000',
        env: { B: { value: 'b', secret: false }, A: { value: 's3cr3t', secret: true } },
        stopSignal: 'SIGINT',
        stopTimeoutMs: 2_500,
        healthCheck: {
          path: null,
          port: null,
          timeoutMs: 1,
          intervalMs: 1,
          settleMs: 1,
          command: 'nc -z 127.0.0.1 80',
        },
        memory: 64 * 1024 * 1024,
        cpus: 0.5,
        volumes: [
          { type: 'volume', source: 'data', target: '/data', readOnly: false },
          { type: 'bind', source: '/srv/static', target: '/static', readOnly: true },
        ],
        extraHosts: ['db.internal:10.0.0.5', 'v6:::1'],
        logDriver: 'local',
        logOptions: { 'max-size': '1m' },
        labels: { team: 'ops' },
        restart: 'on-failure:2',
        init: false,
      }),
    });
    expect(serviceSpec(d, 'img', 'web-v3-abcd2345', ['/cache'])).toEqual({
      Name: 'web-v3-abcd2345',
      Labels: {
        team: 'ops',
        ...LABELS,
        'dev.deploy.kind': 'rollback',
        'dev.deploy.parent': 'zzzz9999',
        'dev.deploy.record': recordLabel(d),
      },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'img',
          Labels: { team: 'ops' },
          Command: ['/bin/app'],
          Args: ['serve', '--port', '80'],
          Env: ['A=s3cr3t', 'B=b'],
          User: '1000:1000',
          Init: false,
          StopSignal: 'SIGINT',
          StopGracePeriod: 3 * SECOND,
          Healthcheck: {
            Test: ['CMD-SHELL', 'nc -z 127.0.0.1 80'],
            Interval: 2 * SECOND,
            Timeout: 5 * SECOND,
            Retries: 3,
          },
          Mounts: [
            {
              Type: 'volume',
              Source: 'deploy-web-data',
              Target: '/data',
              ReadOnly: false,
              VolumeOptions: {
                Labels: { 'dev.deploy.managed': 'true', 'dev.deploy.app': 'web', 'dev.deploy.volume': 'data' },
              },
            },
            { Type: 'bind', Source: '/srv/static', Target: '/static', ReadOnly: true },
            {
              Type: 'volume',
              Source: 'deploy-web-cache',
              Target: '/cache',
              ReadOnly: false,
              VolumeOptions: {
                Labels: { 'dev.deploy.managed': 'true', 'dev.deploy.app': 'web', 'dev.deploy.volume': 'cache' },
              },
            },
          ],
          Hosts: ['10.0.0.5 db.internal', '::1 v6'],
        },
        RestartPolicy: { Condition: 'on-failure', MaxAttempts: 2 },
        Resources: { Limits: { MemoryBytes: 64 * 1024 * 1024, NanoCPUs: 500_000_000 } },
        LogDriver: { Name: 'local', Options: { 'max-size': '1m' } },
      },
      Mode: { Replicated: { Replicas: 0 } },
      UpdateConfig: { Parallelism: 1, Order: 'start-first' },
      EndpointSpec: { Mode: 'dnsrr' },
    });
  });

  it('publishes ports in host mode and then updates stop-first; an empty entrypoint and a disabled health check as for a container', () => {
    const d = makeDeployment({
      config: makeConfig({
        ports: [mapping(8080, 80), mapping(53, 53, '', 'udp')],
        entrypoint: [],
        healthCheck: { path: null, port: null, timeoutMs: 1, intervalMs: 1, settleMs: 1, command: 'none' },
        restart: 'no',
      }),
    });
    expect(serviceSpec(d, 'img', 'web-v3-abcd2345')).toEqual({
      Name: 'web-v3-abcd2345',
      Labels: { ...LABELS, 'dev.deploy.record': recordLabel(d) },
      TaskTemplate: {
        ContainerSpec: { Image: 'img', Command: [''], Env: [], Init: true, Healthcheck: { Test: ['NONE'] } },
        RestartPolicy: { Condition: 'none' },
        LogDriver: LOG_DRIVER,
      },
      Mode: { Replicated: { Replicas: 0 } },
      UpdateConfig: { Parallelism: 1, Order: 'stop-first' },
      EndpointSpec: {
        Mode: 'dnsrr',
        Ports: [
          { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' },
          { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' },
        ],
      },
    });
  });

  it('behind the front door: publishes nothing, joins the door overlay under the release alias, updates start-first', () => {
    const config = makeConfig({ proxy: true, runtime: 'swarm', replicas: 2, ports: [mapping(8080, 80)] });
    const spec = serviceSpec(makeDeployment({ config }), 'img', 'web-v3-abcd2345');
    expect(spec.EndpointSpec).toEqual({ Mode: 'dnsrr' });
    expect(spec.UpdateConfig).toEqual({ Parallelism: 1, Order: 'start-first' });
    expect(spec.TaskTemplate.Networks).toEqual([{ Target: 'deploy-front-door-swarm', Aliases: ['web-abcd2345'] }]);
    // A restart beside it (services/service-restart.ts): its own name and alias, so the door can switch to it.
    const restarted = makeDeployment({ config, containerName: 'web-v3-abcd2345-r2' });
    expect(serviceSpec(restarted, 'img', 'web-v3-abcd2345-r2', [], [], 'door-swarm').TaskTemplate.Networks).toEqual([
      { Target: 'door-swarm', Aliases: ['web-abcd2345-r2'] },
    ]);
  });

  it('names an unproven service without its ".starting" (a service name holds no "."), marked by a label instead', () => {
    const spec = serviceSpec(makeDeployment(), 'img', 'web-v3-abcd2345.starting');
    expect(spec.Name).toBe('web-v3-abcd2345');
    expect(spec.Labels['dev.deploy.unproven']).toBe('true');
    expect(serviceSpec(makeDeployment(), 'img', 'web-v3-abcd2345').Labels).not.toHaveProperty('dev.deploy.unproven');
  });

  it('maps every restart policy: no → none, on-failure → 5 attempts, always and unless-stopped → any', () => {
    const policy = (restart: RestartPolicy) =>
      serviceSpec(makeDeployment({ config: makeConfig({ restart }) }), 'i', 'n').TaskTemplate.RestartPolicy;
    expect(policy('no')).toEqual({ Condition: 'none' });
    expect(policy('on-failure')).toEqual({ Condition: 'on-failure', MaxAttempts: 5 });
    expect(policy('on-failure:7')).toEqual({ Condition: 'on-failure', MaxAttempts: 7 });
    expect(policy('always')).toEqual({ Condition: 'any' });
    expect(policy('unless-stopped')).toEqual({ Condition: 'any' });
  });
});

describe('servicesCannotCarry', () => {
  it('names the settings a service cannot carry yet, and nothing for a plain deployment', () => {
    expect(servicesCannotCarry(makeConfig({ proxy: false, ports: [mapping(8080, 80)] }))).toEqual([]);
    expect(
      servicesCannotCarry(
        makeConfig({
          proxy: false,
          ports: [mapping(9090, 80, '127.0.0.1')],
          networks: ['backend'],
          extraHosts: ['host.docker.internal:host-gateway'],
        }),
      ),
    ).toEqual([
      'port 127.0.0.1:9090:80 (a service publishes on every address)',
      'networks',
      'extraHosts host.docker.internal:host-gateway',
    ]);
    // Behind the door (proxy, the default) the door binds the host address on the manager: a service can carry it.
    const routed = makeConfig({ proxy: true, runtime: 'swarm', ports: [mapping(9090, 80, '127.0.0.1')] });
    expect(servicesCannotCarry(routed)).toEqual([]);
    expect(routedByFrontDoor(routed)).toBe(true);
    expect(unroutedReason(routed)).toBeNull();
  });
});
