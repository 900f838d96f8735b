import { engineHost } from './endpoint-choice.js';
import type { PortMapping } from './types.js';

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
