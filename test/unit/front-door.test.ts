import { describe, expect, it } from 'vitest';
import {
  tlsPortsOf,
  bindingsOf,
  covers,
  frontDoorUrls,
  portConflict,
  routedByFrontDoor,
  unroutedReason,
  union,
  upstreamOf,
} from '../../src/core/front-door.js';
import { completeConfig } from '../../src/core/setting-table.js';
import { DEFAULT_CONFIG } from '../../src/core/config.js';
import { parsePort } from '../../src/core/ports.js';

const ports = (...specs: string[]) => specs.map(parsePort);

describe('routedByFrontDoor', () => {
  it('routes an app with TCP ports unless proxy is false', () => {
    expect(routedByFrontDoor({ proxy: true, ports: ports('127.0.0.1:8080:80') })).toBe(true);
    expect(routedByFrontDoor({ proxy: 'tcp', ports: ports('5432:5432') })).toBe(true);
    expect(routedByFrontDoor({ proxy: false, ports: ports('8080:80') })).toBe(false);
    expect(unroutedReason({ proxy: false, ports: ports('8080:80') })).toBe('proxy is false');
  });
  it('leaves an app without ports, or with a UDP port, to publish itself', () => {
    expect(routedByFrontDoor({ proxy: true, ports: [] })).toBe(false);
    expect(unroutedReason({ proxy: true, ports: [] })).toBeNull();
    expect(routedByFrontDoor({ proxy: true, ports: ports('8080:80', '5353:53/udp') })).toBe(false);
    expect(unroutedReason({ proxy: true, ports: ports('5353:53/udp') })).toMatch(/UDP/);
  });
  it('takes a release recorded before the front door existed as publishing its own ports', () => {
    const { proxy: _p, ...old } = { ...DEFAULT_CONFIG, ports: ports('8080:80') };
    expect(completeConfig(old).proxy).toBe(false);
    // A new app's ports are the front door's unless it says `proxy: false` (README "Zero-downtime switches").
    expect(DEFAULT_CONFIG.proxy).toBe(true);
  });
});

describe('bindings', () => {
  it('are the distinct host address and port pairs, and a wildcard covers one address', () => {
    const b = bindingsOf(ports('127.0.0.1:8080:80', '127.0.0.1:8080:81', '9090:90'));
    expect(b).toEqual([
      { hostIp: '127.0.0.1', hostPort: 8080 },
      { hostIp: '', hostPort: 9090 },
    ]);
    expect(covers(b, [{ hostIp: '127.0.0.1', hostPort: 9090 }])).toBe(true);
    expect(covers(b, [{ hostIp: '127.0.0.1', hostPort: 7070 }])).toBe(false);
    expect(union(b, [{ hostIp: '127.0.0.1', hostPort: 7070 }]).map((x) => x.hostPort)).toEqual([7070, 8080, 9090]);
  });
});

describe('portConflict', () => {
  const others = [
    { app: 'web', listen: [80], hosts: ['web.example'] },
    { app: 'raw', listen: [8080], hosts: [] },
  ];
  it('lets apps share a port by name only', () => {
    expect(portConflict('api', { ports: ports('80:80'), domains: ['api.example'] }, others)).toBeNull();
    expect(portConflict('api', { ports: ports('80:80'), domains: [] }, others)).toEqual({ app: 'web', port: 80 });
    expect(portConflict('api', { ports: ports('8080:80'), domains: ['api.example'] }, others)).toEqual({
      app: 'raw',
      port: 8080,
    });
    expect(portConflict('raw', { ports: ports('8080:80'), domains: [] }, others)).toBeNull();
  });
});

describe('upstream and URLs', () => {
  it('reaches a deployment by a name that does not change when its container is renamed', () => {
    expect(upstreamOf({ app: 'shop', id: 'ab12cd', config: { ...DEFAULT_CONFIG, ports: ports('8080:3000') } })).toBe(
      'shop-ab12cd:3000',
    );
  });
  it('gives domains on their ports, https with a certificate, and the address otherwise', () => {
    expect(
      frontDoorUrls({ ports: ports('127.0.0.1:8080:80'), domains: [], tlsCertificate: null }, 'localhost'),
    ).toEqual(['http://127.0.0.1:8080/']);
    const tls = { tlsCertificate: 'c.pem', tlsKey: 'k.pem' };
    // With TLS, the HTTPS port only (443, else the second): the plain one redirects to it.
    expect(frontDoorUrls({ ports: ports('80:8080', '443:8080'), domains: ['a.example'], ...tls }, 'h')).toEqual([
      'https://a.example/',
    ]);
    expect(frontDoorUrls({ ports: ports('8080:80', '8443:80'), domains: ['a.example'], ...tls }, 'h')).toEqual([
      'https://a.example:8443/',
    ]);
    expect(frontDoorUrls({ ports: ports('127.0.0.1:8080:80', '127.0.0.1:8443:80'), domains: [], ...tls }, 'h')).toEqual(
      ['https://127.0.0.1:8443/'],
    );
    // Not servable with TLS (one port): the plain address.
    expect(frontDoorUrls({ ports: ports('8443:443'), domains: ['a.example'], ...tls }, 'h')).toEqual([
      'http://a.example:8443/',
    ]);
  });
});

describe('tlsPortsOf', () => {
  const base = { proxy: true as const, tlsCertificate: 'c.pem', tlsKey: 'k.pem' };
  it('serves HTTPS on 443 (else the second port) and plain HTTP, which redirects, on another', () => {
    const p = ports('443:8080', '80:8080');
    expect(tlsPortsOf({ ...base, ports: p })).toEqual({ https: p[0], http: p[1] });
    const q = ports('8080:8080', '8443:8080');
    expect(tlsPortsOf({ ...base, ports: q })).toEqual({ http: q[0], https: q[1] });
  });
  it('is null without TLS, and names what cannot work', () => {
    expect(tlsPortsOf({ ...base, tlsCertificate: null, tlsKey: null, ports: ports('80:80') })).toBeNull();
    expect(tlsPortsOf({ ...base, tlsKey: null, ports: ports('80:80', '443:80') })).toEqual({
      problem: 'tlsCertificate is set without tlsKey',
    });
    expect(tlsPortsOf({ ...base, ports: ports('443:80') })).toMatchObject({
      problem: expect.stringMatching(/two published ports/),
    });
    expect(tlsPortsOf({ ...base, proxy: 'tcp', ports: ports('80:80', '443:80') })).toMatchObject({
      problem: expect.stringMatching(/HTTP routes only/),
    });
  });
});
