import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { containersOf, fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';

/**
 * A socket proxy in front of the real engine, cut and restored at will: the connection to a real engine lost (a
 * dropped ssh tunnel, a restarted proxy) while the engine itself goes on, which the engine cannot be made to do.
 */
class Proxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  constructor(readonly path: string) {}
  start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect('/var/run/docker.sock');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    return new Promise((resolve) => this.server?.listen(this.path, resolve));
  }
  cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server?.close(() => resolve()));
  }
}

describe('the connection to the engine lost in the health wait of a stop-first switch', () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'deploy-proxy-'));
  const proxy = new Proxy(join(dir, 'docker.sock'));
  const repo = new TempRepo();
  const app = testApp('lost');
  let port = 0;
  const env = { DEPLOY_HOME: home.dir };

  beforeAll(async () => {
    await proxy.start();
    port = await freePort();
    repo.commit('one', webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }));
    const r = await cli(['-H', `unix://${proxy.path}`, 'deploy', '--json'], { cwd: repo.dir, env });
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await proxy.cut().catch(() => undefined);
    removeApps([app]);
    rmSync(dir, { recursive: true, force: true });
    repo.remove();
    home.remove();
  });

  it('says only what it checked, and the next command, once the engine answers, serves the old one again', async ({ task }) => {
    const report = fault(task, `exit ${EXIT_CODES.docker_unreachable} without claiming v1 serves; the next command removes v2's container and starts v1`);
    repo.commit('two, slow', { 'index.html': 'two\n', 'start.sh': 'sleep 4\nexec httpd -f -p 8080 -h /www\n' });
    const child = spawn(process.execPath, [BIN, '-H', `unix://${proxy.path}`, 'deploy'], { cwd: repo.dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<number | null>((r) => child.on('close', r));
    let started = false;
    for (let i = 0; i < 600 && !started; i++) {
      const db = new DatabaseSync(join(home.dir, 'deploy.db'), { readOnly: true });
      started = (db.prepare("SELECT COUNT(*) AS n FROM events e JOIN deployments d ON d.id = e.deployment_id WHERE d.app = ? AND d.version = 2 AND e.type = 'started'").get(app) as { n: number }).n > 0;
      db.close();
      if (!started) await new Promise((r) => setTimeout(r, 50));
    }
    expect(started).toBe(true);
    await proxy.cut();
    expect(await done, stderr).toBe(EXIT_CODES.docker_unreachable);
    expect(stderr).not.toContain('is still serving');
    expect(stderr).toMatch(/could not be checked|is not running/);

    await proxy.start();
    const next = await cli(['ls', '--app', app, '--json'], { env });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/Recovered .*removed the container/);
    expect(await fetchText(port)).toBe('one');
    expect(containersOf(app).map((c) => c.state)).toEqual(['running']);
    const rows = next.json<PublicRecord[]>();
    expect(rows.map((d) => [d.version, d.status])).toEqual([
      [2, 'failed'],
      [1, 'running'],
    ]);
    report(`exit 13 (${stderr.includes('could not be checked') ? 'said it could not check v1' : 'said v1 is not running'}); the next command restored v1`);
  });
});
