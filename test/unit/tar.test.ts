import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstTarFile, tarFile } from '../../src/core/tar.js';

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
      expect(execFileSync('tar', ['-tvf', join(dir, 'x.tar')], { encoding: 'utf8' })).toMatch(/-rw-r--r-- .* 12 2026-01-01 \d\d:\d\d lock/);
      execFileSync('tar', ['-xf', join(dir, 'x.tar'), '-C', dir]);
      expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe('deploy lock\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds nothing in a buffer too short to be a tar', () => {
    expect(firstTarFile(Buffer.alloc(10))).toBeNull();
  });
});
