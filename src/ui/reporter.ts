import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Ora } from 'ora';
import { makeColors, type Colors } from './colors.js';
import { hangingWrap } from './text.js';
import { sanitize } from './sanitize.js';

export interface ReporterOptions {
  stdout: Writable;
  stderr: Writable;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  /** A person is watching stderr on a terminal (and this is not CI): spinners are allowed. */
  interactive: boolean;
  color: boolean;
}

/**
 * The edge where results become text. Results go to stdout (a table, plain lines, or exactly one JSON
 * document); progress, warnings and build output go to stderr. On a terminal progress is a spinner;
 * elsewhere it is plain lines a log file keeps readable.
 */
export class Reporter {
  readonly colors: Colors;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly interactive: boolean;
  private readonly options: ReporterOptions;
  private spinner: Ora | null = null;
  /** The step waiting for the spinner library to load (a terminal's first step); null when none. */
  private pending: { text: string } | null = null;
  private static ora: Promise<typeof import('ora') | null> | null = null;

  constructor(options: ReporterOptions) {
    this.options = options;
    this.json = options.json;
    this.verbose = options.verbose;
    this.interactive = options.interactive && !options.verbose;
    this.colors = makeColors(options.color);
  }

  private err(line: string): void {
    this.options.stderr.write(`${line}\n`);
  }

  /**
   * Begins a step of work; on a terminal a spinner turns until done() or fail(). The spinner appears once its
   * library has loaded; a step that ends before that is reported by its done() or fail() line alone.
   */
  step(text: string): void {
    if (this.options.quiet) return;
    this.stopSpinner();
    if (!this.interactive) {
      this.err(`${this.colors.gray('·')} ${text}`);
      return;
    }
    const pending = { text };
    this.pending = pending;
    Reporter.ora ??= import('ora').catch(() => null);
    void Reporter.ora.then((ora) => {
      if (this.pending !== pending) return; // done, failed or replaced meanwhile
      this.pending = null;
      if (!ora) return this.err(`${this.colors.gray('·')} ${pending.text}`);
      this.spinner = ora
        .default({
          text: pending.text,
          stream: this.options.stderr as NodeJS.WritableStream,
          discardStdin: false,
          isEnabled: true,
        })
        .start();
    });
  }

  /** Changes what the current step says (the build step being run); quiet off a terminal. */
  update(text: string): void {
    if (this.spinner) this.spinner.text = text;
    else if (this.pending) this.pending.text = text;
  }

  done(text: string): void {
    if (this.options.quiet) return;
    this.end(this.colors.green('✔'), text);
  }

  /** Ends the current step as failed, with text. (An error that main reports needs no fail(): see stopSpinner.) */
  fail(text: string): void {
    this.end(this.colors.red('✖'), text);
  }

  private end(symbol: string, text: string): void {
    this.pending = null;
    if (this.spinner) {
      this.spinner.stopAndPersist({ symbol, text });
      this.spinner = null;
    } else {
      this.err(`${symbol} ${text}`);
    }
  }

  info(text: string): void {
    if (this.options.quiet) return;
    this.pauseSpinner(() => this.err(text));
  }

  /** A warning; at a terminal a long one wraps under its own text, not under the "!". */
  warn(text: string): void {
    const line = `${this.colors.yellow('!')} ${text}`;
    const { isTTY, columns } = this.options.stderr as { isTTY?: boolean; columns?: number };
    const lines = isTTY && columns && !text.includes('\n') ? hangingWrap(line, 2, columns) : [line];
    this.pauseSpinner(() => this.err(lines.join('\n')));
  }

  /** Output of a build or a container, shown as text: control sequences cannot reach the terminal. */
  output(text: string): void {
    this.pauseSpinner(() => this.options.stderr.write(sanitize(text)));
  }

  /** A result for a person (stdout). Ignored under --json, where result() is the only output. */
  print(text: string): void {
    if (!this.json) this.options.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** The one JSON document of a --json command. */
  result(value: unknown): void {
    this.options.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * A JSON array written as it is produced: the same text as result(array), but a long history costs
   * neither the whole array nor the whole string, and a slow reader holds the producer back.
   */
  async resultArray(items: Iterable<unknown>): Promise<void> {
    const out = this.options.stdout;
    let chunk = '';
    let first = true;
    for (const item of items) {
      // Nested lines move in by one level; JSON strings cannot hold a raw newline, so only structure moves.
      chunk += `${first ? '[\n' : ',\n'}  ${JSON.stringify(item, null, 2).replace(/\n/g, '\n  ')}`;
      first = false;
      if (chunk.length >= 64 * 1024) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.write(`${chunk}${first ? '[]' : '\n]'}\n`);
  }

  /** One line of a JSON Lines stream (logs --json). */
  jsonLine(value: unknown): void {
    this.options.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /**
   * Ends the current step without a line of its own: the spinner's line is cleared. What went wrong is then
   * said once, by whoever reports the error.
   */
  stopSpinner(): void {
    this.pending = null;
    if (this.spinner) {
      this.spinner.stop();
      this.spinner = null;
    }
  }

  private pauseSpinner(write: () => void): void {
    if (!this.spinner) return write();
    this.spinner.clear();
    write();
    this.spinner.render();
  }
}
