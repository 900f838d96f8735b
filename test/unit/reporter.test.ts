import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Reporter, type ReporterOptions } from '../../src/ui/reporter.js';
import { plainReporter } from '../helpers/reporter.js';

/** A plain reporter (no terminal, no color, nothing verbose or quiet) to streams that swallow what it writes. */
function reporter(options: Partial<ReporterOptions>): Reporter {
  return plainReporter(new PassThrough(), new PassThrough(), options);
}

function reporterTo(stdout: Writable): Reporter {
  return reporter({ stdout, json: true });
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
    const items = Array.from({ length: 3000 }, (_, i) => ({
      id: `d${i}`,
      subject: 'y'.repeat(50),
      config: { env: { KEY: `v${i}` } },
    }));
    const text = await streamed(items, true);
    expect(text.length).toBeGreaterThan(64 * 1024 * 2);
    expect(text).toBe(`${JSON.stringify(items, null, 2)}\n`);
  });
});

describe('Reporter steps on a terminal', () => {
  function terminalReporter() {
    let text = '';
    const stderr = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const r = reporter({ stderr, interactive: true });
    return { r, text: () => text };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it('a step that ends before the spinner library loads is its done line alone, and no spinner follows', async () => {
    const { r, text } = terminalReporter();
    r.step('Building');
    r.update('Building: step 2/3');
    r.done('Built');
    await settle();
    expect(text()).toBe('✔ Built\n');
  });

  it('a step still going once the library loads turns into a spinner, with its latest text', async () => {
    const { r, text } = terminalReporter();
    r.step('Building');
    r.update('Building: step 2/3');
    await settle();
    expect(text()).toContain('Building: step 2/3');
    r.done('Built');
    expect(text().endsWith('✔ Built\n')).toBe(true);
  });

  it('a step stopped by a failure that main reports leaves no line of its own', async () => {
    const { r, text } = terminalReporter();
    r.step('Starting web');
    r.stopSpinner();
    await settle();
    expect(text()).toBe('');
  });
});

describe('warnings at a terminal', () => {
  const warned = (terminal: { isTTY?: boolean; columns?: number }, text: string) => {
    const stderr = Object.assign(new PassThrough(), terminal);
    reporter({ stderr }).warn(text);
    return String(stderr.read());
  };
  const text = 'Took over the lock of hello from root@vm (pid 29312): its process on this machine is gone.';

  it('wrap under their own text, not under the "!"', () => {
    expect(warned({ isTTY: true, columns: 40 }, text)).toBe(
      '! Took over the lock of hello from\n  root@vm (pid 29312): its process on\n  this machine is gone.\n',
    );
  });

  it('stay one line where no terminal is (a log keeps it whole)', () => {
    expect(warned({}, text)).toBe(`! ${text}\n`);
  });
});
