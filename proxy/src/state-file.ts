// A server's state file (the door's routes, the relay's bindings): written atomically, read back with a check.
import { readFileSync, renameSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Write `text` to `file` as a temporary file in the same directory, flushed (fsync), then renamed over the old one:
 * a crash leaves the old file or the new one, never half of one.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

/**
 * Read a state file back: null when there is none. A file that is not JSON or that `check` refuses (it throws) is
 * moved aside (`FILE.unreadable-TIME`, for a person to look at) and null returned: the server starts empty and its
 * client sends the state again.
 */
export function readStateFile<T>(file: string, log: (line: string) => void, check: (parsed: unknown) => T): T | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return check(JSON.parse(text));
  } catch (err) {
    const aside = `${file}.unreadable-${Date.now()}`;
    renameSync(file, aside);
    log(`state file unreadable (${(err as Error).message}); moved to ${aside}`);
    return null;
  }
}
