/** Small text helpers for what a person reads on one line. */

/** text cut to at most max characters (code points), an ellipsis marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** A commit subject, quoted, short enough for a one-line header (the full one is in `deploy inspect`). */
export function quotedSubject(subject: string, max = 60): string {
  return JSON.stringify(truncate(subject, max));
}
