import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Reporter } from '../../src/ui/reporter.js';

function reporterTo(stdout: Writable): Reporter {
  return new Reporter({ stdout, stderr: new PassThrough(), json: true, verbose: false, quiet: false, interactive: false, color: false });
}

/** What resultArray writes for items, read back through a stream that takes writes slowly. */
async function streamed(items: unknown[], slow = false): Promise<string> {
  const parts: Buffer[] = [];
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      if (slow) setTimeout(done, 1);
      else done();
    },
  });
  await reporterTo(out).resultArray(items);
  return Buffer.concat(parts).toString('utf8');
}

describe('Reporter.resultArray', () => {
  it('writes exactly what JSON.stringify(array, null, 2) writes', async () => {
    const cases: unknown[][] = [
      [],
      [1],
      [{ a: 'line one\nline two', b: [1, { c: null, d: [] }], e: {} }, 'x', [[]]],
      [{ quote: '"\\', unicode: '日本語 😀', nested: { deeper: { deepest: [true, false] } } }],
    ];
    for (const items of cases) expect(await streamed(items)).toBe(`${JSON.stringify(items, null, 2)}\n`);
  });

  it('writes a history larger than its chunks whole and in order, waiting for a slow reader', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ id: `d${i}`, subject: 'y'.repeat(50), config: { env: { KEY: `v${i}` } } }));
    const text = await streamed(items, true);
    expect(text.length).toBeGreaterThan(64 * 1024 * 2);
    expect(text).toBe(`${JSON.stringify(items, null, 2)}\n`);
  });
});
