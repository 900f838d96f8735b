// The door's verbs on the control socket (control-socket.ts): each parsed (options.ts), then carried out by the router.
import type net from 'node:net';
import { answerLine, listenLines, pong, type ServerInfo } from './control-socket.js';
import { DeployError } from './deploy.js';
import { OptionError, parseCommand, type Command } from './options.js';
import type { Router } from './router.js';
import type { Answer } from './client.js';

export type { ServerInfo };

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
      return pong('door', info);
  }
}

/** Answer one request line. Never throws: every failure is an `{ok:false}` answer. */
export function answer(router: Router, line: string, info: ServerInfo): Promise<Answer> {
  return answerLine(
    line,
    (request) => execute(router, parseCommand(request), info),
    (err) => err instanceof OptionError || err instanceof DeployError,
  );
}

/** Listen on the control socket (owner-only: whoever can reach it can move traffic). */
export function listenControl(path: string, router: Router, info: ServerInfo): Promise<net.Server> {
  return listenLines(path, (line) => answer(router, line, info));
}
