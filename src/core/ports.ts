import { DeployError } from './errors.js';
import type { PortMapping } from './types.js';

const PORT_HINT = 'Write [IP:]HOST:CONTAINER[/tcp|/udp], for example 8080:80 or 127.0.0.1:8080:80.';

function portNumber(text: string, what: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new DeployError('usage', `Invalid ${what} port ${JSON.stringify(text)} in ${JSON.stringify(spec)}.`, {
      hint: PORT_HINT,
    });
  }
  const n = Number(text);
  if (n < 1 || n > 65535) {
    throw new DeployError('usage', `Port ${n} in ${JSON.stringify(spec)} is out of range (1-65535).`, {
      hint: PORT_HINT,
    });
  }
  return n;
}

/** Parses a publish spec as `docker run -p` writes it (a host port is required). */
export function parsePort(spec: string): PortMapping {
  let rest = spec.trim();
  let protocol: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') {
      throw new DeployError('usage', `Invalid protocol ${JSON.stringify(proto)} in port ${JSON.stringify(spec)}.`, {
        hint: PORT_HINT,
      });
    }
    protocol = proto;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1] ?? '';
    rest = v6[2] ?? '';
  }
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) {
    hostIp = parts.shift() ?? '';
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp) || hostIp.split('.').some((o) => Number(o) > 255)) {
      throw new DeployError(
        'usage',
        `Invalid host address ${JSON.stringify(hostIp)} in port ${JSON.stringify(spec)}.`,
        { hint: PORT_HINT },
      );
    }
  }
  if (parts.length !== 2) {
    throw new DeployError('usage', `Invalid port ${JSON.stringify(spec)}.`, { hint: PORT_HINT });
  }
  return {
    hostIp,
    hostPort: portNumber(parts[0] ?? '', 'host', spec),
    containerPort: portNumber(parts[1] ?? '', 'container', spec),
    protocol,
  };
}

export function formatPort(p: PortMapping): string {
  const ip = p.hostIp === '' ? '' : p.hostIp.includes(':') ? `[${p.hostIp}]:` : `${p.hostIp}:`;
  return `${ip}${p.hostPort}:${p.containerPort}${p.protocol === 'udp' ? '/udp' : ''}`;
}

/** Two mappings collide when they would bind the same host port and protocol on an overlapping address. */
export function portsCollide(a: readonly PortMapping[], b: readonly PortMapping[]): boolean {
  const wildcard = (ip: string) => ip === '' || ip === '0.0.0.0' || ip === '::';
  return a.some((x) =>
    b.some(
      (y) =>
        x.hostPort === y.hostPort &&
        x.protocol === y.protocol &&
        (wildcard(x.hostIp) || wildcard(y.hostIp) || x.hostIp === y.hostIp),
    ),
  );
}

export function assertNoDuplicatePorts(ports: readonly PortMapping[]): void {
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      const a = ports[i] as PortMapping;
      const b = ports[j] as PortMapping;
      if (portsCollide([a], [b])) {
        throw new DeployError('usage', `Ports ${formatPort(a)} and ${formatPort(b)} bind the same host port.`, {
          hint: 'Publish each host port once.',
        });
      }
    }
  }
}
