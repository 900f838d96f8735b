import { Command } from 'commander';
import type { IO } from '../context.js';
import { VERSION } from '../version.js';
import type { Registration, Run } from './command.js';
import { config } from './commands/config.command.js';
import { deploy } from './commands/deploy.command.js';
import { destroy } from './commands/destroy.command.js';
import { inspect } from './commands/inspect.command.js';
import { restart, start, stop } from './commands/lifecycle.command.js';
import { lock } from './commands/lock.command.js';
import { logs } from './commands/logs.command.js';
import { ls } from './commands/ls.command.js';
import { prune } from './commands/prune.command.js';
import { proxy } from './commands/proxy.command.js';
import { redeploy } from './commands/redeploy.command.js';
import { rollback } from './commands/rollback.command.js';
import { scale } from './commands/scale.command.js';
import { stats } from './commands/stats.command.js';
import { status } from './commands/status.command.js';
import { sync } from './commands/sync.command.js';
import { globalOptions } from './option-groups.js';
import { addOptions } from './options.js';

export type { GlobalOptions } from './option-groups.js';
export type { Run } from './command.js';

/** Every command, in the order `deploy --help` lists them. Each is declared in commands/NAME.command.ts. */
const COMMANDS: Registration[] = [
  deploy,
  ls,
  redeploy,
  rollback,
  stop,
  start,
  restart,
  scale,
  inspect,
  logs,
  stats,
  sync,
  prune,
  status,
  destroy,
  lock,
  proxy,
  config,
];

/**
 * The command line, declared. Each command's code is imported only when that command runs, so
 * `deploy --help` and `deploy ls` never load Docker, Git or prompt libraries.
 */
export function buildProgram(io: IO, run: Run): Command {
  const program = new Command('deploy')
    .description('Build a Git commit into a Docker image, run it on your Docker Engine, and manage every deployment.')
    .version(VERSION, '-V, --version', 'print the version');
  addOptions(program, globalOptions)
    .showSuggestionAfterError(true)
    // Each command's --help lists the global options it honours (--json, --verbose, --context, -H, ...).
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`${s.replace(/^error: /, 'Error: ')}Run "deploy --help" for usage.\n`),
    });
  // Commands copy the program's settings (output, exitOverride, help) when they are added: settings come first.
  for (const command of COMMANDS) command.attach(program, run);
  return program;
}
