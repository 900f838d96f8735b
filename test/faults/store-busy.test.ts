import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { containersOf, fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';

describe('the store locked by another process when a new deployment turns healthy', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('busy');
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    repo.commit('one', webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }));
    expect((await cli(['deploy', '--json'], { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } })).code).toBe(0);
  });
  afterAll(() => {
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  it('records the switch once the store is free again (retried), never leaving it unrecorded', async ({ task }) => {
    const report = fault(task, 'the write waits out the lock and is retried: v2 recorded running and current; one container serves');
    // v2 starts slowly: the lock is taken while it starts, and held past the store's 10 s busy timeout.
    repo.commit('two', { 'index.html': 'two\n', 'start.sh': 'sleep 3\nexec httpd -f -p 8080 -h /www\n' });
    const child = spawn(process.execPath, [BIN, 'deploy', '--json'], { cwd: repo.dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, DEPLOY_HOME: home.dir, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    const db = new DatabaseSync(join(home.dir, 'deploy.db'), { timeout: 10_000 });
    // Bounded (60 s): the old one may take its whole stop timeout before v2 starts.
    let started = false;
    for (let i = 0; i < 1200 && !started; i++) {
      const row = db.prepare("SELECT COUNT(*) AS n FROM events e JOIN deployments d ON d.id = e.deployment_id WHERE d.app = ? AND d.version = 2 AND e.type = 'started'").get(app) as { n: number };
      started = row.n > 0;
      if (!started) await new Promise((r) => setTimeout(r, 50));
    }
    expect(started, 'v2 started').toBe(true);
    db.exec('BEGIN IMMEDIATE');
    // Held past the gate (about 3 s in) plus the 10 s busy timeout of the write that follows, so that write fails once.
    await new Promise((r) => setTimeout(r, 16_000));
    db.exec('COMMIT');
    db.close();
    const code = await done;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/stayed locked by another process .* Trying again/);
    const rows = (await cli(['ls', '--app', app, '--json'], { env: { DEPLOY_HOME: home.dir } })).json<PublicRecord[]>();
    expect(rows.map((d) => [d.version, d.status])).toEqual([
      [2, 'running'],
      [1, 'superseded'],
    ]);
    expect(await fetchText(port)).toBe('two');
    expect(containersOf(app)).toHaveLength(1);
    report('the write was retried after the lock went; v2 running and current, v1 retired');
  });
});
