// The client side of the control channel (client mode of main.ts): kept apart from the server's modules so that
// `node proxy.js VERB` (one per \`docker exec\`) loads only this, not undici and the router.
import net from 'node:net';

export const DEFAULT_SOCKET = '/run/front-door/control.sock';

/** The door's verbs (`serve`). */
export const DOOR_VERBS = ['deploy', 'rollback', 'pause', 'resume', 'remove', 'status', 'ping'] as const;
/** The relay's verbs (`relay`): `listen` sets the host ports it binds and the generation it sends connections to. */
export const RELAY_VERBS = ['listen', 'status', 'ping'] as const;
/** What client mode sends (each server refuses the verbs that are not its own). */
export const VERBS = [...new Set([...DOOR_VERBS, ...RELAY_VERBS])];

export type Answer = { ok: true; result: unknown } | { ok: false; error: string };

/** Client side: send one command, wait for its answer. */
export function sendCommand(path: string, verb: string, options: unknown, timeoutMs = 0): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    let buffer = '';
    let settled = false;
    const settle = (a: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(a);
    };
    const timer =
      timeoutMs > 0
        ? setTimeout(
            () => settle({ ok: false, error: `no answer from the front door within ${timeoutMs} ms` }),
            timeoutMs,
          )
        : undefined;
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ verb, options })}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      try {
        settle(JSON.parse(buffer.slice(0, newline)) as Answer);
      } catch {
        settle({ ok: false, error: 'the front door sent an answer that is not JSON' });
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      settle({ ok: false, error: `cannot reach the front door's control socket ${path}: ${err.code ?? err.message}` }),
    );
    socket.on('close', () =>
      settle({ ok: false, error: 'the front door closed the control connection without an answer' }),
    );
  });
}
