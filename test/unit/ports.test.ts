import { describe, expect, it } from 'vitest';
import { assertNoDuplicatePorts, formatPort, parsePort, portsCollide } from '../../src/core/ports.js';
import { failure, failureMessage, portMapping as port, usageFailure } from '../helpers/unit.js';

const PORT_HINT = 'Write [IP:]HOST:CONTAINER[/tcp|/udp], for example 8080:80 or 127.0.0.1:8080:80.';

describe('parsePort', () => {
  it('parses HOST:CONTAINER as tcp on all interfaces', () => {
    expect(parsePort('8080:80')).toEqual({ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  });

  it('parses an IPv4 host address', () => {
    expect(parsePort('127.0.0.1:8080:80')).toEqual({
      hostIp: '127.0.0.1',
      hostPort: 8080,
      containerPort: 80,
      protocol: 'tcp',
    });
  });

  it('parses a bracketed IPv6 host address', () => {
    expect(parsePort('[::1]:8080:80')).toEqual({ hostIp: '::1', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePort('[fe80::1:2]:53:53/udp')).toEqual({
      hostIp: 'fe80::1:2',
      hostPort: 53,
      containerPort: 53,
      protocol: 'udp',
    });
  });

  it('reads the protocol suffix, in any case', () => {
    expect(parsePort('53:53/udp').protocol).toBe('udp');
    expect(parsePort('53:53/UDP').protocol).toBe('udp');
    expect(parsePort('80:80/tcp').protocol).toBe('tcp');
    expect(parsePort('80:80/Tcp').protocol).toBe('tcp');
  });

  it('ignores surrounding whitespace', () => {
    expect(parsePort('  0.0.0.0:443:8443/tcp \n')).toEqual({
      hostIp: '0.0.0.0',
      hostPort: 443,
      containerPort: 8443,
      protocol: 'tcp',
    });
  });

  it('accepts the bounds of the port range', () => {
    expect(parsePort('1:65535')).toEqual(port(1, 65535));
    expect(parsePort('65535:1')).toEqual(port(65535, 1));
  });

  it('requires a host port (a bare container port is refused)', () => {
    expect(failure(() => parsePort('80'))).toEqual(usageFailure('Invalid port "80".', PORT_HINT));
  });

  it('refuses too many parts', () => {
    expect(failureMessage(() => parsePort('1:2:3:4'))).toBe('Invalid port "1:2:3:4".');
    expect(failureMessage(() => parsePort('[::1]:1:2:3'))).toBe('Invalid port "[::1]:1:2:3".');
    expect(failureMessage(() => parsePort('[::1]:8080'))).toBe('Invalid port "[::1]:8080".');
  });

  it('refuses an unknown protocol', () => {
    expect(failure(() => parsePort('80:80/sctp'))).toEqual(
      usageFailure('Invalid protocol "sctp" in port "80:80/sctp".', PORT_HINT),
    );
    expect(failureMessage(() => parsePort('80:80/'))).toBe('Invalid protocol "" in port "80:80/".');
  });

  it('refuses a host address that is not an IPv4 address', () => {
    expect(failureMessage(() => parsePort('localhost:8080:80'))).toBe(
      'Invalid host address "localhost" in port "localhost:8080:80".',
    );
    expect(failureMessage(() => parsePort('256.0.0.1:8080:80'))).toBe(
      'Invalid host address "256.0.0.1" in port "256.0.0.1:8080:80".',
    );
    expect(failureMessage(() => parsePort('10.0.0:8080:80'))).toBe(
      'Invalid host address "10.0.0" in port "10.0.0:8080:80".',
    );
  });

  it('names the bad half of the mapping when a port is not a number', () => {
    expect(failureMessage(() => parsePort('http:80'))).toBe('Invalid host port "http" in "http:80".');
    expect(failureMessage(() => parsePort('8080:web'))).toBe('Invalid container port "web" in "8080:web".');
    expect(failureMessage(() => parsePort(':80'))).toBe('Invalid host port "" in ":80".');
    expect(failureMessage(() => parsePort('8080-8090:80'))).toBe('Invalid host port "8080-8090" in "8080-8090:80".');
    expect(failureMessage(() => parsePort('-1:80'))).toBe('Invalid host port "-1" in "-1:80".');
    expect(failureMessage(() => parsePort('123456:80'))).toBe('Invalid host port "123456" in "123456:80".');
  });

  it('refuses ports outside 1-65535', () => {
    expect(failure(() => parsePort('0:80'))).toEqual(
      usageFailure('Port 0 in "0:80" is out of range (1-65535).', PORT_HINT),
    );
    expect(failureMessage(() => parsePort('8080:65536'))).toBe('Port 65536 in "8080:65536" is out of range (1-65535).');
  });
});

describe('formatPort', () => {
  it('writes tcp without a suffix and udp with one', () => {
    expect(formatPort(port(8080, 80))).toBe('8080:80');
    expect(formatPort(port(53, 53, '', 'udp'))).toBe('53:53/udp');
  });

  it('writes an IPv4 address plainly and an IPv6 address in brackets', () => {
    expect(formatPort(port(8080, 80, '127.0.0.1'))).toBe('127.0.0.1:8080:80');
    expect(formatPort(port(8080, 80, '::1', 'udp'))).toBe('[::1]:8080:80/udp');
  });

  it('round-trips with parsePort', () => {
    for (const spec of [
      '8080:80',
      '53:53/udp',
      '127.0.0.1:8080:80',
      '[::1]:8080:80',
      '[::]:443:443/udp',
      '0.0.0.0:1:65535',
    ]) {
      expect(formatPort(parsePort(spec))).toBe(spec);
    }
  });
});

describe('portsCollide', () => {
  it('is false when either side is empty', () => {
    expect(portsCollide([], [])).toBe(false);
    expect(portsCollide([port(8080)], [])).toBe(false);
    expect(portsCollide([], [port(8080)])).toBe(false);
  });

  it('is true for the same host port and protocol, whatever the container port', () => {
    expect(portsCollide([port(8080, 80)], [port(8080, 3000)])).toBe(true);
  });

  it('is false for different host ports', () => {
    expect(portsCollide([port(8080)], [port(8081)])).toBe(false);
  });

  it('is false for the same host port on different protocols', () => {
    expect(portsCollide([port(53, 53, '', 'tcp')], [port(53, 53, '', 'udp')])).toBe(false);
  });

  it('treats "", 0.0.0.0 and :: as every address', () => {
    for (const wildcard of ['', '0.0.0.0', '::']) {
      expect(portsCollide([port(8080, 80, wildcard)], [port(8080, 80, '127.0.0.1')])).toBe(true);
      expect(portsCollide([port(8080, 80, '10.1.2.3')], [port(8080, 80, wildcard)])).toBe(true);
    }
  });

  it('is true for the same specific address and false for two different ones', () => {
    expect(portsCollide([port(8080, 80, '127.0.0.1')], [port(8080, 80, '127.0.0.1')])).toBe(true);
    expect(portsCollide([port(8080, 80, '127.0.0.1')], [port(8080, 80, '127.0.0.2')])).toBe(false);
  });

  it('finds one colliding pair among many', () => {
    const a = [port(80), port(443), port(53, 53, '', 'udp')];
    const b = [port(8080), port(9090), port(53, 5353, '', 'udp')];
    expect(portsCollide(a, b)).toBe(true);
    expect(portsCollide(a, b.slice(0, 2))).toBe(false);
  });
});

describe('assertNoDuplicatePorts', () => {
  it('accepts distinct host ports, and one host port on two protocols or two addresses', () => {
    expect(() =>
      assertNoDuplicatePorts([
        port(80),
        port(443),
        port(53, 53, '', 'tcp'),
        port(53, 53, '', 'udp'),
        port(9000, 1, '127.0.0.1'),
        port(9000, 2, '127.0.0.2'),
      ]),
    ).not.toThrow();
  });

  it('refuses two mappings of one host port, naming both', () => {
    expect(failure(() => assertNoDuplicatePorts([port(80, 80), port(8080, 80), port(8080, 81, '127.0.0.1')]))).toEqual(
      usageFailure('Ports 8080:80 and 127.0.0.1:8080:81 bind the same host port.', 'Publish each host port once.'),
    );
  });

  it('refuses the same mapping written twice', () => {
    expect(failureMessage(() => assertNoDuplicatePorts([port(8080), port(8080)]))).toBe(
      'Ports 8080:80 and 8080:80 bind the same host port.',
    );
  });
});
