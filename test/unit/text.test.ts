import { describe, expect, it } from 'vitest';
import { plural, quoted, quotedSubject, refAndCommit, truncate, wrapText, hangingWrap } from '../../src/ui/text.js';

describe('plural', () => {
  it('says one thing in the singular and any other count in the plural', () => {
    expect(plural(1, 'day')).toBe('1 day');
    expect(plural(2, 'day')).toBe('2 days');
    expect(plural(0, 'step')).toBe('0 steps');
    expect(plural(1, 'match', 'matches')).toBe('1 match');
    expect(plural(3, 'match', 'matches')).toBe('3 matches');
  });
});

describe('quoted', () => {
  it('keeps quotes and backslashes as the person typed them', () => {
    expect(quoted('Say "hello" to C:\\temp')).toBe('"Say "hello" to C:\\temp"');
  });

  it('still makes terminal control sequences harmless and keeps to one line', () => {
    expect(quoted('fix\x1b[2Jthe\nbug\x07')).toBe('"fixthe bug\\x07"');
  });

  it('cuts a long subject with an ellipsis', () => {
    expect(quotedSubject('a'.repeat(100), 10)).toBe(`"${'a'.repeat(9)}…"`);
    expect(quoted('short', 10)).toBe('"short"');
  });
});

describe('refAndCommit', () => {
  const sha = 'b02b726e0c1f3a9d8e7f6a5b4c3d2e1f0a9b8c7d';

  it('prints a branch or tag with the short SHA', () => {
    expect(refAndCommit('main', sha)).toBe('main@b02b726');
    expect(refAndCommit('v1.4.0', sha)).toBe('v1.4.0@b02b726');
  });

  it('prints the short SHA once when the ref is the commit', () => {
    expect(refAndCommit('b02b726', sha)).toBe('b02b726');
    expect(refAndCommit(sha, sha)).toBe('b02b726');
    expect(refAndCommit('B02B726E', sha)).toBe('b02b726');
  });

  it('keeps a hex-looking ref that is not this commit', () => {
    expect(refAndCommit('cafe', sha)).toBe('cafe@b02b726');
  });
});

describe('truncate', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(truncate('😀😀😀', 3)).toBe('😀😀😀');
    expect(truncate('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

describe('wrapText', () => {
  it('breaks between parts first, and inside a part only when it cannot fit a line', () => {
    expect(wrapText('a b · c d · e', 5)).toEqual(['a b', 'c d', 'e']);
    expect(wrapText('a · long words here', 10)).toEqual(['a', 'long words', 'here']);
    expect(wrapText('short · x', 80)).toEqual(['short · x']);
  });
});

describe('hangingWrap', () => {
  const line = `  ${'then'.padEnd(10)}v1 (gpjzh96n) stops first (it holds the same host port), and starts again if this one fails its check`;

  it('wraps the value under itself, not under the label', () => {
    expect(hangingWrap(line, 12, 80)).toEqual([
      '  then      v1 (gpjzh96n) stops first (it holds the same host port), and starts',
      '            again if this one fails its check',
    ]);
  });

  it('keeps the colour codes of a dimmed label out of the count', () => {
    const dim = (s: string) => `\x1b[2m${s}\x1b[22m`;
    const coloured = `  ${dim('then'.padEnd(10))}${'word '.repeat(20).trim()}`;
    const out = hangingWrap(coloured, 12, 40);
    expect(out[0]).toBe(`  ${dim('then'.padEnd(10))}${'word '.repeat(5).trim()}`);
    expect(out.slice(1)).toEqual([
      '            word word word word word',
      '            word word word word word',
      '            word word word word word',
    ]);
  });

  it('leaves a line that fits, or a terminal too narrow to wrap into, as it is', () => {
    expect(hangingWrap('  ports     127.0.0.1:8080:8080', 12, 80)).toEqual(['  ports     127.0.0.1:8080:8080']);
    expect(hangingWrap(line, 12, 25)).toEqual([line]);
  });
});
