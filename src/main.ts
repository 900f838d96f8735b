import type { Command } from 'commander';
import {
  asInterruption,
  DeployError,
  EXIT_CODES,
  exitCodeOf,
  failureDocument,
  fromEngineRefusal,
} from './core/errors.js';
import type { Context, IO } from './context.js';
import { buildProgram } from './cli/program.js';
import { makeColors, wantsColor } from './ui/colors.js';

export interface MainOptions {
  /** Aborted on Ctrl-C by the entry point; tests pass their own. */
  signal?: AbortSignal;
}

/**
 * Runs the CLI with argv (without "node" and the script) and returns the exit code. Errors become a
 * message and their exit code here, and only here; anything unexpected shows its stack under --verbose.
 */
export async function main(argv: string[], partialIO: Partial<IO> = {}, options: MainOptions = {}): Promise<number> {
  const io: IO = { ...defaultIO(), ...partialIO };
  const signal = options.signal ?? new AbortController().signal;
  let ctx: Context | null = null;
  let json = argv.includes('--json');
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  // --no-color reaches the error report too, even when the failure came before the command ran.
  let color: boolean | undefined = argv.includes('--no-color') ? false : undefined;
  let exitCode = 0;

  const program = buildProgram(io, async (load, args, opts) => {
    json = Boolean(opts.json);
    verbose = Boolean(opts.verbose);
    color = opts.color;
    // Loaded here, not at the top: `deploy --help` and usage errors never load the store or the reporter.
    const [{ createContext, isCI }, { Reporter }, { chooseEndpoint }, { parseDuration }] = await Promise.all([
      import('./context.js'),
      import('./ui/reporter.js'),
      import('./core/endpoint-choice.js'),
      import('./core/duration.js'),
    ]);
    const reporter = new Reporter({
      stdout: io.stdout,
      stderr: io.stderr,
      json,
      verbose,
      quiet: Boolean(opts.quiet),
      interactive: Boolean(io.stderr.isTTY) && !isCI(io.env),
      color: wantsColor(io.env, Boolean(io.stderr.isTTY), opts.color),
    });
    // The engine flags are checked whether or not the command needs an engine: a conflict is an error anywhere.
    if (opts.context !== undefined || opts.host !== undefined)
      chooseEndpoint({ flagContext: opts.context, flagHost: opts.host, env: {} });
    const lockWait = opts.lockWait === undefined ? 0 : parseDuration(opts.lockWait, '--lock-wait');
    ctx = createContext(io, reporter, signal, { context: opts.context, host: opts.host }, lockWait);
    // Any deployment left in progress by a process that died is found by the next command, whatever it is.
    const store = ctx.store();
    if (!store.readOnly && store.needsRecovery())
      await (await import('./services/recovery.js')).recoverDeadWorkers(ctx);
    const handler = await load();
    const code = await handler(ctx, args, opts);
    exitCode = typeof code === 'number' ? code : 0;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const commander = error as { code?: string; exitCode?: number };
    if (typeof commander.code === 'string' && commander.code.startsWith('commander.')) {
      if (commander.code === 'commander.helpDisplayed' || commander.code === 'commander.version') return 0;
      if (commander.code === 'commander.help' && !commander.exitCode) return 0;
      // commander printed its message (or, for a missing command, the help) on stderr; --json gets the document.
      const usage = usageError(program, argv, error as Error & { code: string });
      if (commander.code === 'commander.help') io.stderr.write(`Error: ${usage.message}\n${usage.hint ?? ''}\n`);
      if (json) io.stdout.write(`${JSON.stringify(failureDocument(usage), null, 2)}\n`);
      return EXIT_CODES.usage;
    }
    (ctx as Context | null)?.reporter.stopSpinner();
    const failure = asInterruption({ signal }, fromEngineRefusal(error), 'The command');
    report(io, failure, json, verbose, color);
    return exitCodeOf(failure);
  } finally {
    (ctx as Context | null)?.close();
  }
}

/** A command-line mistake commander caught, as the error --json reports (its message, its suggestion). */
function usageError(program: Command, argv: string[], error: Error & { code: string }): DeployError {
  if (error.code === 'commander.help') {
    // A command group given without its command: commander showed its help.
    let command = program;
    const path = ['deploy'];
    for (const word of argv) {
      const sub = word.startsWith('-')
        ? undefined
        : command.commands.find((c) => c.name() === word || c.aliases().includes(word));
      if (!sub) continue;
      command = sub;
      path.push(sub.name());
    }
    const names = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
    const what = path.join(' ');
    return new DeployError('usage', `${what} needs a command${path.length > 1 ? ` (${names.join(', ')})` : ''}.`, {
      hint: `Run "${what} --help" for usage.`,
    });
  }
  const [first = '', ...rest] = error.message.replace(/^error: /, '').split('\n');
  const suggestion = rest
    .join(' ')
    .trim()
    .replace(/^\((.*)\)$/, '$1');
  return new DeployError('usage', first, {
    hint: `${suggestion ? `${suggestion} ` : ''}Run "deploy --help" for usage.`,
  });
}

function report(io: IO, error: unknown, json: boolean, verbose: boolean, colorFlag: boolean | undefined): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(failureDocument(error), null, 2)}\n`);
  }
  const c = makeColors(wantsColor(io.env, Boolean(io.stderr.isTTY), colorFlag));
  if (error instanceof DeployError) {
    // A "no" at a prompt is an answer, not a failure: its message alone ("Cancelled; nothing was changed.").
    io.stderr.write(error.code === 'cancelled' ? `${error.message}\n` : `${c.red('Error:')} ${error.message}\n`);
    if (error.hint) io.stderr.write(`${c.dim(error.hint)}\n`);
    if (verbose && error.cause instanceof Error && error.cause.stack) io.stderr.write(`${c.dim(error.cause.stack)}\n`);
    return;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  io.stderr.write(`${c.red('Internal error:')} ${e.message}\n`);
  if (verbose) io.stderr.write(`${e.stack ?? ''}\n`);
  else
    io.stderr.write(
      `${c.dim('This is a bug in deploy. Run again with --verbose to see where it happened, and report it.')}\n`,
    );
}

/** The real process's streams, environment and clock. */
function defaultIO(): IO {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    now: () => Date.now(),
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
  };
}
