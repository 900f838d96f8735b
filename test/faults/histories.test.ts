import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, imageExists, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';

describe('histories that never lie across stores', () => {
  const home = tempHome();
  const fresh = tempHome();
  const repo = new TempRepo();
  const app = testApp('hist');
  let port = 0;
  let pin: string | null = null;

  beforeAll(async () => {
    port = await freePort();
    repo.commit('one', webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/', timeout: '20s' } } }));
    expect((await cli(['deploy', '--json'], { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } })).code).toBe(0);
  });
  afterAll(() => {
    if (pin) execFileSync('docker', ['rm', '-f', pin]);
    removeApps([app]);
    repo.remove();
    home.remove();
    fresh.remove();
  });

  it("an image left by a deploy that failed is not read by another store's sync as a release that served", async ({ task }) => {
    const report = fault(task, 'the fresh store records v2 failed (never served); v1 stays current; rollback finds nothing older to go to');
    repo.commit('broken', { 'start.sh': 'sleep 2\nexit 3\n' });
    const child = spawn(process.execPath, [BIN, 'deploy', '--json'], { cwd: repo.dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, DEPLOY_HOME: home.dir, CI: 'true' }, stdio: 'ignore' });
    const done = new Promise<number | null>((r) => child.on('close', r));
    // While v2 waits for its gate, something else holds its image (a stand-in for whatever makes its removal fail,
    // a full disk among them): a container made from it, without our labels.
    let image: string | null = null;
    for (let i = 0; i < 600 && !image; i++) {
      const db = new DatabaseSync(join(home.dir, 'deploy.db'), { readOnly: true });
      const row = db.prepare("SELECT image FROM deployments WHERE app = ? AND version = 2 AND status = 'starting'").get(app) as { image: string } | undefined;
      db.close();
      image = row?.image ?? null;
      if (!image) await new Promise((r) => setTimeout(r, 50));
    }
    expect(image).not.toBeNull();
    pin = execFileSync('docker', ['create', '--label', 'dev.deploy.record=', '--label', 'dev.deploy.app=', '--label', 'dev.deploy.id=', image as string, 'true'], { encoding: 'utf8' }).trim();
    expect(await done).toBe(EXIT_CODES.health_failed);
    expect(imageExists(image as string)).toBe(true);

    const env = { DEPLOY_HOME: fresh.dir };
    expect((await cli(['sync', '--all'], { env })).code).toBe(0);
    const rows = (await cli(['ls', '--app', app, '--json'], { env })).json<PublicRecord[]>();
    expect(rows.map((d) => [d.version, d.status])).toEqual([
      [2, 'failed'],
      [1, 'running'],
    ]);
    expect(rows[0]?.readyAt).toBeNull();
    const rollback = await cli(['rollback', app, '--yes', '--json'], { env });
    expect(rollback.code).toBe(EXIT_CODES.not_found);
    expect(await fetchText(port)).toBe('one');
    report('v2 imported failed (its image without a served mark in v1 label history); rollback exit 3; v1 serves');
  });
});
