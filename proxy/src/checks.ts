// Field-by-field checks of a control request's values, shared by the door's verbs (options.ts) and the relay's
// (relay.ts). Each names the option it refuses and shows the value it got.

export class OptionError extends Error {}

export type Json = Record<string, unknown>;

export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

export function object(value: unknown, where: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OptionError(`${where} must be an object`);
  return value as Json;
}

export function only(value: Json, allowed: string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      throw new OptionError(`${where}: unknown option "${key}" (known: ${allowed.join(', ')})`);
  }
}

export function int(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionError(`${where} must be an integer from ${min} to ${max} (got ${show(value)})`);
  }
  return value;
}

export function bool(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new OptionError(`${where} must be true or false (got ${show(value)})`);
  return value;
}

export function str(value: unknown, where: string, pattern?: RegExp, hint?: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new OptionError(`${where} must be a non-empty string (got ${show(value)})`);
  if (pattern && !pattern.test(value)) throw new OptionError(`${where} ${hint ?? 'is not valid'} (got ${show(value)})`);
  return value;
}

/** One control request, `{"verb": ..., "options": {...}}`, whose verb must be one of `verbs`. */
export function parseRequest<V extends string>(value: unknown, verbs: readonly V[]): { verb: V; options: Json } {
  const request = object(value, 'request');
  only(request, ['verb', 'options'], 'request');
  const verb = request['verb'];
  if (typeof verb !== 'string' || !(verbs as readonly string[]).includes(verb)) {
    throw new OptionError(`unknown verb ${show(verb)} (known: ${verbs.join(', ')})`);
  }
  return { verb: verb as V, options: object(request['options'] ?? {}, `${verb} options`) };
}
