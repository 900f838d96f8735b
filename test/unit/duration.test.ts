import { describe, expect, it } from 'vitest';
import { durationInProse, formatAge, formatDuration, parseDuration, parseSince } from '../../src/core/duration.js';
import { failure, failureMessage, usageFailure } from '../helpers/unit.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const HINT = 'Write a duration such as 500ms, 30s, 10m, 2h, 7d or 1h30m.';

describe('parseDuration', () => {
  it('reads each unit', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30 * SEC);
    expect(parseDuration('10m')).toBe(10 * MIN);
    expect(parseDuration('2h')).toBe(2 * HOUR);
    expect(parseDuration('7d')).toBe(7 * DAY);
    expect(parseDuration('2w')).toBe(14 * DAY);
  });

  it('reads a bare number as seconds', () => {
    expect(parseDuration('90')).toBe(90 * SEC);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('1.5')).toBe(1500);
    expect(parseDuration('0.0004')).toBe(0);
  });

  it('adds up compound durations', () => {
    expect(parseDuration('1h30m')).toBe(90 * MIN);
    expect(parseDuration('1m30s')).toBe(90 * SEC);
    expect(parseDuration('1d2h3m4s5ms')).toBe(DAY + 2 * HOUR + 3 * MIN + 4 * SEC + 5);
    expect(parseDuration('1h1h')).toBe(2 * HOUR);
  });

  it('tells "ms" from "m" followed by "s"', () => {
    expect(parseDuration('5ms')).toBe(5);
    expect(parseDuration('5m5s')).toBe(5 * MIN + 5 * SEC);
  });

  it('reads fractions, rounding to whole milliseconds', () => {
    expect(parseDuration('1.5h')).toBe(90 * MIN);
    expect(parseDuration('0.25s')).toBe(250);
    expect(parseDuration('1.6ms')).toBe(2);
  });

  it('ignores case and surrounding whitespace', () => {
    expect(parseDuration('  10M ')).toBe(10 * MIN);
    expect(parseDuration('1H30M')).toBe(90 * MIN);
    expect(parseDuration('\t250MS\n')).toBe(250);
  });

  it('refuses anything else, naming what was being read', () => {
    expect(failure(() => parseDuration('soon'))).toEqual(usageFailure('Invalid duration "soon".', HINT));
    expect(failureMessage(() => parseDuration('ten', '--timeout'))).toBe('Invalid --timeout "ten".');
    for (const text of ['', '   ', '10x', '1m30', '1h 30m', '-5s', '+5s', '.5s', 's', '1e3', '5 s', '1,5s', '10mins']) {
      expect(failureMessage(() => parseDuration(text))).toBe(`Invalid duration ${JSON.stringify(text)}.`);
    }
  });

  it('accepts up to 3650 days and refuses more', () => {
    expect(parseDuration('3650d')).toBe(3650 * DAY);
    expect(failure(() => parseDuration('3651d'))).toEqual(
      usageFailure('The duration "3651d" is too long (at most 3650d).', HINT),
    );
    expect(failureMessage(() => parseDuration('1000000000', '--window'))).toBe(
      'The --window "1000000000" is too long (at most 3650d).',
    );
    expect(failureMessage(() => parseDuration(`${'9'.repeat(400)}s`))).toBe(
      `The duration "${'9'.repeat(400)}s" is too long (at most 3650d).`,
    );
  });
});

describe('parseSince', () => {
  const now = Date.UTC(2026, 10, 15, 12, 0, 0);

  it('counts a duration back from now', () => {
    expect(parseSince('10m', now)).toBe(now - 10 * MIN);
    expect(parseSince('30d', now)).toBe(now - 30 * DAY);
    expect(parseSince('90', now)).toBe(now - 90 * SEC);
    expect(parseSince(' 1h30m ', now)).toBe(now - 90 * MIN);
  });

  it('reads an ISO 8601 date or date-time', () => {
    expect(parseSince('2026-11-01', now)).toBe(Date.UTC(2026, 10, 1));
    expect(parseSince('2026-11-01T12:30:00Z', now)).toBe(Date.UTC(2026, 10, 1, 12, 30));
    expect(parseSince('2026-11-01T12:30:00+02:00', now)).toBe(Date.UTC(2026, 10, 1, 10, 30));
    expect(parseSince('  2026-11-01T00:00:00.250Z ', now)).toBe(Date.UTC(2026, 10, 1, 0, 0, 0, 250));
  });

  it('refuses an impossible date', () => {
    expect(failure(() => parseSince('2026-13-01', now))).toEqual(
      usageFailure(
        'Invalid --since date "2026-13-01".',
        'Write an ISO 8601 date such as 2026-11-01 or 2026-11-01T12:00:00Z, or a duration such as 30d.',
      ),
    );
    expect(failureMessage(() => parseSince('2026-11-01Tnoon', now, '--until'))).toBe(
      'Invalid --until date "2026-11-01Tnoon".',
    );
  });

  it('refuses text that is neither, with its own hint', () => {
    const expected = usageFailure(
      'Invalid --since "yesterday".',
      'Write a duration back from now (10m, 24h, 30d) or an ISO 8601 date such as 2026-11-01.',
    );
    expect(failure(() => parseSince('yesterday', now))).toEqual(expected);
    expect(failureMessage(() => parseSince('', now))).toBe('Invalid --since "".');
    expect(failureMessage(() => parseSince('4000d', now))).toBe('Invalid --since "4000d".');
    expect(failureMessage(() => parseSince('11/01/2026', now, '--until'))).toBe('Invalid --until "11/01/2026".');
  });
});

describe('formatDuration', () => {
  it('writes "-" for negative or non-finite values', () => {
    expect([-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY].map(formatDuration)).toEqual([
      '-',
      '-',
      '-',
      '-',
    ]);
  });

  it('writes whole milliseconds under a second', () => {
    expect([0, 1, 850, 999, 12.4].map(formatDuration)).toEqual(['0ms', '1ms', '850ms', '999ms', '12ms']);
  });

  it('writes seconds with one decimal under ten seconds, whole seconds under a minute', () => {
    expect([1000, 4200, 9949, 10_000, 42_400, 59_499].map(formatDuration)).toEqual([
      '1.0s',
      '4.2s',
      '9.9s',
      '10s',
      '42s',
      '59s',
    ]);
  });

  it('writes minutes and padded seconds under an hour', () => {
    expect([60_000, 192_000, 605_000, 3_599_000].map(formatDuration)).toEqual(['1m00s', '3m12s', '10m05s', '59m59s']);
  });

  it('writes hours and padded minutes under a day', () => {
    expect([HOUR, 2 * HOUR + 5 * MIN, 23 * HOUR + 59 * MIN].map(formatDuration)).toEqual(['1h00m', '2h05m', '23h59m']);
  });

  it('writes days and hours beyond', () => {
    expect([DAY, 3 * DAY + 4 * HOUR, 400 * DAY + 23 * HOUR].map(formatDuration)).toEqual(['1d0h', '3d4h', '400d23h']);
  });

  it('rounds up into the next unit at a boundary', () => {
    expect(formatDuration(3_599_700)).toBe('1h00m');
    expect(formatDuration(DAY - 10 * SEC)).toBe('1d0h');
  });

  // BUG (src/core/duration.ts, formatDuration): 59.5s to 59.999s are rounded to 60 while still shown in the
  // seconds form, giving "60s" instead of "1m00s" (the other boundaries roll over to the next unit).
  it('writes 59.999s as one minute, not "60s"', () => {
    expect(formatDuration(59_999)).toBe('1m00s');
  });
});

describe('formatAge', () => {
  const now = Date.UTC(2026, 10, 15, 12, 0, 0);

  it('says "just now" under ten seconds, and for times in the future', () => {
    expect(formatAge(now, now)).toBe('just now');
    expect(formatAge(now - 9_999, now)).toBe('just now');
    expect(formatAge(now + 5 * MIN, now)).toBe('just now');
  });

  it('counts whole seconds, minutes, hours and days', () => {
    expect(formatAge(now - 10 * SEC, now)).toBe('10s ago');
    expect(formatAge(now - 59_999, now)).toBe('59s ago');
    expect(formatAge(now - MIN, now)).toBe('1m ago');
    expect(formatAge(now - (59 * MIN + 59 * SEC), now)).toBe('59m ago');
    expect(formatAge(now - HOUR, now)).toBe('1h ago');
    expect(formatAge(now - (23 * HOUR + 59 * MIN), now)).toBe('23h ago');
    expect(formatAge(now - DAY, now)).toBe('1d ago');
    expect(formatAge(now - (59 * DAY + 23 * HOUR), now)).toBe('59d ago');
  });

  it('writes the date (UTC) from sixty days on', () => {
    expect(formatAge(now - 60 * DAY, now)).toBe('2026-09-16');
    expect(formatAge(Date.UTC(2024, 1, 29, 23, 59), now)).toBe('2024-02-29');
  });
});

describe('durationInProse', () => {
  it('says a duration as a sentence would: no zero-padded second unit, a space between two units', () => {
    expect(durationInProse(500)).toBe('500ms');
    expect(durationInProse(2 * SEC)).toBe('2s');
    expect(durationInProse(4_240)).toBe('4.2s');
    expect(durationInProse(45 * SEC)).toBe('45s');
    expect(durationInProse(MIN)).toBe('1m');
    expect(durationInProse(MIN + 30 * SEC)).toBe('1m 30s');
    expect(durationInProse(2 * HOUR)).toBe('2h');
    expect(durationInProse(2 * HOUR + 5 * MIN)).toBe('2h 5m');
    expect(durationInProse(3 * DAY + 4 * HOUR)).toBe('3d 4h');
    expect(durationInProse(7 * DAY)).toBe('7d');
  });

  it('rounds across a unit boundary to the larger unit, never "60s" or "1m 60s"', () => {
    expect(durationInProse(59_600)).toBe('1m');
    expect(durationInProse(9_970)).toBe('10s');
    expect(durationInProse(HOUR - 400)).toBe('1h');
  });

  it('reads back with parseDuration once the space is taken out', () => {
    for (const ms of [500, 45 * SEC, MIN + 30 * SEC, 2 * HOUR + 5 * MIN, 3 * DAY + 4 * HOUR]) {
      expect(parseDuration(durationInProse(ms).replace(' ', ''))).toBe(ms);
    }
  });

  it('shows "-" for what is not a duration', () => {
    expect(durationInProse(-1)).toBe('-');
    expect(durationInProse(Number.NaN)).toBe('-');
  });
});
