import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pidNamespace, pidNamespaceAlive } from '../../src/adapters/machine.js';
import { exited, run, start } from '../helpers/process.js';

describe('PID namespaces on this machine (real /proc, a real unshare)', () => {
  it("finds this process's namespace alive, and a namespace that never existed gone", () => {
    const mine = pidNamespace();
    expect(mine).toMatch(/^pid:\[\d+\]$/);
    expect(pidNamespaceAlive(mine as string)).toBe(true);
    expect(pidNamespaceAlive('pid:[1]')).toBe(false);
  });

  it('sees a process in its own PID namespace (as a deploy in a container is) alive, and gone once it ends', async () => {
    // unshare --pid --fork: the child is PID 1 of a new namespace, as in a container.
    const { child } = start('unshare', ['--pid', '--fork', 'sleep', '30'], { quiet: true });
    let ns: string | null = null;
    let init = 0;
    for (let i = 0; i < 50 && ns === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const pids = (await run('pgrep', ['-P', String(child.pid)])).stdout.trim().split('\n').filter(Boolean);
      for (const p of pids) {
        const n = readlinkSync(`/proc/${p}/ns/pid`);
        if (n !== pidNamespace()) {
          ns = n;
          init = Number(p);
        }
      }
    }
    expect(ns).not.toBeNull();
    expect(pidNamespaceAlive(ns as string)).toBe(true);
    child.kill('SIGKILL');
    await exited(child);
    // The namespace lives as long as its PID 1 (this sleep), which the unshare parent's kill leaves running: end
    // it by its own pid (never by name: other tests may sleep too).
    try {
      process.kill(init, 'SIGKILL');
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && pidNamespaceAlive(ns as string); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pidNamespaceAlive(ns as string)).toBe(false);
  });
});
