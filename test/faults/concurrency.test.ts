import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import type { Stats } from '../../src/core/stats.js';
import { STATUSES } from '../../src/core/types.js';
import { runBin } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { appForSuite } from '../helpers/workspace.js';
import { fault } from './fault.js';

describe('concurrent use of one store', () => {
  const home = tempHome();
  const apps = Array.from({ length: 10 }, () => testApp('ten'));
  const repos: TempRepo[] = [];
  const ports: number[] = [];
  const env = { DEPLOY_HOME: home.dir };

  beforeAll(async () => {
    for (const app of apps) {
      const port = await freePort();
      ports.push(port);
      const repo = new TempRepo();
      repo.commit(
        'first',
        webApp(app, {
          deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/', timeout: '120s' } },
        }),
      );
      repos.push(repo);
    }
  });
  afterAll(() => {
    removeApps(apps);
    repos.forEach((r) => r.remove());
    home.remove();
  });

  it('ten processes deploy ten apps at once, all succeed; ls and stats read meanwhile without an error or a torn read', async ({
    task,
  }) => {
    const report = fault(task, '10 of 10 deploys succeed; every concurrent ls/stats exits 0 with whole, valid records');
    const deploys = repos.map((repo) => runBin(['deploy', '--json'], { cwd: repo.dir, env }));
    let reads = 0;
    let finished = false;
    // Records are only ever added: each read sees at least as many as the one before, and never more than ten.
    let seen = 0;
    const reader = (async () => {
      // Bounded: at most 400 reads, and only while the deploys run.
      while (!finished && reads < 400) {
        const [ls, stats] = await Promise.all([cli(['ls', '--json'], { env }), cli(['stats', '--json'], { env })]);
        expect(ls.code, ls.stderr).toBe(0);
        expect(stats.code, stats.stderr).toBe(0);
        for (const d of ls.json<PublicRecord[]>()) {
          expect(STATUSES).toContain(d.status);
          expect(d.config.healthCheck.timeoutMs).toBe(120_000);
        }
        const { total } = stats.json<Stats>();
        expect(total).toBeGreaterThanOrEqual(seen);
        expect(total).toBeLessThanOrEqual(apps.length);
        seen = total;
        reads++;
      }
    })();
    const results = await Promise.all(deploys);
    finished = true;
    await reader;
    const failed = results.filter((r) => r.code !== 0).map((r) => `exit ${r.code}: ${r.stderr}`);
    expect(
      results.map((r) => r.code),
      failed.join('\n'),
    ).toEqual(apps.map(() => 0));
    for (const [i, app] of apps.entries()) expect(await fetchText(ports[i] as number)).toBe(app);
    const all = (await cli(['ls', '--json'], { env })).json<PublicRecord[]>();
    expect(all.map((d) => d.status)).toEqual(apps.map(() => 'running'));
    expect((await cli(['stats', '--json'], { env })).json<Stats>()).toMatchObject({ total: apps.length, failed: 0 });
    expect(reads).toBeGreaterThan(2);
    report(`10 of 10 deployed; ${reads} concurrent ls+stats reads, all clean`);
  });

  it('two processes deploy the same app at once: one proceeds, the other fails with the lock code', async ({
    task,
  }) => {
    const report = fault(task, `one exits 0, the other ${EXIT_CODES.lock_held} naming the holder`);
    const repo = repos[0] as TempRepo;
    repo.commit('second', { 'index.html': 'second\n' });
    const [a, b] = await Promise.all([
      runBin(['deploy', '--json'], { cwd: repo.dir, env }),
      runBin(['deploy', '--json'], { cwd: repo.dir, env }),
    ]);
    expect([a.code, b.code].sort((x, y) => x - y)).toEqual([0, EXIT_CODES.lock_held]);
    expect((a.code === 0 ? b : a).stderr).toContain('is locked on');
    report(`exit codes ${a.code} and ${b.code}`);
  });
});

describe('commands that change an app while a slow switch-over of it runs', () => {
  const w = appForSuite('slow', { env: { CI: 'true' }, commit: { body: 'first' } });
  const { repo, app, env } = w;

  beforeAll(async () => {
    expect((await runBin(['deploy', '--json'], { cwd: repo.dir, env })).code).toBe(0);
  });

  it('each exits 14 naming the holder (or waits with --lock-wait), and the store then matches the engine', async ({
    task,
  }) => {
    const report = fault(
      task,
      `rollback, redeploy, stop, start, restart exit ${EXIT_CODES.lock_held}; lock release refuses without --force; ls/inspect record nothing; afterwards one running, the old superseded`,
    );
    // v2 starts slowly, and the old busybox httpd (PID 1) ignores SIGTERM, so the stop-first switch takes seconds.
    repo.commit('second', { 'index.html': 'second\n', 'start.sh': 'sleep 3\nexec httpd -f -p 8080 -h /www\n' });
    const deploying = runBin(['deploy', '--json'], { cwd: repo.dir, env });
    const lockName = `deploy-lock.${app}`;
    // The others start only once the deploy holds the lock (bounded: 10 s), so that each of them meets it.
    let locked = false;
    for (let i = 0; i < 100 && !locked; i++) {
      locked =
        execFileSync('docker', ['ps', '-aq', '--filter', `name=^${lockName}$`], { encoding: 'utf8' }).trim() !== '';
      if (!locked) await new Promise((r) => setTimeout(r, 100));
    }
    expect(locked, 'the deploy took the lock').toBe(true);
    const others = await Promise.all(
      [
        ['rollback', app],
        ['redeploy', app],
        ['stop', app],
        ['start', app],
        ['restart', app],
      ].map((argv) => runBin([...argv, '--yes', '--json'], { cwd: repo.dir, env })),
    );
    const reads = await Promise.all([
      cli(['ls', '--app', app, '--json'], { env }),
      cli(['inspect', app, '--json'], { env }),
    ]);
    // Its holder is alive on this machine: the lock is not released from under it without --force.
    const release = await runBin(['lock', 'release', app, '--yes'], { cwd: repo.dir, env });
    expect(release.code, release.stderr).toBe(EXIT_CODES.lock_held);
    expect(release.stderr).toContain(`deploy lock release ${app} --force`);
    const waited = runBin(['stop', app, '--yes', '--json', '--lock-wait', '2m'], { cwd: repo.dir, env });
    const deployed = await deploying;
    expect(deployed.code, deployed.stderr).toBe(0);
    for (const r of others) {
      expect(r.code, r.stderr).toBe(EXIT_CODES.lock_held);
      expect(r.stderr).toMatch(/is locked on .* by .*deploy of/);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'lock_held', exitCode: EXIT_CODES.lock_held } });
    }
    for (const r of reads) expect(r.code, r.stderr).toBe(0);
    // The waiting stop ran after the deploy, on what the deploy left: v2.
    const stopped = await waited;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ version: 2, status: 'stopped' });
    const all = (await cli(['ls', '--app', app, '--json'], { env })).json<PublicRecord[]>();
    expect(all.map((d) => [d.version, d.status])).toEqual([
      [2, 'stopped'],
      [1, 'superseded'],
    ]);
    expect(await fetchText(w.port)).toBeNull();
    report(
      `5 of 5 exited ${EXIT_CODES.lock_held}; the --lock-wait stop acted on v2 after the deploy; store: v2 stopped, v1 superseded`,
    );
  });
});
