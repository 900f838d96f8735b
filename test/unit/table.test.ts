import { describe, expect, it } from 'vitest';
import { plainTable } from '../../src/ui/table.js';
import { quotedSubject, truncate } from '../../src/ui/text.js';

const green = (s: string) => `\x1b[32m${s}\x1b[39m`;

describe('plainTable', () => {
  it('puts headers in capitals and pads every column but the last to its widest cell, two spaces apart', () => {
    const table = plainTable(
      ['id', 'status', 'app'],
      [
        ['abcd2345', 'running', 'web'],
        ['x', 'failed', 'api-service'],
      ],
    );
    expect(table.split('\n')).toEqual([
      'ID        STATUS   APP', //
      'abcd2345  running  web',
      'x         failed   api-service',
    ]);
  });

  it('widens a column to its header when the header is the widest', () => {
    expect(plainTable(['version', 'id'], [['1', 'a']])).toBe('VERSION  ID\n1        a');
  });

  it('prints the header alone when there are no rows', () => {
    expect(plainTable(['id', 'status'], [])).toBe('ID  STATUS');
  });

  it('trims trailing spaces when the last cells are empty', () => {
    expect(
      plainTable(
        ['a', 'b', 'c'],
        [
          ['one', '', ''],
          ['two', 'x', ''],
        ],
      ).split('\n'),
    ).toEqual(['A    B  C', 'one', 'two  x']);
  });

  it('keeps an empty middle cell as padding, so later columns stay aligned', () => {
    expect(plainTable(['a', 'bb', 'c'], [['1', '', '3']])).toBe('A  BB  C\n1      3');
  });

  it('aligns coloured cells by their visible width', () => {
    const table = plainTable(
      ['status', 'app'],
      [
        [green('running'), 'web'],
        ['failed', 'api'],
      ],
    );
    expect(table.split('\n')).toEqual(['STATUS   APP', `${green('running')}  web`, 'failed   api']);
  });

  it('counts characters, not UTF-16 units or bytes', () => {
    expect(
      plainTable(
        ['name', 'x'],
        [
          ['héllo', '1'],
          ['🚀', '2'],
        ],
      ).split('\n'),
    ).toEqual(['NAME   X', 'héllo  1', '🚀      2']);
  });

  it('prints a row with fewer cells as far as it goes', () => {
    expect(plainTable(['a', 'b'], [['long value'], ['x', 'y']]).split('\n')).toEqual([
      'A           B',
      'long value',
      'x           y',
    ]);
  });

  it('keeps the content of cells as given (no quoting, no upper-casing)', () => {
    expect(plainTable(['commit'], [['Fix "quotes", commas'], ['lower case']])).toBe(
      'COMMIT\nFix "quotes", commas\nlower case',
    );
  });
});

describe('truncate and quotedSubject', () => {
  it('cut long text on a code point with an ellipsis, and leave short text alone', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate('日本語のテキスト', 4)).toBe('日本語…');
    expect(truncate('😀😀😀😀😀', 3)).toBe('😀😀…');
  });

  it('quote a commit subject for a one-line header, short enough to fit', () => {
    expect(quotedSubject('fix "quotes"')).toBe('"fix "quotes""');
    expect(quotedSubject('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(59)}…`));
  });
});
