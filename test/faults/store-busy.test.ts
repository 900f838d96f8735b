import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest } from '../helpers/app-fixture.js';
import { containersOf, fetchText } from '../helpers/docker.js';
import { storePath } from '../helpers/store.js';
import { fault } from './fault.js';

describe('the store locked by another process when a new deployment turns healthy', () => {
  it('records the switch once the store is free again (retried), never leaving it unrecorded', async ({ task }) => {
    const report = fault(
      task,
      'the write waits out the lock and is retried: v2 recorded running and current; one container serves',
    );
    const f = await appForTest({ prefix: 'busy' });
    await f.deploy();
    // v2 starts slowly: the lock is taken while it starts, and held past the store's 10 s busy timeout.
    f.repo.commit('two', { 'index.html': 'two\n', 'start.sh': 'sleep 3\nexec httpd -f -p 8080 -h /www\n' });
    const { done } = f.startBin(['deploy', '--json'], { timeoutMs: 120_000 });
    // Bounded (60 s): the old one may take its whole stop timeout before v2 starts.
    await f.waitForNewest((d) => d.version === 2 && d.events.includes('started'), 'v2 started', 60_000);
    // Raw SQL on purpose: another process's write transaction is what holds the store busy.
    const db = new DatabaseSync(storePath(f.home.dir), { timeout: 10_000 });
    db.exec('BEGIN IMMEDIATE');
    // Held past the gate (about 3 s in) plus the 10 s busy timeout of the write that follows, so that write fails once.
    await new Promise((r) => setTimeout(r, 16_000));
    db.exec('COMMIT');
    db.close();
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stayed locked by another process .* Trying again/);
    const rows = (await f.cli(['ls', '--app', f.app, '--json'])).json<PublicRecord[]>();
    expect(rows.map((d) => [d.version, d.status])).toEqual([
      [2, 'running'],
      [1, 'superseded'],
    ]);
    expect(await fetchText(f.port)).toBe('two');
    expect(containersOf(f.app)).toHaveLength(1);
    report('the write was retried after the lock went; v2 running and current, v1 retired');
  });
});
