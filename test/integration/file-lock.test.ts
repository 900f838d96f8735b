import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileLockTimeout, withFileLock } from '../../src/adapters/file-lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the lock file that keeps two deploys out of one cached clone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-file-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets one holder in at a time and removes the lock file afterwards', async () => {
    const path = join(dir, 'turns.lock');
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(path, 5_000, async () => {
        events.push(`${name} in`);
        await sleep(150);
        events.push(`${name} out`);
        return name;
      });
    const results = await Promise.all([holder('a'), holder('b')]);
    expect(results).toEqual(['a', 'b']);
    // No interleaving: each holder leaves before the other enters.
    expect(
      [events.slice(0, 2), events.slice(2)].every(([i, o]) => i?.endsWith(' in') && o === i.replace(' in', ' out')),
    ).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('releases the lock when the work fails', async () => {
    const path = join(dir, 'fails.lock');
    await expect(withFileLock(path, 1_000, () => Promise.reject(new Error('clone failed')))).rejects.toThrow(
      'clone failed',
    );
    expect(existsSync(path)).toBe(false);
  });

  it('gives up with FileLockTimeout when another process holds the lock too long', async () => {
    const path = join(dir, 'held.lock');
    writeFileSync(path, '999999');
    let ran = false;
    await expect(withFileLock(path, 300, async () => (ran = true))).rejects.toBeInstanceOf(FileLockTimeout);
    expect(ran).toBe(false);
    expect(existsSync(path), 'the other holder keeps its lock').toBe(true);
  });

  it('takes over a lock left by a process that died long ago', async () => {
    const path = join(dir, 'stale.lock');
    writeFileSync(path, '999999');
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    utimesSync(path, elevenMinutesAgo, elevenMinutesAgo);
    await expect(withFileLock(path, 2_000, async () => 'took over')).resolves.toBe('took over');
    expect(existsSync(path)).toBe(false);
  });
});
