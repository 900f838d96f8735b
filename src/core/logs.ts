import { TextDecoder } from 'node:util';
/**
 * Container logs: the Engine's multiplexed stream format, and the format logs are kept in the store.
 */

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  /** Epoch ms, or null when the engine did not send a timestamp. */
  time: number | null;
  stream: LogStream;
  message: string;
  /** A Swarm service's line: the task that wrote it (SERVICE.SLOT.ID, core/tasks.ts taskName) and its node's hostname. */
  task?: string;
  node?: string;
}

/** Bytes of a container's logs kept in the store when its container goes away. */
export const KEPT_LOG_BYTES = 1024 * 1024;

/**
 * Splits the Engine's multiplexed stream (container logs, an exec's output: an 8-byte header per frame, stream
 * id, 3 zero bytes, big-endian length) into its frames. Frames may be cut anywhere across chunks.
 */
export class MuxFrames {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ stream: LogStream; payload: Buffer }> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Array<{ stream: LogStream; payload: Buffer }> = [];
    while (this.pending.length >= 8) {
      const kind = this.pending[0];
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      frames.push({ stream: kind === 2 ? 'stderr' : 'stdout', payload: this.pending.subarray(8, 8 + size) });
      this.pending = this.pending.subarray(8 + size);
    }
    return frames;
  }
}

/**
 * Splits the Engine's multiplexed log stream into per-stream text (MuxFrames), and that text into lines. Frames
 * and lines may be cut anywhere across chunks.
 */
export class LogDemuxer {
  private readonly frames = new MuxFrames();
  private readonly partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  // One decoder per stream: a character cut between two frames is put back together.
  private readonly decoders: Record<LogStream, TextDecoder> = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(private readonly timestamps: boolean) {}

  push(chunk: Buffer): LogLine[] {
    const lines: LogLine[] = [];
    for (const frame of this.frames.push(chunk)) {
      const stream = frame.stream;
      this.partial[stream] += this.decoders[stream].decode(frame.payload, { stream: true });
      const parts = this.partial[stream].split('\n');
      this.partial[stream] = parts.pop() ?? '';
      for (const text of parts) lines.push(this.line(stream, text));
    }
    return lines;
  }

  /** Whatever is left without a final newline. */
  flush(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      this.partial[stream] += this.decoders[stream].decode();
      if (this.partial[stream] !== '') lines.push(this.line(stream, this.partial[stream]));
      this.partial[stream] = '';
    }
    return lines;
  }

  private line(stream: LogStream, text: string): LogLine {
    const body = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (!this.timestamps) return { time: null, stream, message: body };
    const space = body.indexOf(' ');
    const time = space > 0 ? Date.parse(body.slice(0, space)) : NaN;
    return Number.isNaN(time)
      ? { time: null, stream, message: body }
      : { time, stream, message: body.slice(space + 1) };
  }
}

/** A kept log is JSON Lines: one {t, s, m} object per line, so streams and times survive. */
export function encodeKeptLines(
  lines: readonly LogLine[],
  maxBytes = KEPT_LOG_BYTES,
): { content: Buffer; truncated: boolean } {
  const encoded: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i] as LogLine;
    const kept = { t: l.time, s: l.stream === 'stderr' ? 'e' : 'o', m: l.message, k: l.task, n: l.node };
    const b = Buffer.from(`${JSON.stringify(kept)}\n`);
    if (size + b.length > maxBytes) {
      truncated = true;
      break;
    }
    encoded.push(b);
    size += b.length;
  }
  return { content: Buffer.concat(encoded.reverse()), truncated };
}

export function decodeKeptLines(content: Buffer): LogLine[] {
  const out: LogLine[] = [];
  for (const text of content.toString('utf8').split('\n')) {
    if (text === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      o = null;
    }
    const kept = o as { t?: unknown; s?: unknown; m?: unknown; k?: unknown; n?: unknown } | null;
    if (kept && typeof kept === 'object' && typeof kept.m === 'string') {
      out.push({
        time: typeof kept.t === 'number' ? kept.t : null,
        stream: kept.s === 'e' ? 'stderr' : 'stdout',
        message: kept.m,
        ...(typeof kept.k === 'string' ? { task: kept.k, node: typeof kept.n === 'string' ? kept.n : '' } : {}),
      });
    } else {
      out.push({ time: null, stream: 'stdout', message: text });
    }
  }
  return out;
}

/** Keeps the last maxBytes of text, cut at a line start, for build output. */
export function tailText(text: string, maxBytes = KEPT_LOG_BYTES): { text: string; truncated: boolean } {
  const buf = Buffer.from(text);
  if (buf.length <= maxBytes) return { text, truncated: false };
  const start = buf.length - maxBytes;
  // Keep whole lines: start after the first newline at or after the cut (a cut right after a newline keeps that line).
  const nl = buf.indexOf(0x0a, start - 1);
  const from = nl >= 0 && nl + 1 < buf.length ? nl + 1 : start;
  return { text: buf.subarray(from).toString('utf8'), truncated: true };
}
