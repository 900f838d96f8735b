import { CONNECTION_LOST } from '../events.js';
import { jsonLines, type EngineConnection } from './connection.js';
import type { ContainerEvent } from './types.js';

/** The engine's event stream, as one container's lifecycle. */
export class EngineEvents {
  constructor(private readonly conn: EngineConnection) {}

  /**
   * Follows a container's lifecycle events (start, die, health_status, oom) from now on. Start watching
   * before acting, so no event is missed. The stream ending while watched means the engine went away, which
   * is reported as a CONNECTION_LOST event. Call close() when done.
   */
  async watch(containerId: string, onEvent: (event: ContainerEvent) => void): Promise<{ close(): void }> {
    const controller = new AbortController();
    const stream = await this.conn.call('watch events', () =>
      this.conn.api.stream('GET', '/events', {
        query: { filters: JSON.stringify({ container: [containerId], type: ['container'] }) },
        signal: controller.signal,
      }),
    );
    let closed = false;
    jsonLines(stream, (e) => {
      const attrs = (e.Actor as { Attributes?: Record<string, string> } | undefined)?.Attributes;
      const code = attrs?.exitCode;
      onEvent({ action: String(e.Action ?? e.status ?? ''), exitCode: code === undefined ? null : Number(code) });
    });
    const lost = () => {
      if (!closed) onEvent({ action: CONNECTION_LOST, exitCode: null });
      closed = true;
    };
    stream.on('error', lost);
    stream.on('end', lost);
    return {
      close: () => {
        closed = true;
        controller.abort();
        stream.destroy();
      },
    };
  }
}
