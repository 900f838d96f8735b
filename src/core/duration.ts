import { DeployError } from './errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const HINT = 'Write a duration such as 500ms, 30s, 10m, 2h, 7d or 1h30m.';
/** Longer than any sensible timeout or window; rejects typos such as 1000000d. */
const MAX_MS = 3650 * UNITS.d!;

/** Parses `90s`, `10m`, `1h30m`, `7d`; a bare number is seconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return checkRange(Math.round(Number(t) * 1000), text, what);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (t === '' || matched !== t.length) {
    throw new DeployError('usage', `Invalid ${what} ${JSON.stringify(text)}.`, { hint: HINT });
  }
  return checkRange(Math.round(total), text, what);
}

function checkRange(ms: number, text: string, what: string): number {
  if (!Number.isFinite(ms) || ms > MAX_MS) {
    throw new DeployError('usage', `The ${what} ${JSON.stringify(text)} is too long (at most 3650d).`, { hint: HINT });
  }
  return ms;
}

/**
 * `--since`: a duration back from now (`10m`, `30d`) or an ISO 8601 date/time. Returns epoch ms.
 */
export function parseSince(text: string, now: number, what = '--since'): number {
  const t = text.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isNaN(ms)) {
      throw new DeployError('usage', `Invalid ${what} date ${JSON.stringify(text)}.`, {
        hint: 'Write an ISO 8601 date such as 2026-11-01 or 2026-11-01T12:00:00Z, or a duration such as 30d.',
      });
    }
    return ms;
  }
  try {
    return now - parseDuration(t, what);
  } catch {
    throw new DeployError('usage', `Invalid ${what} ${JSON.stringify(text)}.`, {
      hint: 'Write a duration back from now (10m, 24h, 30d) or an ISO 8601 date such as 2026-11-01.',
    });
  }
}

/** A short human duration: 850ms, 4.2s, 3m12s, 2h05m, 3d4h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 9_950) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 59_500) return `${Math.round(ms / 1000)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** How long ago, the way `docker ps` says it: "just now", "5m ago", "3h ago", "2d ago". */
export function formatAge(then: number, now: number): string {
  const ms = now - then;
  if (ms < 10_000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ago`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h ago`;
  if (ms < 60 * 86_400_000) return `${Math.floor(ms / 86_400_000)}d ago`;
  return new Date(then).toISOString().slice(0, 10);
}

/**
 * A duration as a sentence says it: "500ms", "4.2s", "45s", "1m", "1m 30s", "2h", "2h 5m", "3d 4h". Two units
 * at most, the second left out when it is zero (no "1m00s" in prose; tables keep formatDuration's fixed form).
 */
export function durationInProse(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 9_950) return `${Number((ms / 1000).toFixed(1))}s`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return pair(Math.floor(s / 60), 'm', s % 60, 's');
  const m = Math.round(s / 60);
  if (m < 24 * 60) return pair(Math.floor(m / 60), 'h', m % 60, 'm');
  const h = Math.round(m / 60);
  return pair(Math.floor(h / 24), 'd', h % 24, 'h');
}
