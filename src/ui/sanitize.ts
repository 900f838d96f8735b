/**
 * Output from builds and containers is shown as text. Terminal control sequences in it (cursor moves,
 * title changes, screen clears, OSC hyperlinks) are removed, and other control characters are made
 * visible, so a hostile or careless app cannot rewrite or hide what the user reads.
 */
// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte ESC sequences, and 8-bit C1 CSI/OSC.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*(?![[\]])[0-~]|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07]*\x07?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g;

export function sanitize(text: string): string {
  return text
    .replace(ESCAPES, '')
    .replace(/\r\n/g, '\n')
    .replace(/\r/g, '\n')
    .replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
