// The control channel both servers (the door and the relay) answer on: a unix socket taking newline-delimited JSON
// requests, one JSON answer line each, in request order. Request: {"verb": "...", "options": {...}}. Answer:
// {"ok": true, "result": {...}} or {"ok": false, "error": "..."}.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { Answer } from './client.js';

const MAX_LINE = 1024 * 1024;

export interface ServerInfo {
  version: string;
  startedAt: number;
}

/** What `ping` answers first, from the door and from the relay alike. */
export function pong(mode: 'door' | 'relay', info: ServerInfo): Record<string, unknown> {
  return { pong: true, mode, version: info.version, pid: process.pid, uptimeMs: Date.now() - info.startedAt };
}

/**
 * Answer one request line with `run`. Never throws: every failure is an `{ok:false}` answer, with the error's
 * message when `expected(err)` (a refused option, a failed deploy), else as an internal error with its stack.
 */
export async function answerLine(
  line: string,
  run: (request: unknown) => Promise<unknown>,
  expected: (err: unknown) => boolean,
): Promise<Answer> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { ok: false, error: 'the request is not JSON: send {"verb": ..., "options": {...}} on one line' };
  }
  try {
    return { ok: true, result: await run(request) };
  } catch (err) {
    if (expected(err)) return { ok: false, error: (err as Error).message };
    return { ok: false, error: `internal error: ${(err as Error).stack ?? String(err)}` };
  }
}

/** Listen on the control socket (owner-only: whoever can reach it can move traffic). */
export async function listenLines(path: string, respond: (line: string) => Promise<Answer>): Promise<net.Server> {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
  const server = net.createServer((socket) => {
    let buffer = '';
    let busy: Promise<void> = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE && !buffer.includes('\n')) {
        socket.end(`${JSON.stringify({ ok: false, error: 'request line too long' })}\n`);
        return;
      }
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line === '') continue;
        // Answers go back in request order.
        busy = busy.then(async () => {
          const reply = await respond(line);
          if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
        });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}
