import { describe, expect, it } from 'vitest';
import { frontDoorBaseImage } from '../../src/adapters/front-door/door-image.js';
import {
  bindingsOfLabel,
  deployExecTimeoutMs,
  DOOR_NAMES,
  doorAction,
  doorCheckFailure,
  doorContainerSpec,
  doorDockerfile,
  doorModeOf,
  staleRoutes,
  generationOf,
  relayContainerSpec,
  RELAY_VERSION,
  doorImageLabels,
  doorImageRef,
  doorRouteOf,
  doorUnreachable,
  publishable,
  readDoorAnswer,
  routesTo,
} from '../../src/core/door.js';
import { DEFAULT_CONFIG } from '../../src/core/config.js';
import { releaseIdOf } from '../../src/core/front-door.js';
import { parsePort } from '../../src/core/ports.js';

const ports = (...specs: string[]) => specs.map(parsePort);

const local = (hostPort: number) => ({ hostIp: '127.0.0.1', hostPort });
const everywhere = (hostPort: number) => ({ hostIp: '', hostPort });

describe('the front door image', () => {
  it('is tagged by a hash of its program and base, and built from the base with the program, its compile cache and its command', () => {
    expect(doorImageRef('deploy-front-door', 'a'.repeat(64))).toBe(`deploy-front-door:${'a'.repeat(12)}`);
    expect(doorDockerfile('node:24-slim')).toBe(
      'FROM node:24-slim\nCOPY proxy.js /proxy.js\nENV NODE_COMPILE_CACHE=/var/cache/front-door\n' +
        'RUN ["node", "/proxy.js", "--help"]\nCMD ["node", "/proxy.js", "serve"]\n',
    );
    expect(doorImageLabels('node:24-slim')).toEqual({
      'dev.deploy.managed': 'true',
      'dev.deploy.front-door': 'image',
      'dev.deploy.front-door.base': 'node:24-slim',
    });
  });
});

describe('publishable', () => {
  it('keeps each binding once, and a port on every interface instead of the same port on one address', () => {
    expect(
      publishable([
        local(8080),
        everywhere(80),
        local(80),
        { hostIp: '0.0.0.0', hostPort: 80 },
        local(8080),
        { hostIp: '10.0.0.5', hostPort: 8080 },
      ]),
    ).toEqual([everywhere(80), { hostIp: '10.0.0.5', hostPort: 8080 }, local(8080)]);
  });
});

describe('doorContainerSpec', () => {
  it('publishes each host port on the same port inside, keeps state in the volume, restarts unless stopped, joins the network', () => {
    expect(
      doorContainerSpec(DOOR_NAMES, 'deploy-front-door', 'deploy-front-door:abc', [
        local(8080),
        everywhere(443),
        { hostIp: '10.0.0.5', hostPort: 8080 },
      ]),
    ).toEqual({
      name: 'deploy-front-door',
      Image: 'deploy-front-door:abc',
      Cmd: ['node', '/proxy.js', 'serve'],
      Env: [],
      Labels: {
        'dev.deploy.managed': 'true',
        'dev.deploy.front-door': 'container',
        'dev.deploy.front-door.bindings':
          '[{"hostIp":"","hostPort":443},{"hostIp":"10.0.0.5","hostPort":8080},{"hostIp":"127.0.0.1","hostPort":8080}]',
      },
      ExposedPorts: { '443/tcp': {}, '8080/tcp': {} },
      HostConfig: {
        PortBindings: {
          '443/tcp': [{ HostIp: '', HostPort: '443' }],
          '8080/tcp': [
            { HostIp: '10.0.0.5', HostPort: '8080' },
            { HostIp: '127.0.0.1', HostPort: '8080' },
          ],
        },
        RestartPolicy: { Name: 'unless-stopped' },
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        Init: true,
        Mounts: [{ Type: 'volume', Source: 'deploy-front-door-state', Target: '/var/lib/front-door', ReadOnly: false }],
        NetworkMode: 'deploy-front-door',
      },
    });
  });

  it("behind a relay publishes nothing, listens on its generation's sockets and says its generation", () => {
    const spec = doorContainerSpec(DOOR_NAMES, 'deploy-front-door-next', 'i', [local(8080)], 3);
    expect(spec.HostConfig.PortBindings).toEqual({});
    expect(spec.ExposedPorts).toEqual({});
    expect(spec.Env).toEqual(['FRONT_DOOR_SOCKETS=/var/lib/front-door/sockets/3']);
    expect(generationOf(spec.Labels)).toBe(3);
    expect(generationOf(doorContainerSpec(DOOR_NAMES, 'x', 'i', [local(8080)]).Labels)).toBeNull();
    expect(spec.HostConfig.NetworkMode).toBe('deploy-front-door');
  });

  it('writes a bindings label that reads back as what it publishes', () => {
    const spec = doorContainerSpec(DOOR_NAMES, 'x', 'i', [local(8081), everywhere(80)]);
    expect(bindingsOfLabel(spec.Labels['dev.deploy.front-door.bindings'])).toEqual([everywhere(80), local(8081)]);
  });
});

describe('the relay', () => {
  it('runs the same program on the host network with the door volume, labelled with its protocol version', () => {
    expect(relayContainerSpec(DOOR_NAMES, 'deploy-front-door-relay', 'deploy-front-door:abc')).toEqual({
      name: 'deploy-front-door-relay',
      Image: 'deploy-front-door:abc',
      Cmd: ['node', '/proxy.js', 'relay'],
      Labels: {
        'dev.deploy.managed': 'true',
        'dev.deploy.front-door': 'relay',
        'dev.deploy.front-door.relay-version': RELAY_VERSION,
      },
      HostConfig: {
        NetworkMode: 'host',
        RestartPolicy: { Name: 'unless-stopped' },
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
        Init: true,
        Mounts: [{ Type: 'volume', Source: 'deploy-front-door-state', Target: '/var/lib/front-door', ReadOnly: false }],
      },
    });
  });

  it('takes the ports where the host network is the host; Docker Desktop, rootless and DEPLOY_FRONT_DOOR_PUBLISH=1 publish', () => {
    const linux = { operatingSystem: 'Debian GNU/Linux 12 (bookworm)', rootless: false };
    expect(doorModeOf(linux)).toBe('relay');
    expect(doorModeOf(linux, { DEPLOY_FRONT_DOOR_PUBLISH: '1' })).toBe('publish');
    expect(doorModeOf(linux, { DEPLOY_FRONT_DOOR_PUBLISH: '0' })).toBe('relay');
    expect(doorModeOf({ operatingSystem: 'Docker Desktop', rootless: false })).toBe('publish');
    expect(doorModeOf({ ...linux, rootless: true })).toBe('publish');
  });
});

describe('bindingsOfLabel', () => {
  it('reads nothing from a missing or foreign label', () => {
    expect(bindingsOfLabel(undefined)).toBeNull();
    expect(bindingsOfLabel('not json')).toBeNull();
    expect(bindingsOfLabel('{"hostIp":"","hostPort":80}')).toBeNull();
    expect(bindingsOfLabel('[{"hostIp":"","hostPort":0}]')).toBeNull();
    expect(bindingsOfLabel('[{"hostIp":1,"hostPort":80}]')).toBeNull();
    expect(bindingsOfLabel('[]')).toEqual([]);
  });
});

describe('doorAction', () => {
  const image = 'sha256:new';
  const running = (bindings: ReturnType<typeof local>[] | null, imageId = image) => ({
    running: true,
    imageId,
    bindings,
  });

  it('creates a door where there is none', () => {
    expect(doorAction(null, { imageId: image, bindings: [local(8080)] })).toEqual({
      kind: 'create',
      bindings: [local(8080)],
    });
  });

  it('keeps a running door of this image that publishes what is wanted (a port on every interface covers one address)', () => {
    expect(doorAction(running([local(8080), local(8081)]), { imageId: image, bindings: [local(8081)] })).toEqual({
      kind: 'keep',
      bindings: [local(8080), local(8081)],
    });
    expect(doorAction(running([everywhere(80)]), { imageId: image, bindings: [local(80)] })).toEqual({
      kind: 'keep',
      bindings: [everywhere(80)],
    });
  });

  it('starts a stopped door that is up to date', () => {
    expect(
      doorAction({ ...running([local(8080)]), running: false }, { imageId: image, bindings: [local(8080)] }),
    ).toEqual({ kind: 'start', bindings: [local(8080)] });
  });

  it('replaces a running door that lacks a port, publishing the ports it had and the new one', () => {
    expect(doorAction(running([local(8080)]), { imageId: image, bindings: [local(9090)] })).toEqual({
      kind: 'replace',
      bindings: [local(8080), local(9090)],
      why: 'it does not publish 127.0.0.1:9090',
    });
    // The same port on every interface takes the place of the one address.
    expect(doorAction(running([local(80)]), { imageId: image, bindings: [everywhere(80)] })).toEqual({
      kind: 'replace',
      bindings: [everywhere(80)],
      why: 'it does not publish *:80',
    });
  });

  it('replaces a running door of another image with the same ports, and says both reasons when both hold', () => {
    expect(doorAction(running([local(8080)], 'sha256:old'), { imageId: image, bindings: [local(8080)] })).toEqual({
      kind: 'replace',
      bindings: [local(8080)],
      why: 'its image is not the one this version of deploy runs',
    });
    expect(doorAction(running([local(8080)], 'sha256:old'), { imageId: image, bindings: [local(1)] })).toEqual({
      kind: 'replace',
      bindings: [local(1), local(8080)],
      why: 'its image is not the one this version of deploy runs; it does not publish 127.0.0.1:1',
    });
  });

  it('makes a stopped outdated door again (no traffic to hand over), and replaces one whose ports are not recorded', () => {
    expect(
      doorAction(
        { running: false, imageId: 'sha256:old', bindings: [local(8080)] },
        { imageId: image, bindings: [local(8080)] },
      ),
    ).toEqual({
      kind: 'recreate',
      bindings: [local(8080)],
      why: 'its image is not the one this version of deploy runs',
    });
    expect(doorAction(running(null), { imageId: image, bindings: [local(8080)] })).toEqual({
      kind: 'replace',
      bindings: [local(8080)],
      why: 'its published ports are not recorded on it',
    });
  });
});

describe('the control channel', () => {
  it('reads the one JSON line of answer, and nothing else as one', () => {
    expect(readDoorAnswer('{"ok":true,"result":{"pong":true}}\n')).toEqual({ ok: true, result: { pong: true } });
    expect(readDoorAnswer('{"ok":false,"error":"no app named web"}\n')).toEqual({
      ok: false,
      error: 'no app named web',
    });
    expect(readDoorAnswer('{"ok":true}')).toEqual({ ok: true, result: null });
    expect(readDoorAnswer('')).toBeNull();
    expect(readDoorAnswer('node: not found')).toBeNull();
    expect(readDoorAnswer('{"ok":false}')).toBeNull();
    expect(readDoorAnswer('[1]')).toBeNull();
  });

  it('tells a door that cannot be reached from a door that said no', () => {
    expect(doorUnreachable("cannot reach the front door's control socket /run/front-door/control.sock: ENOENT")).toBe(
      true,
    );
    expect(doorUnreachable('the front door closed the control connection without an answer')).toBe(true);
    expect(doorUnreachable('web: web-1:8080 did not pass its health check: HTTP 500')).toBe(false);
  });

  it("gives a deploy's exec the door's gate, its drain when waited for, and a margin", () => {
    expect(deployExecTimeoutMs({ app: 'a', target: 'a-1:80' }, false)).toBe(75_000);
    expect(deployExecTimeoutMs({ app: 'a', target: 'a-1:80', timing: { deployTimeoutMs: 5_000 } }, false)).toBe(20_000);
    expect(
      deployExecTimeoutMs(
        { app: 'a', target: 'a-1:80', timing: { deployTimeoutMs: 5_000, drainMs: 40_000, streamDrainMs: 1_000 } },
        true,
      ),
    ).toBe(60_000);
  });
});

describe('doorRouteOf', () => {
  const config = (over: Partial<typeof DEFAULT_CONFIG>) => ({
    ...DEFAULT_CONFIG,
    ports: ports('127.0.0.1:8080:3000'),
    ...over,
  });

  it('routes the first published port to the release by its alias, with its health path, gate timeout, drain and bake window', () => {
    const c = config({
      healthCheck: { ...DEFAULT_CONFIG.healthCheck, path: '/healthz', intervalMs: 500, timeoutMs: 30_000 },
      drainTimeoutMs: 10_000,
      bakeWindowMs: 0,
      domains: ['shop.example.com'],
    });
    expect(doorRouteOf({ app: 'shop', id: 'ab12cd', config: c })).toEqual({
      app: 'shop',
      target: 'shop-ab12cd:3000',
      kind: 'http',
      hosts: ['shop.example.com'],
      port: 8080,
      tls: null,
      health: { type: 'http', path: '/healthz', intervalMs: 500 },
      timing: { deployTimeoutMs: 30_000, drainMs: 10_000, bakeMs: 0 },
    });
  });

  it('checks a TCP connect where there is no HTTP path, and for a TCP app (which has no host names)', () => {
    const noPath = config({ healthCheck: { ...DEFAULT_CONFIG.healthCheck, path: null } });
    expect(doorRouteOf({ app: 'a', id: '1', config: noPath }).health).toEqual({
      type: 'tcp',
      intervalMs: DEFAULT_CONFIG.healthCheck.intervalMs,
    });
    const tcp = doorRouteOf({
      app: 'db',
      id: '2',
      config: config({ proxy: 'tcp', domains: ['x.example.com'], ports: ports('5432:5432') }),
    });
    expect({ kind: tcp.kind, hosts: tcp.hosts, port: tcp.port, target: tcp.target, health: tcp.health }).toEqual({
      kind: 'tcp',
      hosts: [],
      port: 5432,
      target: 'db-2:5432',
      health: { type: 'tcp', intervalMs: DEFAULT_CONFIG.healthCheck.intervalMs },
    });
  });
});

describe('doorRouteOf for a Swarm service', () => {
  const c = { ...DEFAULT_CONFIG, ports: ports('8080:3000'), runtime: 'swarm' as const };
  it('expects as many addresses as replicas (sent only above 1), and targets a restart by its own alias', () => {
    expect(doorRouteOf({ app: 'shop', id: 'ab12cd', runtime: 'service', config: { ...c, replicas: 3 } })).toMatchObject(
      { target: 'shop-ab12cd:3000', expect: 3 },
    );
    expect(
      doorRouteOf({ app: 'shop', id: 'ab12cd', runtime: 'service', config: { ...c, replicas: 1 } }),
    ).not.toHaveProperty('expect');
    // A container app never sends it, whatever its replicas say.
    expect(
      doorRouteOf({ app: 'shop', id: 'ab12cd', runtime: 'container', config: { ...c, replicas: 3 } }),
    ).not.toHaveProperty('expect');
    const restarted = { app: 'shop', id: 'ab12cd', version: 4, containerName: 'shop-v4-ab12cd-r2', config: c };
    expect(doorRouteOf(restarted).target).toBe('shop-ab12cd-r2:3000');
    expect(releaseIdOf('shop', 'shop-ab12cd-r2:3000')).toBe('ab12cd');
    expect(releaseIdOf('shop', 'shop-ab12cd:3000')).toBe('ab12cd');
    expect(releaseIdOf('shop', 'shop-ab12cd')).toBe('ab12cd');
    expect(releaseIdOf('shop', 'web-ab12cd:3000')).toBeNull();
    // Another release's name (or none) is no restart.
    expect(doorRouteOf({ ...restarted, containerName: 'shop-v3-ab12cd-r2' }).target).toBe('shop-ab12cd:3000');
  });
});

describe("the door's base image", () => {
  it('is node:24-slim unless DEPLOY_FRONT_DOOR_IMAGE names another; a name with spaces is refused', () => {
    expect(frontDoorBaseImage({})).toBe('node:24-slim');
    expect(frontDoorBaseImage({ DEPLOY_FRONT_DOOR_IMAGE: ' registry.example.com/node:24 ' })).toBe(
      'registry.example.com/node:24',
    );
    expect(() => frontDoorBaseImage({ DEPLOY_FRONT_DOOR_IMAGE: 'node 24' })).toThrow(
      'DEPLOY_FRONT_DOOR_IMAGE must be an image name (got "node 24").',
    );
  });
});

describe('doorCheckFailure', () => {
  it("says the door's refusal as a failed check, with its time in prose and its last answer", () => {
    expect(
      doorCheckFailure(
        'web: web-abcd2345:8080 did not pass its health check: not healthy within 4000 ms: GET /up answered 500',
      ),
    ).toBe("the front door's check did not pass within 4s (last: GET /up answered 500)");
    expect(doorCheckFailure('web: web-abcd2345:8080 did not pass its health check: cancelled')).toBe(
      "the front door's check failed: cancelled",
    );
  });
});

describe('routesTo', () => {
  const d = { app: 'web', id: 'abcd2345' };
  it("is true only when the door's active target is the release's alias", () => {
    expect(routesTo({ active: { address: 'web-abcd2345:8080' } }, d)).toBe(true);
    // A Swarm release restarted beside itself (core/front-door restartCount) is still the release.
    expect(routesTo({ active: { address: 'web-abcd2345-r3:8080' } }, d)).toBe(true);
    expect(routesTo({ active: { address: 'web-abcd2345-x3:8080' } }, d)).toBe(false);
    expect(routesTo({ active: { address: 'web-abcd23456:8080' } }, d)).toBe(false);
    expect(routesTo({ active: { address: 'web-efgh2345:8080' } }, d)).toBe(false);
    expect(routesTo({ active: null }, d)).toBe(false);
    expect(routesTo(null, d)).toBe(false);
  });
});

describe('doorRouteOf with TLS', () => {
  it('serves HTTPS on the TLS port from the files in the door volume, and redirects the plain port', () => {
    const config = {
      ...DEFAULT_CONFIG,
      proxy: true as const,
      ports: ports('127.0.0.1:8080:80', '127.0.0.1:8443:80'),
      domains: ['a.example'],
      tlsCertificate: 'cert.pem',
      tlsKey: 'key.pem',
    };
    const route = doorRouteOf({ app: 'web', id: 'abcd2345', config });
    expect(route.port).toBe(8080);
    expect(route.hosts).toEqual(['a.example']);
    expect(route.tls).toEqual({
      certFile: '/var/lib/front-door/tls/web/cert.pem',
      keyFile: '/var/lib/front-door/tls/web/key.pem',
      port: 8443,
      redirect: true,
    });
    // The key's path on this machine is never in what the door is sent.
    expect(JSON.stringify(route)).not.toContain('"key.pem"');
  });
});

describe('staleRoutes: routes whose release is gone from the engine', () => {
  const routes = [
    { app: 'web', address: 'web-aaa111:8080' },
    { app: 'api', address: 'api-bbb222:3000' },
    { app: 'odd', address: '10.0.0.5:80' },
  ];
  it('names a route whose release has no workload, and keeps one that has (running or stopped alike)', () => {
    expect(staleRoutes(routes, [], [{ app: 'api', id: 'bbb222' }])).toEqual([
      { app: 'web', address: 'web-aaa111:8080', why: 'no container or service of release aaa111 is on the engine' },
    ]);
  });
  it('judges by the release, not the app: another release of the app on the engine does not keep a dead route', () => {
    expect(
      staleRoutes(
        [routes[0]!],
        [],
        [
          { app: 'web', id: 'ccc333' },
          { app: 'other', id: 'aaa111' },
        ],
      ).map((r) => r.app),
    ).toEqual(['web']);
  });
  it('leaves a route it cannot read (not APP-ID:PORT) alone, and names a failed route only when its app has nothing', () => {
    expect(staleRoutes([routes[2]!], [{ app: 'old' }, { app: 'web' }], [{ app: 'web', id: 'x' }])).toEqual([
      { app: 'old', address: null, why: 'the door could not restore it, and the app has nothing on the engine' },
    ]);
  });
});
