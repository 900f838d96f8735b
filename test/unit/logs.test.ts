import { describe, expect, it } from 'vitest';
import {
  decodeKeptLines,
  encodeKeptLines,
  KEPT_LOG_BYTES,
  LogDemuxer,
  type LogLine,
  MuxFrames,
  tailText,
} from '../../src/core/logs.js';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;

/** One frame of the Engine's multiplexed stream: stream id, three zero bytes, big-endian payload length, payload. */
function frame(stream: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Feeds the chunks one by one and collects every line, then what flush() gives. */
function demux(chunks: readonly Buffer[], timestamps = false): LogLine[] {
  const d = new LogDemuxer(timestamps);
  return [...chunks.flatMap((c) => d.push(c)), ...d.flush()];
}

/** Cuts a buffer into pieces at the given offsets. */
function cut(buf: Buffer, ...offsets: number[]): Buffer[] {
  const points = [0, ...offsets, buf.length];
  return points.slice(1).map((end, i) => buf.subarray(points[i], end));
}

const out = (message: string, time: number | null = null): LogLine => ({ time, stream: 'stdout', message });
const err = (message: string, time: number | null = null): LogLine => ({ time, stream: 'stderr', message });

describe('MuxFrames.push', () => {
  it('gives each frame whole, with its stream, however the chunks cut it (bytes untouched, no line splitting)', () => {
    const bytes = Buffer.concat([
      frame(STDOUT, 'no newline'),
      frame(STDERR, Buffer.from([0xe2, 0x82])),
      frame(STDERR, Buffer.from([0xac, 0x0a])),
    ]);
    const m = new MuxFrames();
    const frames = cut(bytes, 3, 9, 20, 25).flatMap((c) => m.push(c));
    expect(frames.map((f) => [f.stream, f.payload.toString('hex')])).toEqual([
      ['stdout', Buffer.from('no newline').toString('hex')],
      ['stderr', 'e282'],
      ['stderr', 'ac0a'],
    ]);
    expect(m.push(Buffer.alloc(0))).toEqual([]);
  });
});

describe('LogDemuxer.push', () => {
  it('splits one frame into lines', () => {
    const d = new LogDemuxer(false);
    expect(d.push(frame(STDOUT, 'hello\nworld\n'))).toEqual([out('hello'), out('world')]);
  });

  it('tells stdout from stderr by the stream id, reading any other id as stdout', () => {
    const d = new LogDemuxer(false);
    expect(d.push(Buffer.concat([frame(STDOUT, 'a\n'), frame(STDERR, 'b\n'), frame(STDIN, 'c\n')]))).toEqual([
      out('a'),
      err('b'),
      out('c'),
    ]);
  });

  it('keeps empty lines', () => {
    expect(demux([frame(STDOUT, 'a\n\n\nb\n')])).toEqual([out('a'), out(''), out(''), out('b')]);
  });

  it('strips the "\\r" of a CRLF line ending, and only that one', () => {
    expect(demux([frame(STDOUT, 'dos\r\n50%\r100%\r\n')])).toEqual([out('dos'), out('50%\r100%')]);
  });

  it('returns nothing until a frame is complete', () => {
    const bytes = frame(STDOUT, 'complete line\n');
    const d = new LogDemuxer(false);
    expect(d.push(bytes.subarray(0, 5))).toEqual([]);
    expect(d.push(bytes.subarray(5, 12))).toEqual([]);
    expect(d.push(bytes.subarray(12))).toEqual([out('complete line')]);
  });

  it('joins a line written across several frames', () => {
    expect(demux([frame(STDOUT, 'hel'), frame(STDOUT, 'lo wor'), frame(STDOUT, 'ld\nnext\n')])).toEqual([
      out('hello world'),
      out('next'),
    ]);
  });

  it('keeps the unfinished line of each stream apart when frames interleave', () => {
    const chunks = [frame(STDOUT, 'out '), frame(STDERR, 'err '), frame(STDOUT, 'line\n'), frame(STDERR, 'line\n')];
    expect(demux(chunks)).toEqual([out('out line'), err('err line')]);
  });

  it('ignores frames with an empty payload', () => {
    expect(demux([frame(STDOUT, ''), frame(STDERR, ''), frame(STDOUT, 'x\n')])).toEqual([out('x')]);
  });

  it('gives the same lines wherever the chunks are cut, headers included', () => {
    const stream = Buffer.concat([
      frame(STDOUT, 'first\nsec'),
      frame(STDERR, 'oops\n'),
      frame(STDOUT, 'ond\n'),
      frame(STDERR, 'héllo ✓\n'),
    ]);
    const expected = [out('first'), err('oops'), out('second'), err('héllo ✓')];
    for (let at = 1; at < stream.length; at++) {
      expect(demux(cut(stream, at)), `cut at ${at}`).toEqual(expected);
    }
    expect(demux(cut(stream, 3, 8, 9, 17, 30, 31))).toEqual(expected);
  });

  it('reads a stream fed one byte at a time', () => {
    const stream = Buffer.concat([frame(STDOUT, 'a\nb'), frame(STDERR, 'c\n'), frame(STDOUT, '\n')]);
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(demux(bytes)).toEqual([out('a'), err('c'), out('b')]);
  });

  it('reads a frame larger than 64 KiB delivered in pieces', () => {
    const big = `${'x'.repeat(70_000)}\n${'y'.repeat(10)}\n`;
    const stream = frame(STDOUT, big);
    expect(demux(cut(stream, 4, 16_384, 32_768, 65_536))).toEqual([out('x'.repeat(70_000)), out('y'.repeat(10))]);
  });

  // BUG (src/core/logs.ts, LogDemuxer.push): each frame's payload is decoded as UTF-8 on its own, so a
  // character whose bytes the engine sent in two frames (a program writing "é" in two writes) turns into
  // two U+FFFD replacement characters instead of "é".
  it('decodes a UTF-8 character split across two frames of the same stream', () => {
    const bytes = Buffer.from('é\n', 'utf8');
    expect(demux([frame(STDOUT, bytes.subarray(0, 1)), frame(STDOUT, bytes.subarray(1))])).toEqual([out('é')]);
  });
});

describe('LogDemuxer.flush', () => {
  it('returns the unfinished line of stdout, then of stderr, and clears them', () => {
    const d = new LogDemuxer(false);
    expect(
      d.push(Buffer.concat([frame(STDERR, 'no newline on err'), frame(STDOUT, 'done\nno newline on out')])),
    ).toEqual([out('done')]);
    expect(d.flush()).toEqual([out('no newline on out'), err('no newline on err')]);
    expect(d.flush()).toEqual([]);
  });

  it('returns nothing when every line was finished', () => {
    const d = new LogDemuxer(false);
    d.push(frame(STDOUT, 'a\n'));
    expect(d.flush()).toEqual([]);
  });

  it('drops an incomplete frame (the stream ended inside it)', () => {
    const d = new LogDemuxer(false);
    expect(d.push(frame(STDOUT, 'cut off\n').subarray(0, 12))).toEqual([]);
    expect(d.flush()).toEqual([]);
  });
});

describe('LogDemuxer with timestamps', () => {
  const T = Date.UTC(2026, 0, 2, 3, 4, 5, 123);

  it('reads the RFC 3339 timestamp the engine puts before each line, to the millisecond', () => {
    const chunks = [
      frame(STDOUT, '2026-01-02T03:04:05.123456789Z server listening on :8080\n'),
      frame(STDERR, '2026-01-02T03:04:05.123Z warn\r\n'),
    ];
    expect(demux(chunks, true)).toEqual([out('server listening on :8080', T), err('warn', T)]);
  });

  it('reads timestamps with an offset', () => {
    expect(demux([frame(STDOUT, '2026-01-02T05:04:05.123456789+02:00 hi\n')], true)).toEqual([out('hi', T)]);
  });

  it('keeps the rest of the line as it is, spaces included', () => {
    expect(demux([frame(STDOUT, '2026-01-02T03:04:05.123Z   indented  text \n')], true)).toEqual([
      out('  indented  text ', T),
    ]);
  });

  it('gives an empty message for an empty line', () => {
    expect(demux([frame(STDOUT, '2026-01-02T03:04:05.123Z \n')], true)).toEqual([out('', T)]);
  });

  it('applies the timestamp of a line cut across frames once', () => {
    expect(
      demux([frame(STDOUT, '2026-01-02T03:04'), frame(STDOUT, ':05.123Z split'), frame(STDOUT, ' line\n')], true),
    ).toEqual([out('split line', T)]);
  });

  it('keeps the whole text, without a time, when a line has no readable timestamp', () => {
    expect(
      demux([frame(STDOUT, 'no timestamp here\n'), frame(STDOUT, ' leading space\n'), frame(STDOUT, 'single\n')], true),
    ).toEqual([out('no timestamp here'), out(' leading space'), out('single')]);
  });

  it('timestamps the lines given by flush too', () => {
    const d = new LogDemuxer(true);
    expect(d.push(frame(STDERR, '2026-01-02T03:04:05.123Z partial'))).toEqual([]);
    expect(d.flush()).toEqual([err('partial', T)]);
  });

  it('leaves a timestamp in the message when timestamps were not asked for', () => {
    expect(demux([frame(STDOUT, '2026-01-02T03:04:05.123Z hi\n')], false)).toEqual([
      out('2026-01-02T03:04:05.123Z hi'),
    ]);
  });
});

describe('encodeKeptLines', () => {
  it('writes one {t, s, m} JSON object per line, "o" for stdout and "e" for stderr', () => {
    const { content, truncated } = encodeKeptLines([out('hello', 1_000), err('oops'), out('')]);
    expect(content.toString('utf8')).toBe(
      '{"t":1000,"s":"o","m":"hello"}\n{"t":null,"s":"e","m":"oops"}\n{"t":null,"s":"o","m":""}\n',
    );
    expect(truncated).toBe(false);
  });

  it('gives an empty buffer for no lines', () => {
    expect(encodeKeptLines([])).toEqual({ content: Buffer.alloc(0), truncated: false });
  });

  it('round-trips through decodeKeptLines, whatever the messages hold', () => {
    const lines = [
      out('plain', 1),
      err('quotes " and \\ backslash', 2),
      out('new\nline and tab\t'),
      err('unicode é ✓ 🚀', null),
      out('{"json":"inside"}', 3),
      out(''),
    ];
    expect(decodeKeptLines(encodeKeptLines(lines).content)).toEqual(lines);
  });

  it('keeps everything when it fits exactly in maxBytes', () => {
    const lines = [out('a', 1), err('b', 2)];
    const size = encodeKeptLines(lines).content.length;
    expect(encodeKeptLines(lines, size)).toEqual({ content: encodeKeptLines(lines).content, truncated: false });
  });

  it('keeps the newest lines that fit and drops the oldest', () => {
    const lines = Array.from({ length: 10 }, (_, i) => out(`line ${i}`, i));
    const oneLine = encodeKeptLines([lines[9]!]).content.length; // every line here encodes to the same size
    const { content, truncated } = encodeKeptLines(lines, oneLine * 3 + 5);
    expect(truncated).toBe(true);
    expect(decodeKeptLines(content)).toEqual(lines.slice(7));
  });

  it('never goes over maxBytes', () => {
    const lines = Array.from({ length: 50 }, (_, i) => (i % 2 ? err(`é ${'x'.repeat(i)}`, i) : out(`${i}`, null)));
    for (let max = 0; max <= 2_500; max += 37) {
      const { content, truncated } = encodeKeptLines(lines, max);
      expect(content.length, `max ${max}`).toBeLessThanOrEqual(max);
      const kept = decodeKeptLines(content);
      expect(kept, `max ${max}`).toEqual(lines.slice(lines.length - kept.length));
      expect(truncated, `max ${max}`).toBe(kept.length < lines.length);
    }
  });

  it('stops at the first line that does not fit, keeping the kept lines contiguous', () => {
    const lines = [out('tiny'), out('x'.repeat(200)), out('last')];
    const { content, truncated } = encodeKeptLines(lines, 100);
    expect(truncated).toBe(true);
    expect(decodeKeptLines(content)).toEqual([out('last')]);
  });

  it('keeps nothing when even the newest line is too big', () => {
    expect(encodeKeptLines([out('x'.repeat(100))], 50)).toEqual({ content: Buffer.alloc(0), truncated: true });
  });

  it('is bounded by 1 MiB by default', () => {
    expect(KEPT_LOG_BYTES).toBe(1024 * 1024);
    const lines = Array.from({ length: 20_000 }, (_, i) => out(`${String(i).padStart(5, '0')} ${'z'.repeat(60)}`, i));
    const { content, truncated } = encodeKeptLines(lines);
    expect(truncated).toBe(true);
    expect(content.length).toBeLessThanOrEqual(KEPT_LOG_BYTES);
    const kept = decodeKeptLines(content);
    expect(kept.at(-1)).toEqual(lines.at(-1));
    expect(kept).toEqual(lines.slice(lines.length - kept.length));
  });
});

describe('decodeKeptLines', () => {
  it('skips empty lines, including the one after the final newline', () => {
    expect(decodeKeptLines(Buffer.from('\n{"t":5,"s":"e","m":"x"}\n\n\n'))).toEqual([err('x', 5)]);
    expect(decodeKeptLines(Buffer.alloc(0))).toEqual([]);
  });

  it('reads any stream code other than "e" as stdout', () => {
    expect(decodeKeptLines(Buffer.from('{"t":null,"s":"o","m":"a"}\n{"t":null,"s":"?","m":"b"}\n'))).toEqual([
      out('a'),
      out('b'),
    ]);
  });

  it('keeps a line that is not JSON as stdout text without a time', () => {
    expect(decodeKeptLines(Buffer.from('plain text\n{"t":1,"s":"o","m":"ok"}\n{broken\n'))).toEqual([
      out('plain text'),
      out('ok', 1),
      out('{broken'),
    ]);
  });

  // BUG (src/core/logs.ts, decodeKeptLines): a line that is valid JSON but not a {t, s, m} object ("42",
  // "true", "[1]") is not treated like other foreign text: it decodes to a line whose time and message are
  // undefined, breaking the LogLine type (message: string).
  it('keeps a line that is JSON but not a kept-line object as stdout text', () => {
    expect(decodeKeptLines(Buffer.from('42\n'))).toEqual([out('42')]);
  });
});

describe('tailText', () => {
  it('returns text within the limit unchanged', () => {
    expect(tailText('short\ntext\n')).toEqual({ text: 'short\ntext\n', truncated: false });
    expect(tailText('12345', 5)).toEqual({ text: '12345', truncated: false });
    expect(tailText('', 0)).toEqual({ text: '', truncated: false });
  });

  it('keeps the end of longer text, starting at a line start', () => {
    // "first line\n" (11 bytes) "second\n" (7) "third\n" (6): the last 10 bytes start inside "second".
    expect(tailText('first line\nsecond\nthird\n', 10)).toEqual({ text: 'third\n', truncated: true });
  });

  it('keeps the raw tail when it holds no line break', () => {
    expect(tailText('abcdefghij', 4)).toEqual({ text: 'ghij', truncated: true });
  });

  it('measures the limit in bytes and never starts inside a character', () => {
    // "ééé\n" is 7 bytes; the last 5 bytes start in the middle of the third "é".
    expect(tailText('ééé\nabc', 5)).toEqual({ text: 'abc', truncated: true });
  });

  it('stays within the limit for long build output, by 1 MiB by default', () => {
    const text = Array.from({ length: 40_000 }, (_, i) => `Step ${i}: ${'-'.repeat(30)}`).join('\n');
    const { text: kept, truncated } = tailText(text);
    expect(truncated).toBe(true);
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(KEPT_LOG_BYTES);
    expect(text.endsWith(kept)).toBe(true);
    expect(text[text.length - kept.length - 1]).toBe('\n');
  });

  // BUG (src/core/logs.ts, tailText): when the cut falls exactly on a line start, the first (complete) line
  // of the tail is dropped anyway: the tail "second\nthird\n" fits in 13 bytes, but only "third\n" is kept.
  it('keeps a whole first line when the cut falls exactly on a line start', () => {
    expect(tailText('first line\nsecond\nthird\n', 13)).toEqual({ text: 'second\nthird\n', truncated: true });
  });
});
