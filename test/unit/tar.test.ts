import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstTarFile, TarFilter, TarFormatError, tarFile, tarFiles, type TarEntry } from '../../src/core/tar.js';

describe('tarFile / firstTarFile', () => {
  it('round-trips a file', () => {
    expect(firstTarFile(tarFile('heartbeat', Buffer.from('1795327520031')))?.toString()).toBe('1795327520031');
  });

  it('pads to 512-byte blocks and ends with two zero blocks', () => {
    const tar = tarFile('a', Buffer.from('x'.repeat(700)));
    expect(tar.length).toBe(512 + 1024 + 1024);
  });

  it('writes a tar that GNU tar reads (checked with the real tar program)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      writeFileSync(join(dir, 'x.tar'), tarFile('lock', Buffer.from('deploy lock\n'), Date.UTC(2026, 0, 1)));
      expect(execFileSync('tar', ['-tvf', join(dir, 'x.tar')], { encoding: 'utf8' })).toMatch(
        /-rw-r--r-- .* 12 2026-01-01 \d\d:\d\d lock/,
      );
      execFileSync('tar', ['-xf', join(dir, 'x.tar'), '-C', dir]);
      expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe('deploy lock\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes several files into one tar that GNU tar reads, in order, ending with two zero blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      const tar = tarFiles([
        { name: 'Dockerfile', content: Buffer.from('FROM x\n') },
        { name: 'proxy.js', content: Buffer.from('y'.repeat(600)) },
      ]);
      expect(tar.length).toBe(512 + 512 + 512 + 1024 + 1024);
      expect(tar.subarray(-1024).every((b) => b === 0)).toBe(true);
      writeFileSync(join(dir, 'x.tar'), tar);
      expect(execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' })).toBe('Dockerfile\nproxy.js\n');
      execFileSync('tar', ['-xf', join(dir, 'x.tar'), '-C', dir]);
      expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toBe('FROM x\n');
      expect(readFileSync(join(dir, 'proxy.js'), 'utf8')).toBe('y'.repeat(600));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds nothing in a buffer too short to be a tar', () => {
    expect(firstTarFile(Buffer.alloc(10))).toBeNull();
  });
});

describe('TarFilter', () => {
  const long = `${'deep/'.repeat(30)}name-longer-than-a-ustar-header-holds.txt`;
  /** A tar made by the real tar program from a small tree, in the given format. */
  function makeTar(format: 'gnu' | 'pax' | 'ustar'): Buffer {
    const dir = mkdtempSync(join(tmpdir(), 'tarfilter-'));
    try {
      const files: Record<string, string> = {
        'keep.txt': 'kept\n',
        'drop.txt': 'x'.repeat(5000),
        'sub/a': 'a\n',
        'sub/b': 'b'.repeat(513),
      };
      if (format !== 'ustar') files[long] = 'long\n';
      for (const [path, content] of Object.entries(files)) {
        execFileSync('mkdir', ['-p', join(dir, 'src', path, '..')]);
        writeFileSync(join(dir, 'src', path), content);
      }
      if (format !== 'ustar') execFileSync('ln', ['-s', long, join(dir, 'src', `link-${'l'.repeat(120)}`)]);
      execFileSync('tar', [`--format=${format}`, '-cf', join(dir, 'x.tar'), '-C', join(dir, 'src'), '.']);
      return readFileSync(join(dir, 'x.tar'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  /** Runs the filter over the tar in chunks of `size` bytes; returns what came out. */
  function filter(tar: Buffer, keep: (e: TarEntry) => boolean, size: number): Buffer {
    const f = new TarFilter(keep);
    const out: Buffer[] = [];
    for (let at = 0; at < tar.length; at += size) out.push(...f.push(tar.subarray(at, at + size)));
    out.push(...f.end());
    return Buffer.concat(out);
  }
  /** What the real tar program lists in a tar, and a file's content. */
  function list(tar: Buffer): { names: string[]; read(name: string): string } {
    const dir = mkdtempSync(join(tmpdir(), 'tarlist-'));
    writeFileSync(join(dir, 'x.tar'), tar);
    const names = execFileSync('tar', ['-tf', join(dir, 'x.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .sort();
    return {
      names,
      read: (name) => {
        try {
          return execFileSync('tar', ['-xOf', join(dir, 'x.tar'), name], { encoding: 'utf8' });
        } finally {
          if (name === '') rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }

  it.each([['gnu'], ['pax'], ['ustar']] as const)(
    'drops entries and their data from a %s tar, whatever the chunk size',
    (format) => {
      const tar = makeTar(format);
      const seen: string[] = [];
      for (const size of [1, 7, 511, 512, 513, 65536]) {
        seen.length = 0;
        const out = filter(
          tar,
          (e) => {
            seen.push(e.path);
            return !e.path.endsWith('drop.txt') && e.path !== './sub/b';
          },
          size,
        );
        const l = list(out);
        expect(l.names).not.toContain('./drop.txt');
        expect(l.names).not.toContain('./sub/b');
        expect(l.names).toContain('./keep.txt');
        expect(l.names).toContain('./sub/a');
        expect(l.read('./keep.txt')).toBe('kept\n');
        if (format !== 'ustar') {
          // Long names reach the filter whole (GNU 'L' or pax 'x'), and the kept entry keeps them.
          expect(seen).toContain(`./${long}`);
          expect(l.names).toContain(`./${long}`);
          expect(l.read(`./${long}`)).toBe('long\n');
          expect(seen).toContain(`./link-${'l'.repeat(120)}`);
        }
      }
    },
  );

  it('drops a long-named entry with its extended header', () => {
    for (const format of ['gnu', 'pax'] as const) {
      const out = filter(makeTar(format), (e) => e.path !== `./${long}` && !e.path.startsWith('./link-'), 4096);
      const l = list(out);
      expect(l.names.some((n) => n.includes('name-longer'))).toBe(false);
      expect(l.names.some((n) => n.includes('link-'))).toBe(false);
      expect(l.names).toContain('./keep.txt');
    }
  });

  it('passes a tar through unchanged when it keeps everything', () => {
    const tar = makeTar('pax');
    expect(filter(tar, () => true, 1000).equals(tar)).toBe(true);
  });

  it('reads a size from a pax header over the ustar field', () => {
    const pax = Buffer.from('15 size=000600\n');
    const data = Buffer.alloc(600, 0x61);
    // An 'x' header announcing size 600 for a file whose ustar size field says 0.
    const x = tarHeader('PaxHeaders/f', pax.length, 'x');
    const file = tarHeader('f', 0, '0');
    const tar = Buffer.concat([
      x,
      pax,
      Buffer.alloc(512 - pax.length),
      file,
      data,
      Buffer.alloc(1024 - 600),
      tarHeader('g2', 0, '0'),
      Buffer.alloc(1024),
    ]);
    const seen: TarEntry[] = [];
    const out = filter(
      tar,
      (e) => {
        seen.push(e);
        return e.path !== 'f';
      },
      100,
    );
    expect(seen.map((e) => [e.path, e.size])).toEqual([
      ['f', 600],
      ['g2', 0],
    ]);
    expect(out.length).toBe(512 + 1024);
  });

  it('leaves out the end-of-archive blocks with dropEnd, so two tars joined read as one', () => {
    const first = makeTar('pax');
    const second = tarFile('second.txt', Buffer.from('two\n'));
    const joined = (dropEnd: boolean) => {
      const out: Buffer[] = [];
      for (const tar of [first, second]) {
        const f = new TarFilter(() => true, { dropEnd });
        for (let at = 0; at < tar.length; at += 700) out.push(...f.push(tar.subarray(at, at + 700)));
        out.push(...f.end());
      }
      return Buffer.concat([...out, Buffer.alloc(1024)]);
    };
    // Without dropEnd, tar stops reading at the first archive's end and never sees the second.
    expect(list(joined(false)).names).not.toContain('second.txt');
    const l = list(joined(true));
    expect(l.names).toContain('second.txt');
    expect(l.names).toContain('./keep.txt');
    expect(l.read('second.txt')).toBe('two\n');
  });

  it('refuses what is not a tar, and a tar cut inside an entry', () => {
    expect(() => filter(Buffer.alloc(1024, 0x41), () => true, 512)).toThrow(TarFormatError);
    expect(() => filter(makeTar('ustar').subarray(0, 700), () => true, 512)).toThrow(TarFormatError);
  });
});

/** A ustar header block with a valid checksum. */
function tarHeader(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512, 0);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
