import { closeSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';

/** Another process held the lock for longer than the caller would wait. */
export class FileLockTimeout extends Error {}

/** A lock older than this is left by a process that died: it is taken over. */
const STALE_MS = 10 * 60_000;

/**
 * Runs work while holding an exclusive lock file (created with O_EXCL), so that two processes do not clone or
 * fetch into the same cached repository at once. Waits, bounded by timeoutMs, for another holder.
 */
export async function withFileLock<T>(path: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(path).mtimeMs > STALE_MS) unlinkSync(path);
      } catch {
        // gone meanwhile: try again
      }
      if (Date.now() > deadline) throw new FileLockTimeout(`${path} is held by another process`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}
