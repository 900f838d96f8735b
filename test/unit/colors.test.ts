import { afterEach, describe, expect, it } from 'vitest';
import { makeColors, wantsColor } from '../../src/ui/colors.js';

describe('colours', () => {
  const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('paint with the SGR codes of util.styleText whenever we decided to, whatever the process environment or stdout', () => {
    // Our decision (wantsColor, for the stream written to) is final: styleText must not second-guess it from
    // process.stdout, which is not a terminal here, nor from NO_COLOR.
    process.env.NO_COLOR = '1';
    const c = makeColors(true);
    expect([c.bold('b'), c.dim('d'), c.red('r'), c.green('g'), c.yellow('y'), c.gray('.')]).toEqual([
      '\x1b[1mb\x1b[22m',
      '\x1b[2md\x1b[22m',
      '\x1b[31mr\x1b[39m',
      '\x1b[32mg\x1b[39m',
      '\x1b[33my\x1b[39m',
      '\x1b[90m.\x1b[39m',
    ]);
  });

  it('leave text as it is when colour is off, even under FORCE_COLOR', () => {
    process.env.FORCE_COLOR = '1';
    const c = makeColors(false);
    expect([c.bold('b'), c.red('r'), c.gray('.')]).toEqual(['b', 'r', '.']);
  });

  it('are wanted on a terminal, unless --no-color, NO_COLOR, FORCE_COLOR=0 or TERM=dumb; FORCE_COLOR forces them elsewhere', () => {
    expect(wantsColor({}, true, undefined)).toBe(true);
    expect(wantsColor({}, false, undefined)).toBe(false);
    expect(wantsColor({}, true, false)).toBe(false);
    expect(wantsColor({ NO_COLOR: '1' }, true, undefined)).toBe(false);
    expect(wantsColor({ NO_COLOR: '' }, true, undefined)).toBe(true);
    expect(wantsColor({ TERM: 'dumb' }, true, undefined)).toBe(false);
    expect(wantsColor({ FORCE_COLOR: '1' }, false, undefined)).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '0' }, true, undefined)).toBe(false);
    expect(wantsColor({ FORCE_COLOR: 'false' }, true, undefined)).toBe(false);
    expect(wantsColor({ FORCE_COLOR: '' }, true, undefined)).toBe(true);
    expect(wantsColor({ FORCE_COLOR: '1', NO_COLOR: '1' }, true, undefined)).toBe(false);
    expect(wantsColor({ FORCE_COLOR: '1' }, true, false)).toBe(false);
  });
});
