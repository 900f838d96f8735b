import { parseSince } from '../core/duration.js';
import { DeployError } from '../core/errors.js';

/** commander's parser for a repeatable option: each use adds its value to the list. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A whole-number option (--limit, --steps, --keep), checked when the command runs; undefined when not given. */
export function wholeNumber(raw: string | undefined, flag: string, min: number, max?: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
    throw new DeployError(
      'usage',
      `${flag} must be a whole number ${max === undefined ? `of at least ${min}` : `from ${min} to ${max}`}, not ${JSON.stringify(raw)}.`,
    );
  }
  return n;
}

/** --tail: a number of lines, or "all". */
export function lineCount(raw: string, flag: string): number | 'all' {
  if (raw === 'all') return 'all';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new DeployError('usage', `${flag} must be a number of lines or "all", not ${JSON.stringify(raw)}.`);
  return n;
}

/** --since: a duration back from now (24h, 7d) or an ISO date, as a time; undefined when not given. */
export function since(raw: string | undefined, now: number): number | undefined {
  return raw === undefined ? undefined : parseSince(raw, now);
}
