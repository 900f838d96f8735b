import { spawn } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pidNamespace, pidNamespaceAlive } from '../../src/adapters/machine.js';

describe('PID namespaces on this machine (real /proc, a real unshare)', () => {
  it("finds this process's namespace alive, and a namespace that never existed gone", () => {
    const mine = pidNamespace();
    expect(mine).toMatch(/^pid:\[\d+\]$/);
    expect(pidNamespaceAlive(mine as string)).toBe(true);
    expect(pidNamespaceAlive('pid:[1]')).toBe(false);
  });

  it('sees a process in its own PID namespace (as a deploy in a container is) alive, and gone once it ends', async () => {
    // unshare --pid --fork: the child is PID 1 of a new namespace, as in a container.
    const child = spawn('unshare', ['--pid', '--fork', 'sleep', '30'], { stdio: 'ignore' });
    let ns: string | null = null;
    for (let i = 0; i < 50 && ns === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const { execFileSync } = await import('node:child_process');
      const pids = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      for (const p of pids) {
        const n = readlinkSync(`/proc/${p}/ns/pid`);
        if (n !== pidNamespace()) ns = n;
      }
    }
    expect(ns).not.toBeNull();
    expect(pidNamespaceAlive(ns as string)).toBe(true);
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    // Its PID 1 (sleep) dies with the unshare parent's kill only when the namespace's init goes: end it too.
    const { execFileSync } = await import('node:child_process');
    try {
      execFileSync('pkill', ['-KILL', '-f', '^sleep 30$']);
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && pidNamespaceAlive(ns as string); i++) await new Promise((r) => setTimeout(r, 50));
    expect(pidNamespaceAlive(ns as string)).toBe(false);
  });
});
