import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BuildkitProgress, decodeStatus } from '../../src/core/buildkit-progress.js';

/** The `aux` of every moby.buildkit.trace message of a real build of examples/hello (no cache), as dockerd sent it. */
const trace = JSON.parse(readFileSync(new URL('../fixtures/buildkit-trace.json', import.meta.url), 'utf8')) as string[];

/** Writes a protobuf field by hand, to test the decoder on known bytes. */
function field(n: number, value: Buffer | number): Buffer {
  const varint = (x: number) => {
    const out: number[] = [];
    do {
      out.push((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
      x = Math.floor(x / 128);
    } while (x > 0);
    return Buffer.from(out);
  };
  if (typeof value === 'number') return Buffer.concat([varint(n * 8), varint(value)]);
  return Buffer.concat([varint(n * 8 + 2), varint(value.length), value]);
}

describe('decodeStatus', () => {
  it('reads vertexes and logs from hand-written bytes', () => {
    const ts = (s: number) => Buffer.concat([field(1, s), field(2, 500_000_000)]);
    const vertex = Buffer.concat([
      field(1, Buffer.from('sha256:abc')),
      field(3, Buffer.from('[2/3] RUN make')),
      field(5, ts(100)),
      field(6, ts(102)),
      field(7, Buffer.from('exit code: 2')),
    ]);
    const log = Buffer.concat([
      field(1, Buffer.from('sha256:abc')),
      field(3, 2),
      field(4, Buffer.from('make: *** no rule\n')),
    ]);
    const status = decodeStatus(Buffer.concat([field(1, vertex), field(3, log)]));
    expect(status).toEqual({
      vertexes: [
        {
          digest: 'sha256:abc',
          name: '[2/3] RUN make',
          cached: false,
          started: 100_500,
          completed: 102_500,
          error: 'exit code: 2',
        },
      ],
      logs: [{ vertex: 'sha256:abc', stream: 2, msg: Buffer.from('make: *** no rule\n') }],
    });
  });

  it("turns a real build's trace into BuildKit's plain progress", () => {
    const progress = new BuildkitProgress();
    const text = trace.map((aux) => progress.push(decodeStatus(Buffer.from(aux, 'base64')))).join('');
    const lines = text.trim().split('\n');
    expect(lines).toContain('#1 [internal] load remote build context');
    expect(text).toMatch(/^#\d+ \[1\/4\] FROM docker\.io\/library\/busybox:1\.36$/m);
    expect(text).toMatch(/^#(\d+) \[3\/4\] COPY index\.html \.\/\n#\1 DONE \d+\.\ds$/m);
    // Each step is announced once and finished once.
    const announced = lines.filter((l) => /^#\d+ [[a-z]/.test(l) && !/ (DONE|CACHED)/.test(l));
    expect(new Set(announced).size).toBe(announced.length);
    expect(progress.current).toBe('exporting to image');
  });
});
