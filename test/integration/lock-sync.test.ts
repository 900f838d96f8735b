import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { runBin } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, holdLock } from '../helpers/docker.js';
import { appForSuite } from '../helpers/workspace.js';

/** The app serves its index and its SECRET_TOKEN, so a test can see which release runs with which secret. */
const START = 'echo "$SECRET_TOKEN" > /www/token.txt\nexec httpd -f -p 8080 -h /www\n';

describe('two machines (two stores) and one engine: the lock, and sync', () => {
  // Machine A deploys from the app's workspace (its home, the app's repository); machine B has a home of its own.
  const w = appForSuite('two', { commit: { start: START } });
  const { repo, app, run: a, home: machineA } = w;
  const machineB = tempHome();
  afterAll(() => machineB.remove());

  it('lets exactly one of two simultaneous deploys of an app proceed; the other fails with the lock code and names the holder', async () => {
    const [ra, rb] = await Promise.all([
      runBin(['deploy', '--json'], { cwd: repo.dir, env: { DEPLOY_HOME: machineA.dir } }),
      runBin(['deploy', '--json'], { cwd: repo.dir, env: { DEPLOY_HOME: machineB.dir } }),
    ]);
    const codes = [ra.code, rb.code].sort();
    expect(codes).toEqual([0, EXIT_CODES.lock_held]);
    const loser = ra.code === 0 ? rb : ra;
    expect(loser.stderr).toMatch(
      new RegExp(
        `${app} is locked on unix:///var/run/docker.sock by .*@.* \\(pid \\d+\\), deploy of main@[0-9a-f]{7}, started`,
      ),
    );
    expect(loser.stderr).toContain('--lock-wait');
    expect(await fetchText(w.port)).toBe('one');
  });

  it('with --lock-wait, the second deploy waits for the first and then proceeds', async () => {
    repo.commit('two', { 'index.html': 'two\n' });
    const [ra, rb] = await Promise.all([
      runBin(['deploy', '--json', '--lock-wait', '2m'], { cwd: repo.dir, env: { DEPLOY_HOME: machineA.dir } }),
      runBin(['deploy', '--json', '--lock-wait', '2m'], { cwd: repo.dir, env: { DEPLOY_HOME: machineB.dir } }),
    ]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    const versions = [JSON.parse(ra.stdout) as PublicRecord, JSON.parse(rb.stdout) as PublicRecord]
      .map((d) => d.version)
      .sort();
    // One sequence of versions across both machines: the engine's labels carry them.
    expect(versions[1]).toBe((versions[0] as number) + 1);
    expect(ra.stderr + rb.stderr).toContain('Waiting for the lock');
    expect(await fetchText(w.port)).toBe('two');
  });

  it('takes over a lock whose holder is gone, and says so', async () => {
    // A holder on this machine whose process no longer exists.
    holdLock(app, { who: 'ghost@here', pid: 999_999, since: Date.now() - 60_000, purpose: 'deploy of main@dead000' });
    const status = await a('lock', 'status', app, '--json');
    expect(status.json()).toMatchObject({ app, held: true, holder: { who: 'ghost@here', pid: 999_999 } });
    const r = await a('restart', app, '--yes');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Took over the lock of');
    expect(r.stderr).toContain('its process 999999 on this machine is gone');
    expect((await a('lock', 'status', app, '--json')).json()).toMatchObject({ held: false });
  });

  it('releases a stuck lock on request, asking first', async () => {
    execFileSync('docker', [
      'create',
      '--name',
      `deploy-lock.${app}`,
      '--label',
      `dev.deploy.lock=${app}`,
      '--label',
      `dev.deploy.lock-holder={"who":"stuck@elsewhere","host":"elsewhere","machine":"other","pid":1,"since":${Date.now()},"purpose":"deploy"}`,
      'deploy-lock:1',
      '/lock',
    ]);
    const refused = await a('lock', 'release', app);
    expect(refused.code).toBe(EXIT_CODES.confirmation_required);
    const held = await a('deploy', '--json');
    expect(held.code).toBe(EXIT_CODES.lock_held);
    expect((await a('lock', 'release', app, '--yes')).code).toBe(0);
    expect((await a('lock', 'status', app, '--json')).json()).toMatchObject({ held: false });
  });

  it('a machine with an empty store syncs, then rolls back a deployment the other one made', async () => {
    expect((await a('config', 'set', 'SECRET_TOKEN=token-of-a', '--secret', '--app', app)).code).toBe(0);
    repo.commit('three', { 'index.html': 'three\n' });
    const three = (await a('deploy', '--json')).json<PublicRecord>();
    expect(await fetchText(w.port, '/token.txt')).toBe('token-of-a');
    repo.commit('four', { 'index.html': 'four\n' });
    const four = (await a('deploy', '--json')).json<PublicRecord>();
    expect(four.status).toBe('running');

    const fresh = tempHome();
    const c = (...args: string[]) => cli(args, { env: { DEPLOY_HOME: fresh.dir } });
    try {
      // Before the sync, this store knows nothing, and says how to learn what the engine runs.
      const empty = await c('ls', '--app', app);
      expect(empty.code).toBe(0);
      expect(empty.stderr).toContain(
        `No deployments match in this store. Deployments made elsewhere show after: deploy sync --app ${app}`,
      );
      const sync = await c('sync', '--app', app, '--json');
      expect(sync.code).toBe(0);
      const report = sync.json<{
        added: Array<{ id: string; status: string; from: string }>;
        current: Record<string, string>;
      }>();
      expect(report.current[app]).toBe(four.id);
      expect(report.added).toEqual(
        expect.arrayContaining([
          { id: four.id, app, version: four.version, status: 'running', from: 'container' },
          { id: three.id, app, version: three.version, status: 'superseded', from: 'image' },
        ]),
      );
      const listed = (await c('ls', '--app', app, '--json')).json<PublicRecord[]>();
      expect(listed[0]).toMatchObject({ id: four.id, status: 'running', commitSubject: 'four' });
      // The secret never left the engine through a label: the synced record masks it like any other.
      expect(listed.find((d) => d.id === three.id)?.config.secrets).toEqual(['SECRET_TOKEN']);
      // Rebuilt from its image, three served but how long its deploy took is not known: no made-up 0ms.
      const table = (await c('ls', '--app', app)).stdout.split('\n');
      expect(table.find((l) => l.startsWith(three.id))).toMatch(/ - +local +deploy$/);
      expect(table.find((l) => l.startsWith(four.id))).toMatch(/ \d+(ms|\.\d+s|s) +local +deploy$/);

      const rollback = await c('rollback', app, '--yes', '--json');
      expect(rollback.code).toBe(0);
      expect(rollback.json<PublicRecord>()).toMatchObject({
        kind: 'rollback',
        parentId: three.id,
        commit: three.commit,
        version: four.version + 1,
      });
      expect(await fetchText(w.port)).toBe('three');
      // The secret value came from the live container on the engine.
      expect(await fetchText(w.port, '/token.txt')).toBe('token-of-a');
    } finally {
      fresh.remove();
    }

    // Machine A learns of the rollback made elsewhere, and corrects what it believed was running.
    const back = await a('sync', '--app', app, '--json');
    expect(back.json<{ corrected: Array<{ id: string; to: string }> }>().corrected).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: four.id, to: 'superseded' })]),
    );
    expect((await a('ls', '--app', app, '--limit', '1', '--json')).json<PublicRecord[]>()[0]).toMatchObject({
      kind: 'rollback',
      status: 'running',
    });
  });
});
