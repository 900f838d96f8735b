import { LogDemuxer, type LogLine } from '../../../core/logs.js';
import type { Query } from '../api.js';
import type { EngineConnection } from './connection.js';
import type { LogRange } from './types.js';

export function logQuery(options: LogRange & { follow?: boolean }) {
  return {
    stdout: 'true',
    stderr: 'true',
    timestamps: 'true',
    follow: options.follow ? 'true' : undefined,
    tail: String(options.tail ?? 'all'),
    since: options.since !== undefined ? Math.floor(options.since / 1000) : undefined,
  };
}

/**
 * Follows a multiplexed log stream (a container's, or a service's) until it ends or the signal aborts, handing
 * each line on demultiplexed into stdout and stderr.
 */
export async function followMultiplexed(
  conn: EngineConnection,
  what: string,
  path: string,
  query: Query,
  onLine: (line: LogLine) => void,
  signal: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    const stream = await conn.call(what, () => conn.api.stream('GET', path, { query, signal: controller.signal }));
    const demux = new LogDemuxer(true);
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => demux.push(chunk).forEach(onLine));
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    stream.destroy();
    demux.flush().forEach(onLine);
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/** A container's logs, read once or followed, demultiplexed into stdout and stderr. */
export class EngineLogs {
  constructor(private readonly conn: EngineConnection) {}

  /** The last `tail` lines of a container's logs, split into stdout and stderr. */
  async read(id: string, options: LogRange = {}): Promise<LogLine[]> {
    const buffer = await this.conn.call('read logs', () =>
      this.conn.api.buffer('GET', `/containers/${encodeURIComponent(id)}/logs`, { query: logQuery(options) }),
    );
    const demux = new LogDemuxer(true);
    return [...demux.push(buffer), ...demux.flush()];
  }

  /**
   * Follows a container's logs as they come (after the last `tail` lines), until the container stops or
   * the signal aborts. Lines arrive demultiplexed into stdout and stderr.
   */
  async follow(id: string, options: LogRange, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void> {
    await followMultiplexed(
      this.conn,
      'follow logs',
      `/containers/${encodeURIComponent(id)}/logs`,
      logQuery({ ...options, follow: true }),
      onLine,
      signal,
    );
  }
}
