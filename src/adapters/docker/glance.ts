import { createRequire } from 'node:module';
import type { ContainerSummary } from './engine/types.js';

// Through require, as api.ts loads node:http: the ESM namespace of node:net costs ~2 ms of start-up here, the
// module itself (already loaded for the standard streams) next to nothing.
const { createConnection } = createRequire(import.meta.url)('node:net') as typeof import('node:net');

/** The listing's items, as the Engine API gives them. */
export type ListedContainers = Array<{
  Id: string;
  Names: string[];
  State: string;
  Status?: string;
  ImageID: string;
  Labels: Record<string, string> | null;
}>;

/** "Exited (137) 5 minutes ago" → 137; "Restarting (1) …" → 1. */
function exitCodeIn(status: string): number | null {
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : null;
}

export function toSummaries(list: ListedContainers): ContainerSummary[] {
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    state: c.State,
    status: c.Status ?? '',
    exitCode: exitCodeIn(c.Status ?? ''),
    imageId: c.ImageID,
    labels: c.Labels ?? {},
  }));
}

/**
 * A glance at the containers carrying some labels, for read-only commands that check what runs before
 * answering: one HTTP/1.0 GET over a plain socket (a local unix socket, or tcp without TLS), no version
 * handshake. It costs ~3 ms where the full client costs ~20 ms (loading node:http, the /_ping, the agent),
 * which `deploy ls` cannot afford. The listing's shape has not changed across API versions, so the engine's
 * own default version is fine. Null when the endpoint needs more (TLS, ssh): use Engine then.
 */
export function glanceContainers(
  url: string,
  labels: Record<string, string>,
  signal: AbortSignal,
): Promise<ContainerSummary[] | null> {
  const u = new URL(url);
  const target =
    u.protocol === 'unix:'
      ? { path: decodeURIComponent(u.pathname) }
      : u.protocol === 'tcp:' || u.protocol === 'http:'
        ? { host: u.hostname, port: Number(u.port) || 2375 }
        : null;
  if (!target) return Promise.resolve(null);
  const filters = encodeURIComponent(JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }));
  return new Promise<ContainerSummary[]>((resolve, reject) => {
    const socket = createConnection(target);
    const chunks: Buffer[] = [];
    const abort = () => socket.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    socket.on('connect', () =>
      socket.write(`GET /containers/json?all=1&filters=${filters} HTTP/1.0\r\nHost: docker\r\n\r\n`),
    );
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (error) => {
      signal.removeEventListener('abort', abort);
      reject(error);
    });
    socket.on('end', () => {
      signal.removeEventListener('abort', abort);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      if (split < 0 || status !== '200') {
        reject(new Error(`the engine answered ${status ? `HTTP ${status}` : 'something that is not HTTP'}`));
        return;
      }
      try {
        resolve(toSummaries(JSON.parse(text.slice(split + 4)) as ListedContainers));
      } catch (error) {
        reject(error);
      }
    });
  });
}
