/** Small text helpers for what a person reads on one line. */
import { sanitize } from './sanitize.js';
import { visibleLength } from './table.js';

/** text cut to at most max characters (code points), an ellipsis marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** "1 day", "2 days", "0 steps"; `many` for words that do not just take an s ("1 match", "2 matches"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Text a person wrote (a commit subject), in double quotes as they typed it: quotes and backslashes are not
 * escaped the way JSON.stringify escapes them, while terminal control characters are still made harmless.
 * Cut to max characters, so it fits a one-line header (the full subject is in `deploy inspect`).
 */
export function quoted(text: string, max = Infinity): string {
  const line = oneLine(text);
  return `"${Number.isFinite(max) ? truncate(line, max) : line}"`;
}

/**
 * Text from outside (a commit subject, an env value, app output) made safe to show on one line: every renderer
 * passes such text through here, so no escape sequence in it can move the cursor, retitle or clear the terminal.
 */
export function oneLine(text: string): string {
  return sanitize(text).replace(/\n/g, ' ');
}

/** A commit subject, quoted, short enough for a one-line header. */
export function quotedSubject(subject: string, max = 60): string {
  return quoted(subject, max);
}

/**
 * Where a deployment's code came from, as `REF@SHA`: "main@b02b726". When the ref is the commit itself (a SHA
 * given with --ref, or a record rebuilt from labels), the short SHA once: "b02b726", not "b02b726@b02b726".
 */
export function refAndCommit(ref: string, commit: string): string {
  const short = commit.slice(0, 7);
  const r = ref.toLowerCase();
  if (r === '' || (r.length >= 4 && /^[0-9a-f]+$/.test(r) && commit.toLowerCase().startsWith(r))) return short;
  return `${ref}@${short}`;
}

/**
 * Text wrapped at spaces into lines of at most width characters (a word longer than a line stays whole).
 * Line breaks prefer the " · " between parts: a part is moved to the next line whole when it fits there.
 */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const part of text.split(' · ')) {
    const joined = current === '' ? part : `${current} · ${part}`;
    if (visibleLength(joined) <= width) {
      current = joined;
      continue;
    }
    if (current !== '' && visibleLength(part) <= width) {
      lines.push(current);
      current = part;
      continue;
    }
    // The part does not fit a line of its own: it starts one, broken between words.
    if (current !== '') lines.push(current);
    current = '';
    for (const word of part.split(' ')) {
      const next = current === '' ? word : `${current} ${word}`;
      if (current !== '' && visibleLength(next) > width) {
        lines.push(current);
        current = word;
      } else {
        current = next;
      }
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}

/**
 * A `label value` line of a view wrapped to `width` columns, the value's continuation lines indented by `indent`
 * (the label's width), so the value stays in its column. The first `indent` columns are the label (colours kept).
 */
export function hangingWrap(line: string, indent: number, width: number): string[] {
  if (visibleLength(line) <= width || width - indent < 20) return [line];
  let at = 0;
  // Past the label: `indent` visible characters, colour codes and all.
  for (let seen = 0; at < line.length && seen < indent;) {
    // eslint-disable-next-line no-control-regex
    const code = /^\x1b\[[0-9;]*m/.exec(line.slice(at));
    if (code) at += code[0].length;
    else {
      at += line.codePointAt(at)! > 0xffff ? 2 : 1;
      seen++;
    }
  }
  // eslint-disable-next-line no-control-regex
  const closing = /^(\x1b\[[0-9;]*m)*/.exec(line.slice(at))![0];
  const [first = '', ...rest] = wrapText(line.slice(at + closing.length), width - indent);
  return [line.slice(0, at + closing.length) + first, ...rest.map((l) => ' '.repeat(indent) + l)];
}
