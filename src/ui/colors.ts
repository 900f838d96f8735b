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

/** Colour only on a terminal that wants it: NO_COLOR, --no-color and pipes get plain text. */
export function wantsColor(env: Record<string, string | undefined>, isTTY: boolean, flag: boolean | undefined): boolean {
  if (flag === false || env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

/** The ANSI SGR codes we use; small enough not to need a library on the hot path of every command. */
function sgr(open: number, close: number): Paint {
  return (t) => `\x1b[${open}m${t}\x1b[${close}m`;
}

export function makeColors(enabled: boolean): Colors {
  if (!enabled) {
    return { enabled, bold: same, dim: same, red: same, green: same, yellow: same, blue: same, cyan: same, magenta: same, gray: same };
  }
  return {
    enabled,
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    blue: sgr(34, 39),
    cyan: sgr(36, 39),
    magenta: sgr(35, 39),
    gray: sgr(90, 39),
  };
}

export function paintStatus(c: Colors, status: Status): string {
  switch (status) {
    case 'running':
      return c.green(status);
    case 'failed':
    case 'interrupted':
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
