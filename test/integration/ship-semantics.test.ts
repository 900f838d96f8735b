import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome } from '../helpers/cli.js';
import { containersOf, fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { appForSuite, appWorkspace, commitWebApp } from '../helpers/workspace.js';

/** The app serves its env: GREETING and the length of SECRET_TOKEN, so a test sees what reached the container. */
const START = [
  'echo "$GREETING" > /www/greeting.txt',
  'echo "${#SECRET_TOKEN}" > /www/token-length.txt',
  'exec httpd -f -p 8080 -h /www',
  '',
].join('\n');
const SECRET = 'one-off-s3cret-value-71';

describe('redeploy ships the deployment with its own settings and the current env', () => {
  const w = appWorkspace('ship', { SECRET_TOKEN: SECRET });
  const { repo, app, run } = w;
  let jsonPort = 0;
  let flagPort = 0;
  let v1: PublicRecord;

  beforeAll(async () => {
    [jsonPort, flagPort] = [await freePort(), await freePort()];
    repo.commit(
      'one',
      webApp('one', {
        start: START,
        deployJson: {
          app,
          ports: [`127.0.0.1:${jsonPort}:8080`],
          env: { GREETING: 'from-json' },
          healthCheck: { path: '/' },
        },
      }),
    );
    const r = await run(
      'deploy',
      '--port',
      `127.0.0.1:${flagPort}:8080`,
      '--env',
      'GREETING=from-flag',
      '--secret',
      'SECRET_TOKEN',
      '--json',
      '--yes',
    );
    expect(r.code, r.stderr).toBe(0);
    v1 = r.json<PublicRecord>();
  });
  afterAll(() => w.remove());

  it('serves on the port, with the env and secret, that the deployment was given on its command line', async () => {
    const r = await run('redeploy', v1.id, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const v2 = r.json<PublicRecord>();
    expect(v2.config.ports).toEqual([`127.0.0.1:${flagPort}:8080`]);
    expect(v2.config.env).toEqual({ GREETING: 'from-flag', SECRET_TOKEN: '********' });
    expect(await fetchText(flagPort, '/greeting.txt')).toBe('from-flag');
    expect(await fetchText(flagPort, '/token-length.txt')).toBe(String(SECRET.length));
    // Nothing moved to deploy.json's port.
    expect(await fetchText(jsonPort)).toBeNull();
  });

  it("takes the app's current env (config set) over the old values, and one-off flags for this redeploy only", async () => {
    expect((await run('config', 'set', 'GREETING=from-config', '--app', app)).code).toBe(0);
    // The app's stored value is weaker than the deployment's own --env: v1 keeps from-flag; a one-off flag wins over both.
    const r = await run('redeploy', '--app', app, '-e', 'GREETING=one-off', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<PublicRecord>().config.env.GREETING).toBe('one-off');
    expect(await fetchText(flagPort, '/greeting.txt')).toBe('one-off');
  });

  it('shows, before asking, the commit range, the configuration diff against what serves and the one health check that applies', async () => {
    repo.commit('two', { 'index.html': 'two\n' });
    const r = await run('redeploy', v1.id, '--dry-run', '--port', `127.0.0.1:${jsonPort}:8080`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`serving\\s+v3 \\(\\w+, running\\)`));
    expect(r.stdout).toContain(`${v1.commit.slice(0, 7)}, the commit serving now`);
    expect(r.stdout).toMatch(/changes\s+against v3, serving now:/);
    expect(r.stdout).toContain(`ports: 127.0.0.1:${flagPort}:8080 → 127.0.0.1:${jsonPort}:8080`);
    expect(r.stdout).toContain(`GET http://127.0.0.1:${jsonPort}/ must answer 2xx/3xx within`);
    expect(r.stdout).not.toMatch(/if it has one/);
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    const ls = (await run('ls', '--app', app, '--json')).json<PublicRecord[]>();
    expect(ls).toHaveLength(3);
  });

  it('deploy --dry-run shows the plan under the lock, with the commits ahead, and builds nothing', async () => {
    const r = await run('deploy', '--dry-run', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json<{
      dryRun: boolean;
      plan: { action: string; commitRange: string; gate: { mode: string }; current: { version: number } };
    }>();
    expect(doc.dryRun).toBe(true);
    expect(doc.plan).toMatchObject({ action: 'deploy', current: { version: 3 }, gate: { mode: 'http' } });
    expect(doc.plan.commitRange).toMatch(/→ \w{7}, 1 commit ahead$/);
    expect((await run('ls', '--app', app, '--json')).json<PublicRecord[]>()).toHaveLength(3);
  });
});

describe('rollback picks a known-good release, the same one when run again', () => {
  const w = appForSuite('rb');
  const { repo, app, run } = w;
  // A second machine's store, which knows the app only from what sync finds on the engine.
  const fresh = tempHome();
  const records: PublicRecord[] = [];

  beforeAll(async () => {
    for (const body of ['good-one', 'good-two', 'bad-three']) {
      commitWebApp(repo, app, w.port, { body });
      const r = await run('deploy', '--json');
      expect(r.code, r.stderr).toBe(0);
      records.push(r.json<PublicRecord>());
    }
  });
  afterAll(() => fresh.remove());

  it('goes back to the newest good release, and a second run finds it running and changes nothing', async () => {
    const first = await run('rollback', app, '--yes', '--json');
    expect(first.code, first.stderr).toBe(0);
    const v4 = first.json<PublicRecord>();
    expect(v4).toMatchObject({ kind: 'rollback', parentId: records[1]?.id, status: 'running' });
    expect(await fetchText(w.port)).toBe('good-two');

    const second = await run('rollback', app, '--yes', '--json');
    expect(second.code, second.stderr).toBe(0);
    expect(second.json<PublicRecord>().id).toBe(v4.id);
    expect(second.stderr).toContain('already running');
    expect(await fetchText(w.port)).toBe('good-two');
    const ls = await run('ls', '--app', app, '--json');
    expect(ls.json<PublicRecord[]>()).toHaveLength(4);
  });

  it('--to a release that was rolled back from is allowed, and says so first', async () => {
    const r = await run('rollback', app, '--to', records[2]?.id as string, '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`v3 was rolled back from before (by v4`);
  });

  it('from a fresh store after sync, picks the same release (nothing to do)', async () => {
    const env = { DEPLOY_HOME: fresh.dir };
    expect((await cli(['sync', '--all'], { cwd: repo.dir, env })).code).toBe(0);
    const r = await cli(['rollback', app, '--yes', '--json'], { cwd: repo.dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('already running');
    expect(await fetchText(w.port)).toBe('good-two');
  });
});

describe('rollback from a redeploy of the only release', () => {
  const w = appForSuite('rs');
  const { repo, app, run } = w;

  it('refuses (not found), naming the older record as the release that runs now', async () => {
    commitWebApp(repo, app, w.port, { body: 'only' });
    const v1 = await run('deploy', '--json');
    expect(v1.code, v1.stderr).toBe(0);
    const again = await run('redeploy', v1.json<PublicRecord>().id, '--yes', '--json');
    expect(again.code, again.stderr).toBe(0);
    const r = await run('rollback', app, '--yes');
    expect(r.code).toBe(EXIT_CODES.not_found);
    expect(r.stderr).toContain(
      `${app} has no known-good releases older than v2 to roll back to (v1 is what runs now: the same image and settings).`,
    );
    expect(await fetchText(w.port)).toBe('only');
  });
});

describe('the CI contract on every mutating command', () => {
  const w = appForSuite('ci', { commit: {} });
  const { repo, app, run } = w;

  beforeAll(async () => {
    expect((await run('deploy', '--json')).code).toBe(0);
    repo.commit('two', { 'index.html': 'two\n' });
  });

  it('accepts --yes --json everywhere and prints one JSON document each time', async () => {
    const commands: string[][] = [
      ['deploy'],
      ['redeploy', app],
      ['stop', app],
      ['start', app],
      ['restart', '--app', app],
      ['rollback', app],
      ['lock', 'release', app],
      ['prune', '--app', app],
      ['config', 'set', 'CI_FLAG=1', '--app', app],
      ['config', 'unset', 'CI_FLAG', '--app', app],
      ['sync'],
    ];
    for (const argv of commands) {
      const r = await run(...argv, '--yes', '--json');
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
      expect(() => r.json(), argv.join(' ')).not.toThrow();
    }
    expect(await fetchText(w.port)).toBe('one');
  });

  it('--dry-run on every mutating command changes nothing', async () => {
    const before = (await run('ls', '--app', app, '--json')).json<PublicRecord[]>();
    for (const argv of [
      ['deploy'],
      ['redeploy', app],
      ['stop', app],
      ['start', app],
      ['restart', app],
      ['rollback', app, '--steps', '1'],
      ['lock', 'release', app],
      ['prune', '--app', app],
      ['config', 'set', 'DRY=1', '--app', app],
      ['config', 'unset', 'CI_FLAG', '--app', app],
      ['sync'],
      ['destroy', app],
    ]) {
      const r = await run(...argv, '--dry-run', '--json');
      expect([0, EXIT_CODES.not_found], `${argv.join(' ')}: ${r.stderr}`).toContain(r.code);
      expect(() => r.json(), argv.join(' ')).not.toThrow();
    }
    expect((await run('config', 'get', 'DRY', '--app', app)).code).toBe(EXIT_CODES.not_found);
    expect((await run('ls', '--app', app, '--json')).json<PublicRecord[]>()).toEqual(before);
  });

  it('--app works on the commands that act on an app, and a mismatch with the id is refused', async () => {
    const inspect = await run('inspect', '--app', app, '--json');
    expect(inspect.code).toBe(0);
    expect(inspect.json<{ app: string }>().app).toBe(app);
    expect((await run('logs', '--app', app, '--tail', '1')).code).toBe(0);
    const id = inspect.json<{ id: string }>().id;
    const mismatch = await run('stop', id, '--app', 'some-other-app', '--yes');
    expect(mismatch.code).toBe(EXIT_CODES.usage);
    expect(mismatch.stderr).toContain(`is a deployment of ${app}, not of some-other-app`);
  });

  it('a failed deployment prints its record with an error in the shape of every failure', async () => {
    repo.commit('broken', { 'start.sh': 'exit 3\n' });
    const r = await run('deploy', '--json', '--yes');
    expect(r.code).toBe(EXIT_CODES.health_failed);
    const doc = r.json<{ status: string; error: { code: string; exitCode: number; message: string; hint: string } }>();
    expect(doc.status).toBe('failed');
    expect(doc.error).toMatchObject({ code: 'health_failed', exitCode: EXIT_CODES.health_failed });
    expect(doc.error.hint).toMatch(/deploy logs/);
    // Reported once: no spinner failure line repeating the error.
    expect(r.stderr.split(doc.error.message.slice(0, 40)).length - 1).toBe(1);
    expect(await fetchText(w.port)).toBe('one');
    expect(containersOf(app).filter((c) => c.state === 'running')).toHaveLength(1);
  });

  it("each command's --help lists the global options it honours", async () => {
    for (const command of ['deploy', 'stop', 'logs', 'stats']) {
      const r = await cli([command, '--help']);
      expect(r.stdout, command).toMatch(
        /Global Options:[\s\S]*--json[\s\S]*--verbose[\s\S]*--context[\s\S]*-H, --host/,
      );
    }
  });

  it('destroy --yes --json tears the app down and prints one JSON document', async () => {
    const r = await run('destroy', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(() => r.json()).not.toThrow();
    expect(containersOf(app)).toEqual([]);
    expect(await fetchText(w.port)).toBeNull();
  });
});
