/**
 * Every failure a user can meet has a cause, and every cause has one exit code, the same from every
 * command. The table is documented in README.md ("Exit codes"); keep the two in step.
 */
export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  not_found: 3,
  ambiguous: 4,
  confirmation_required: 5,
  cancelled: 6,
  source: 7,
  config: 8,
  build_failed: 9,
  start_failed: 10,
  health_failed: 11,
  image_gone: 12,
  docker_unreachable: 13,
  lock_held: 14,
  store: 15,
  engine_error: 16,
  front_door: 17,
  interrupted: 130,
} as const;

export type ErrorCode = Exclude<keyof typeof EXIT_CODES, 'ok'>;

export interface ErrorOptions {
  /** What to do next: one short sentence, shown under the message. */
  hint?: string | undefined;
  /** Structured detail for --json (candidates of an ambiguous id, lock holder, ...). */
  details?: Record<string, unknown> | undefined;
  cause?: unknown;
}

/** A failure the user can act on. Anything that is not a DeployError is a bug. */
export class DeployError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeployError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  /** The same error with more structured detail (the failed record, for --json). */
  withDetails(extra: Record<string, unknown>): DeployError {
    return new DeployError(this.code, this.message, {
      hint: this.hint,
      details: { ...this.details, ...extra },
      cause: this.cause,
    });
  }
}

/** An error's message as a clause to go on with ("…: REASON. Run: …"), without a full stop of its own. */
export function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/[.\s]+$/, '');
}

export function exitCodeOf(error: unknown): number {
  return error instanceof DeployError ? error.exitCode : EXIT_CODES.internal;
}

/**
 * What the Docker Engine refused (a 4xx/5xx the code did not expect: no space left, a bad mount, a conflict)
 * is the engine's answer, not a bug of this tool: it becomes engine_error with the engine's own message.
 */
export function fromEngineRefusal(error: unknown): unknown {
  if (error instanceof Error && error.name === 'ApiError') {
    return new DeployError('engine_error', `The Docker Engine refused: ${error.message}`, {
      hint: "The message is the engine's own; check the engine (docker info, its log), then run the command again.",
      cause: error,
    });
  }
  return error;
}

/**
 * After Ctrl-C (signal aborted), whatever failed did so because the work was cut short: it is reported as
 * the interruption (exit 130), not as, say, an engine that could not be reached.
 */
export function asInterruption(ctx: { signal: AbortSignal }, error: unknown, what: string): unknown {
  if (!ctx.signal.aborted || isDeployError(error, 'interrupted')) return error;
  return new DeployError('interrupted', `${what} was interrupted.`, { cause: error });
}

export function isDeployError(error: unknown, code?: ErrorCode): error is DeployError {
  return error instanceof DeployError && (code === undefined || error.code === code);
}

/**
 * The JSON document a failed command prints under --json: the failed deployment's record when there is
 * one (its `status` says what happened, its `error` why), else {"error": {...}}.
 */
export function failureDocument(error: unknown): unknown {
  // The record's `error` is the same shape as any other failure's (code, exitCode, message, hint).
  if (error instanceof DeployError && error.details?.record)
    return { ...(error.details.record as object), error: errorToJson(error) };
  return { error: errorToJson(error) };
}

/** The JSON shape of an error, for --json output. */
export function errorToJson(error: unknown): {
  code: string;
  exitCode: number;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
} {
  if (error instanceof DeployError) {
    const { record: _record, ...details } = error.details ?? {};
    return {
      code: error.code,
      exitCode: error.exitCode,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', exitCode: EXIT_CODES.internal, message };
}
