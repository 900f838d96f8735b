import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest } from '../helpers/app-fixture.js';
import { containersOf, fetchText } from '../helpers/docker.js';
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
  it('says only what it checked, and the next command, once the engine answers, serves the old one again', async ({
    task,
    onTestFinished,
  }) => {
    const report = fault(
      task,
      `exit ${EXIT_CODES.docker_unreachable}, saying whether v1 serves could not be checked; the next command removes v2's container and starts v1`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'deploy-proxy-'));
    const proxy = new Proxy(join(dir, 'docker.sock'));
    onTestFinished(async () => {
      await proxy.cut().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    });
    await proxy.start();
    const host = ['-H', `unix://${proxy.path}`];
    const f = await appForTest({ prefix: 'lost' });
    const v1 = await f.deploy(...host);
    // v2 answers only after a minute: whatever the machine's load, the cut lands while its gate waits (a gate passed
    // before the cut would switch over and exit 0, and nothing of what follows would be this fault).
    f.repo.commit('two, slow', { 'index.html': 'two\n', 'start.sh': 'sleep 60\nexec httpd -f -p 8080 -h /www\n' });
    const { done } = f.startBin([...host, 'deploy']);
    await f.waitForNewest((d) => d.version === 2 && d.events.includes('started'), 'v2 started');
    await proxy.cut();
    const r = await done;
    expect(r.code, r.stderr).toBe(EXIT_CODES.docker_unreachable);
    expect(r.stderr).not.toContain('is still serving');
    // Every way to the engine is gone (no socket to connect to, every open connection closed): the old container
    // cannot be looked at, so the tool says it could not check, never that v1 is or is not running.
    expect(r.stderr).toContain(`Whether v1 (${v1.id}) still serves could not be checked: the engine did not answer.`);
    expect(r.stderr).not.toContain('is not running');

    await proxy.start();
    const next = await f.cli(['ls', '--app', f.app, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/Recovered .*removed the container/);
    expect(await fetchText(f.port)).toBe('one');
    expect(containersOf(f.app).map((c) => c.state)).toEqual(['running']);
    const rows = next.json<PublicRecord[]>();
    expect(rows.map((d) => [d.version, d.status])).toEqual([
      [2, 'failed'],
      [1, 'running'],
    ]);
    report('exit 13, saying whether v1 serves could not be checked; the next command restored v1');
  });
});
