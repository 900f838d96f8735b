/**
 * The one place tests start processes: any command (`start`, `run`) and the built CLI as a user runs it
 * (`startBin`, `runBin`). Every process has a bound (SIGKILL after `timeoutMs`), its output captured, and a
 * result that never throws, so a test asserts on the exit code rather than catching an exception.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built entry point (run `npm run build` first: it loads dist/). */
export const BIN = fileURLToPath(new URL('../../bin/deploy.js', import.meta.url));

export interface RunResult {
  /** The exit code; -1 when the process could not start, or was ended by a signal. */
  code: number;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** How long it ran. */
  ms: number;
}

export interface RunOptions {
  /** The whole environment (no merging: pass what the process should see). Default: this process's. */
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Killed (SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Don't capture stdout/stderr (a child left running must not be held by a pipe). */
  quiet?: boolean;
}

export interface Started {
  child: ChildProcess;
  /** Resolves when the process has ended and its output is read. */
  done: Promise<RunResult>;
}

/** Starts a command; `done` resolves (never rejects) with what it did. */
export function start(cmd: string, args: readonly string[], options: RunOptions = {}): Started {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = Date.now();
  const child = spawn(cmd, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['pipe', options.quiet ? 'ignore' : 'pipe', options.quiet ? 'ignore' : 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<RunResult>((resolve) => {
    child.on('error', (error) =>
      resolve({
        code: -1,
        signal: null,
        stdout,
        stderr: `${stderr}could not run ${cmd}: ${error.message}`,
        ms: Date.now() - started,
      }),
    );
    child.on('close', (code, signal) => {
      if (code === null) stderr += `\n${cmd} ended by ${signal ?? 'a signal'} (timeout ${timeoutMs} ms)`;
      resolve({ code: code ?? -1, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  child.stdin?.on('error', () => undefined); // the command may exit before reading its input
  child.stdin?.end(options.input ?? '');
  return { child, done };
}

/** Runs a command to completion, never throwing: a failure to start or a timeout is code -1 with a reason. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return start(cmd, args, options).done;
}

export interface BinOptions extends Omit<RunOptions, 'env'> {
  /** Added to the CLI's environment: PATH, HOME and (unless `ci` is false) CI=true, then these. */
  env?: Record<string, string | undefined>;
  /** Run it as in CI (CI=true). Default true; false runs it as a user at a pipe, with no CI set. */
  ci?: boolean;
  /** Another node binary to run it with. */
  node?: string;
  /** A command the CLI runs under, e.g. ['setpriv', '--reuid=65534', ...]. */
  prefix?: readonly string[];
}

function binCommand(args: readonly string[], options: BinOptions): [string, string[], RunOptions] {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(options.ci === false ? {} : { CI: 'true' }),
    ...options.env,
  };
  const argv = [options.node ?? process.execPath, BIN, ...args];
  const [cmd = '', ...rest] = [...(options.prefix ?? []), ...argv];
  return [cmd, rest, { ...options, env }];
}

/** Starts the built CLI as a user would, with no terminal attached. */
export function startBin(args: readonly string[], options: BinOptions = {}): Started {
  return start(...binCommand(args, options));
}

/** Runs the built CLI to completion, as a user would, with no terminal attached. */
export function runBin(args: readonly string[], options: BinOptions = {}): Promise<RunResult> {
  return startBin(args, options).done;
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
