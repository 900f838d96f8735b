import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * The one gateway through which the tool starts other programs (git, ssh). Built on node:child_process:
 * execa costs ~80 ms of import time on this machine and we need only capture, streaming, exit codes and
 * an end to children on abort.
 *
 * Each program runs in its own process group, and ending it (abort, timeout, kill) signals the whole group:
 * git starts helpers of its own (git-remote-https, ssh, pack-objects), and a clone cut short must not leave
 * them behind. Ctrl-C therefore reaches children through our abort signal, not through the terminal. (On POSIX
 * Node makes the group with setsid: a child has no controlling terminal either, so nothing it starts can ask
 * for input there, under a spinner — an ssh host key or passphrase prompt fails with ssh's message instead,
 * at a terminal as in CI.)
 */

export interface RunOptions {
  cwd?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
  input?: string | undefined;
  timeoutMs?: number | undefined;
  /** Aborting it ends the program and its process group (SIGTERM). */
  signal?: AbortSignal | undefined;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class ProcessError extends Error {
  readonly command: string;
  readonly code: number;
  readonly stderr: string;
  constructor(command: string, code: number, stderr: string) {
    super(
      `${command} exited with code ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`,
    );
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/** Children whose group has not been seen to exit: ended with the process, whatever way it exits. */
const live = new Set<ChildProcess>();
let exitHook = false;

/** Signals the child's whole process group (the child is its leader), or the child alone if that fails. */
function end(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/**
 * Starts a program through the gateway. The caller owns its stdio; the gateway owns its life: its process
 * group, the abort signal and timeout that end it, and its end when this process exits.
 */
function start(
  command: string,
  args: readonly string[],
  options: RunOptions,
  stdio: ('ignore' | 'pipe')[],
): ChildProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv | undefined,
    stdio,
    // Its own process group (on POSIX), so that end() reaches the helpers it starts.
    detached: process.platform !== 'win32',
  });
  if (child.pid === undefined) return child; // it did not start: 'error' follows
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) end(c);
    });
  }
  const onAbort = () => end(child);
  const timer = options.timeoutMs ? setTimeout(onAbort, options.timeoutMs) : null;
  timer?.unref();
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  child.once('exit', () => {
    live.delete(child);
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  });
  return child;
}

/** Runs a program to completion and returns its output; rejects with ProcessError on a non-zero exit. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runAllowFailure(command, args, options);
  if (result.code !== 0) throw new ProcessError(`${command} ${args[0] ?? ''}`.trim(), result.code, result.stderr);
  return result;
}

/** Runs a program to completion; a non-zero exit is returned, not thrown. */
export function runAllowFailure(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = start(command, args, options, [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: code ?? (signal ? 128 : 1),
      });
    });
    // A program that exits without reading its input must not turn into an EPIPE error of ours.
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface Streamed {
  stdout: Readable;
  /** Resolves when the program exits 0; rejects with ProcessError otherwise. */
  done: Promise<void>;
  kill(): void;
}

/** Starts a program whose stdout is consumed as a stream (git archive into a build). */
export function stream(command: string, args: readonly string[], options: RunOptions = {}): Streamed {
  const child = start(command, args, options, ['ignore', 'pipe', 'pipe']);
  const err: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new ProcessError(
            `${command} ${args[0] ?? ''}`.trim(),
            code ?? (signal ? 128 : 1),
            Buffer.concat(err).toString('utf8'),
          ),
        );
    });
  });
  return { stdout: child.stdout as Readable, done, kill: () => end(child) };
}

export interface Piped {
  /** The program, its stdin, stdout and stderr all pipes. */
  child: ChildProcess;
  /** Ends the program and its process group. */
  kill(): void;
}

/** Starts a program that carries a conversation over its stdin and stdout (ssh to an engine). */
export function pipe(command: string, args: readonly string[], options: RunOptions = {}): Piped {
  const child = start(command, args, options, ['pipe', 'pipe', 'pipe']);
  return { child, kill: () => end(child) };
}
