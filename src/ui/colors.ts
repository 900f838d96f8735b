import { styleText } from 'node:util';
import type { Status } from '../core/types.js';

export type Paint = (text: string) => string;

export interface Colors {
  enabled: boolean;
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  blue: Paint;
  cyan: Paint;
  magenta: Paint;
  gray: Paint;
}

const same: Paint = (t) => t;

/**
 * Colour only on a terminal that wants it: NO_COLOR, --no-color and pipes get plain text. Decided here, for
 * the stream the text goes to (stderr for progress and errors), not by styleText, which would look at stdout.
 */
export function wantsColor(
  env: Record<string, string | undefined>,
  isTTY: boolean,
  flag: boolean | undefined,
): boolean {
  if (flag === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  // FORCE_COLOR=0 (or false) turns colour off, as Node's own styleText and supports-color read it.
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return true;
  return isTTY && env.TERM !== 'dumb';
}

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'cyan' | 'magenta' | 'gray';

/**
 * Node's own styleText (no library on the path of every command; node:util is loaded anyway). Told not to
 * judge the stream itself: wantsColor() has decided, with our --no-color, NO_COLOR, FORCE_COLOR and TTY rules.
 */
function style(format: Style): Paint {
  return (t) => styleText(format, t, { validateStream: false });
}

export function makeColors(enabled: boolean): Colors {
  if (!enabled) {
    return {
      enabled,
      bold: same,
      dim: same,
      red: same,
      green: same,
      yellow: same,
      blue: same,
      cyan: same,
      magenta: same,
      gray: same,
    };
  }
  return {
    enabled,
    bold: style('bold'),
    dim: style('dim'),
    red: style('red'),
    green: style('green'),
    yellow: style('yellow'),
    blue: style('blue'),
    cyan: style('cyan'),
    magenta: style('magenta'),
    gray: style('gray'),
  };
}

export function paintStatus(c: Colors, status: Status): string {
  switch (status) {
    case 'running':
      return c.green(status);
    case 'failed':
    case 'interrupted':
    case 'exited':
      return c.red(status);
    case 'queued':
    case 'building':
    case 'starting':
      return c.yellow(status);
    case 'stopped':
      return c.magenta(status);
    default:
      return c.gray(status);
  }
}
