import { describe, expect, it } from 'vitest';
import { sanitize } from '../../src/ui/sanitize.js';

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

describe('sanitize', () => {
  it('leaves ordinary text, newlines and tabs alone', () => {
    const text = 'Step 1/4 : FROM node:24\n\tcol1\tcol2\nhéllo wörld ✓ 🚀 日本\n\n';
    expect(sanitize(text)).toBe(text);
    expect(sanitize('')).toBe('');
  });

  it('removes colours and other SGR attributes', () => {
    expect(sanitize(`${ESC}[31mred${ESC}[0m ${ESC}[1;4;38;5;208mbold${ESC}[m`)).toBe('red bold');
  });

  it('removes cursor moves and erases', () => {
    expect(sanitize(`a${ESC}[2Ab${ESC}[10;20Hc${ESC}[Kd${ESC}[1Ge${ESC}[3Cf`)).toBe('abcdef');
  });

  it('removes screen clears', () => {
    expect(sanitize(`${ESC}[2J${ESC}[H${ESC}[3Jvisible`)).toBe('visible');
  });

  it('removes private mode switches (hidden cursor, alternate screen)', () => {
    expect(sanitize(`${ESC}[?25l${ESC}[?1049hx${ESC}[?1049l${ESC}[?25h`)).toBe('x');
  });

  it('removes OSC title changes ended by BEL or ST', () => {
    expect(sanitize(`before${ESC}]0;you have been pwned${BEL}after`)).toBe('beforeafter');
    expect(sanitize(`before${ESC}]2;title${ST}after`)).toBe('beforeafter');
  });

  it('removes OSC 8 hyperlinks and keeps the link text', () => {
    expect(sanitize(`see ${ESC}]8;;https://evil.example/${ST}the docs${ESC}]8;;${ST} now`)).toBe('see the docs now');
  });

  it('removes an OSC left open at the end of the text', () => {
    expect(sanitize(`text${ESC}]0;half a title`)).toBe('text');
  });

  it('removes DCS, SOS, PM and APC strings', () => {
    expect(sanitize(`a${ESC}P1$r0m${ST}b${ESC}Xsos${ST}c${ESC}^pm${ST}d${ESC}_apc${ST}e`)).toBe('abcde');
  });

  it('removes two-byte escape sequences such as reverse index and next line', () => {
    expect(sanitize(`a${ESC}Mb${ESC}Dc${ESC}Ed${ESC}He`)).toBe('abcde');
  });

  it('removes 8-bit CSI and OSC sequences', () => {
    expect(sanitize('a\u009b2Jb\u009b31mc')).toBe('abc');
    expect(sanitize(`a\u009d0;title${BEL}b`)).toBe('ab');
  });

  it('turns a carriage return that does not end a line into a line break', () => {
    expect(sanitize('progress 10%\rprogress 50%\rprogress 100%')).toBe('progress 10%\nprogress 50%\nprogress 100%');
    expect(sanitize('trailing\r')).toBe('trailing\n');
  });

  it('makes other C0 controls and DEL visible', () => {
    expect(sanitize('nul\x00 bell\x07 bs\x08 vt\x0b ff\x0c so\x0e del\x7f')).toBe(
      'nul\\x00 bell\\x07 bs\\x08 vt\\x0b ff\\x0c so\\x0e del\\x7f',
    );
  });

  it('makes other C1 controls visible', () => {
    expect(sanitize('a\u0085b\u0090c\u009fd')).toBe('a\\x85b\\x90c\\x9fd');
  });

  it('makes a lone or incomplete escape visible instead of passing it on', () => {
    expect(sanitize(`end${ESC}`)).toBe('end\\x1b');
    expect(sanitize(`${ESC}[31`)).toBe('\\x1b[31');
  });

  it('never lets ESC, BEL or a C1 control through', () => {
    const hostile = [
      `${ESC}[2J${ESC}[H`,
      `${ESC}]0;title${BEL}`,
      `${ESC}]52;c;Y2xpcGJvYXJk${BEL}`,
      `${ESC}[6n`,
      `${ESC}c`,
      `${ESC}7${ESC}8`,
      `${ESC}[`,
      `${ESC}${ESC}[${ESC}]`,
      '\u009b6n\u009d0;x',
      `ok\r\n${ESC}[1A${ESC}[2K`,
    ];
    for (const text of hostile) {
      // eslint-disable-next-line no-control-regex
      expect(sanitize(text), JSON.stringify(text)).not.toMatch(/[\x1b\x07\x80-\x9f]/);
    }
  });

  // BUG (src/ui/sanitize.ts): a CR that ends a line (CRLF) is kept by the CR-to-LF step, then escaped by the
  // control-character step, so every line of Windows-style output shows a stray "\x0d": 'a\r\nb' becomes
  // 'a\\x0d\nb'. Either 'a\nb' or 'a\r\nb' is what a reader expects.
  it('keeps CRLF line endings readable', () => {
    expect(['a\nb', 'a\r\nb']).toContain(sanitize('a\r\nb'));
  });

  // BUG (src/ui/sanitize.ts): the two-byte escape pattern [@-Z\\-_] covers ESC @ .. ESC _ only, so ESC c
  // (full reset, clears the screen), ESC 7 / ESC 8 (save / restore the cursor), ESC = and ESC > are not
  // removed: their ESC is made visible and the final byte is left in the text ('\x1bc' shows as "\x1bc").
  it('removes ESC c (reset) and ESC 7 / ESC 8 (cursor save and restore)', () => {
    expect(sanitize(`a${ESC}cb${ESC}7c${ESC}8d`)).toBe('abcd');
  });
});
