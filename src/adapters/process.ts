import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * The one gateway through which the tool starts other programs (git, ssh). Built on node:child_process:
 * execa costs ~80 ms of import time on this machine and we need only capture, streaming and exit codes.
 */

export interface RunOptions {
  cwd?: string | undefined;
  env?: Record<string, string | undefined> | undefined;
  input?: string | undefined;
  timeoutMs?: number | undefined;
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
    super(`${command} exited with code ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

/** Runs a program to completion and returns its output; rejects with ProcessError on a non-zero exit. */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runAllowFailure(command, args, options);
  if (result.code !== 0) throw new ProcessError(`${command} ${args[0] ?? ''}`.trim(), result.code, result.stderr);
  return result;
}

/** Runs a program to completion; a non-zero exit is returned, not thrown. */
export function runAllowFailure(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv | undefined,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
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
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv | undefined,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const err: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new ProcessError(`${command} ${args[0] ?? ''}`.trim(), code ?? (signal ? 128 : 1), Buffer.concat(err).toString('utf8')));
    });
  });
  return { stdout: child.stdout, done, kill: () => child.kill('SIGTERM') };
}
