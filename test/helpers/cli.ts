import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws if it is not exactly one JSON document). */
  json<T = unknown>(): T;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Pretend stdin/stdout/stderr are terminals. */
  tty?: boolean;
  signal?: AbortSignal;
  /** A fixed clock. */
  now?: () => number;
  /** What stdin carries (it is ended after it, as a pipe would be). */
  input?: string;
  /** The terminal's width, with tty (default 120). */
  columns?: number;
}

function capture(
  isTTY: boolean,
  columns = 120,
): { stream: PassThrough & { isTTY?: boolean; columns?: number }; text(): string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  if (isTTY) {
    stream.isTTY = true;
    stream.columns = columns;
  }
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs the CLI in-process, as `deploy ARGV` would, with its own streams and environment. */
export async function cli(argv: string[], options: CliOptions = {}): Promise<CliResult> {
  const out = capture(Boolean(options.tty), options.columns);
  const err = capture(Boolean(options.tty), options.columns);
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = true;
  else stdin.end(options.input ?? '');
  const code = await main(
    argv,
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...options.env },
      cwd: options.cwd ?? process.cwd(),
      stdin,
      stdout: out.stream,
      stderr: err.stream,
      ...(options.now ? { now: options.now } : {}),
    },
    options.signal ? { signal: options.signal } : {},
  );
  const stdout = out.text();
  return {
    code,
    stdout,
    stderr: err.text(),
    json<T>() {
      return JSON.parse(stdout) as T;
    },
  };
}

/** A fresh DEPLOY_HOME for one test file. */
export function tempHome(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-home-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
