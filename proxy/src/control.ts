// The control channel: a unix socket taking newline-delimited JSON requests, one JSON answer line each.
// Request: {"verb": "deploy", "options": {...}}. Answer: {"ok": true, "result": {...}} or {"ok": false, "error": "..."}.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { DeployError } from './deploy.js';
import { OptionError, parseCommand, type Command } from './options.js';
import type { Router } from './router.js';
import type { Answer } from './client.js';

const MAX_LINE = 1024 * 1024;

export interface ServerInfo {
  version: string;
  startedAt: number;
}

/** Carry out one parsed command. */
export async function execute(router: Router, command: Command, info: ServerInfo): Promise<unknown> {
  switch (command.verb) {
    case 'deploy':
      return router.deploy(command.route, { waitDrain: command.waitDrain });
    case 'rollback':
      return router.rollback(command.app);
    case 'pause':
      return router.pause(command.app, command.holdMs);
    case 'resume':
      return router.resume(command.app);
    case 'remove':
      return router.remove(command.app);
    case 'status':
      return router.status(command.app);
    case 'ping':
      return { pong: true, version: info.version, pid: process.pid, uptimeMs: Date.now() - info.startedAt };
  }
}

/** Answer one request line. Never throws: every failure is an `{ok:false}` answer. */
export async function answer(router: Router, line: string, info: ServerInfo): Promise<Answer> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { ok: false, error: 'the request is not JSON: send {"verb": ..., "options": {...}} on one line' };
  }
  try {
    return { ok: true, result: await execute(router, parseCommand(request), info) };
  } catch (err) {
    if (err instanceof OptionError || err instanceof DeployError) return { ok: false, error: err.message };
    return { ok: false, error: `internal error: ${(err as Error).stack ?? String(err)}` };
  }
}

/** Listen on the control socket (owner-only: whoever can reach it can move traffic). */
export async function listenControl(path: string, router: Router, info: ServerInfo): Promise<net.Server> {
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
          const reply = await answer(router, line, info);
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
