import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipe, runAllowFailure, stream, run, ProcessError } from '../../src/adapters/process.js';

// The process gateway with real programs: `sh` that starts a real `sleep` of its own, as git starts helpers.
// Each script writes its own pid and its sleep's pid to files, so the test can see that both are gone.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-process-'));
});
afterEach(() => {
  for (const name of ['sh.pid', 'sleep.pid']) {
    const pid = readPid(name);
    if (pid !== null && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A shell that records its pid, starts `sleep 60` in the background, records that pid, and waits. */
function script(): string[] {
  return [
    '-c',
    `echo $$ > ${dir}/sh.pid.tmp && mv ${dir}/sh.pid.tmp ${dir}/sh.pid; sleep 60 & echo $! > ${dir}/sleep.pid.tmp && mv ${dir}/sleep.pid.tmp ${dir}/sleep.pid; wait`,
  ];
}

function readPid(name: string): number | null {
  const file = join(dir, name);
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : null;
}

/** Running, as opposed to gone or a zombie waiting for a parent (in a container, pid 1 may never reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function pidsOnceStarted(): Promise<{ sh: number; sleep: number }> {
  for (let i = 0; i < 200; i++) {
    const sh = readPid('sh.pid');
    const sleep = readPid('sleep.pid');
    if (sh !== null && sleep !== null) return { sh, sleep };
    await delay(10);
  }
  throw new Error('the script did not start');
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (!alive(pid)) return true;
    await delay(10);
  }
  return false;
}

describe('the process gateway ends its children', () => {
  it('on abort: run() returns, and the program and the sleep it started are gone', async () => {
    const controller = new AbortController();
    const result = runAllowFailure('sh', script(), { signal: controller.signal });
    const { sh, sleep } = await pidsOnceStarted();
    expect(alive(sh) && alive(sleep)).toBe(true);
    const started = Date.now();
    controller.abort();
    const r = await result;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).not.toBe(0);
    expect(await gone(sh)).toBe(true);
    expect(await gone(sleep)).toBe(true);
  });

  it('on abort: run() rejects with a ProcessError', async () => {
    const controller = new AbortController();
    const result = run('sh', script(), { signal: controller.signal });
    const { sleep } = await pidsOnceStarted();
    controller.abort();
    await expect(result).rejects.toBeInstanceOf(ProcessError);
    expect(await gone(sleep)).toBe(true);
  });

  it('given a signal already aborted: the program is ended at once', async () => {
    const controller = new AbortController();
    controller.abort();
    const started = Date.now();
    const r = await runAllowFailure('sleep', ['60'], { signal: controller.signal });
    expect(r.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('on timeout: the program and its sleep are gone', async () => {
    const result = runAllowFailure('sh', script(), { timeoutMs: 300 });
    const { sh, sleep } = await pidsOnceStarted();
    expect((await result).code).not.toBe(0);
    expect(await gone(sh)).toBe(true);
    expect(await gone(sleep)).toBe(true);
  });

  it('on abort of a stream: done rejects, and the program and its sleep are gone', async () => {
    const controller = new AbortController();
    const s = stream('sh', script(), { signal: controller.signal });
    s.stdout.resume();
    const { sh, sleep } = await pidsOnceStarted();
    controller.abort();
    await expect(s.done).rejects.toBeInstanceOf(ProcessError);
    expect(await gone(sh)).toBe(true);
    expect(await gone(sleep)).toBe(true);
  });

  it('on kill() of a stream or a pipe: the program and its sleep are gone', async () => {
    const s = stream('sh', script());
    s.stdout.resume();
    let pids = await pidsOnceStarted();
    s.kill();
    await expect(s.done).rejects.toBeInstanceOf(ProcessError);
    expect(await gone(pids.sh)).toBe(true);
    expect(await gone(pids.sleep)).toBe(true);

    rmSync(join(dir, 'sh.pid'));
    rmSync(join(dir, 'sleep.pid'));
    const p = pipe('sh', script());
    const closed = new Promise((resolve) => p.child.on('close', resolve));
    pids = await pidsOnceStarted();
    p.kill();
    await closed;
    expect(await gone(pids.sh)).toBe(true);
    expect(await gone(pids.sleep)).toBe(true);
  });

  it('a program that ends by itself is left alone, its output returned', async () => {
    const controller = new AbortController();
    const r = await runAllowFailure('sh', ['-c', 'read line; echo "got $line"; echo oops >&2; exit 3'], {
      input: 'hello\n',
      signal: controller.signal,
    });
    expect(r).toEqual({ stdout: 'got hello\n', stderr: 'oops\n', code: 3 });
    controller.abort(); // after the exit: nothing to end, nothing thrown
  });
});
