import { engineHost } from './endpoint-choice.js';
import { frontDoorUrls, routedByFrontDoor } from './front-door.js';
import type { Deployment, PortMapping } from './types.js';

/**
 * Where a person opens a release whose traffic comes through published ports: each published TCP port as a URL
 * on its host IP, or on the engine's host when it is published on every interface.
 */
export function publishedUrls(ports: readonly PortMapping[], endpoint: string): string[] {
  const { host } = engineHost(endpoint);
  return ports
    .filter((p) => p.protocol === 'tcp')
    .map((p) => {
      const h = p.hostIp === '' || p.hostIp === '0.0.0.0' || p.hostIp === '::' ? host : p.hostIp;
      return `http://${h.includes(':') ? `[${h}]` : h}:${p.hostPort}/`;
    });
}

/**
 * Where a person opens a release, however its traffic comes: through the front door (its domains, and the HTTPS
 * port when it serves TLS), or through the ports its container publishes.
 */
export function urlsOf(d: Pick<Deployment, 'config' | 'endpoint'>): string[] {
  return routedByFrontDoor(d.config)
    ? frontDoorUrls(d.config, engineHost(d.endpoint).host)
    : publishedUrls(d.config.ports, d.endpoint);
}
