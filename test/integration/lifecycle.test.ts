import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli } from '../helpers/cli.js';
import { containersOf, fetchText, freePort, imageExists } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { appWorkspace } from '../helpers/workspace.js';

/** The app writes its GREETING and SECRET_TOKEN length into files the test can fetch. */
const START = [
  'echo "$GREETING" > /www/greeting.txt',
  'echo "${#SECRET_TOKEN}" > /www/token-length.txt',
  'echo "started with greeting $GREETING"',
  'exec httpd -f -p 8080 -h /www',
  '',
].join('\n');

const SENTINEL = 'sentinel-5ecret-value-93f1';

function containerEnv(name: string): string {
  return execFileSync('docker', ['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', name], {
    encoding: 'utf8',
  });
}

describe('the deployment lifecycle on a real engine', () => {
  const w = appWorkspace('life');
  const { home, repo, app } = w;
  let port = 0;
  const env = () => ({ DEPLOY_HOME: home.dir });
  const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: env() });
  const outputs: string[] = [];
  const record = async (...args: string[]) => {
    const r = await run(...args);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  let v1: PublicRecord;
  let v2: PublicRecord;

  beforeAll(async () => {
    port = await freePort();
    const deployJson = {
      app,
      ports: [`127.0.0.1:${port}:8080`],
      env: { GREETING: 'hello' },
      healthCheck: { path: '/' },
    };
    repo.commit('one', webApp('one', { start: START, deployJson }));
    v1 = (await record('deploy', '--json')).json<PublicRecord>();
    repo.commit('two', { 'index.html': 'two\n' });
    v2 = (await record('deploy', '--json')).json<PublicRecord>();
    expect([v1.status, v2.status, v2.version]).toEqual(['running', 'running', 2]);
  });
  afterAll(() => w.remove());

  it("redeploys v1's commit with the current configuration, reusing v1's image (no build)", async () => {
    expect((await record('config', 'set', 'GREETING=changed', '--app', app)).code).toBe(0);
    expect((await record('config', 'set', `SECRET_TOKEN=${SENTINEL}`, '--secret', '--app', app)).code).toBe(0);
    const r = await record('redeploy', v1.id, '--yes', '--json');
    expect(r.code).toBe(0);
    const v3 = r.json<PublicRecord>();
    expect(v3).toMatchObject({
      version: 3,
      kind: 'redeploy',
      parentId: v1.id,
      commit: v1.commit,
      image: v1.image,
      imageId: v1.imageId,
      status: 'running',
      buildStartedAt: null,
    });
    expect(v3.config.env).toEqual({ GREETING: 'changed', SECRET_TOKEN: '********' });
    expect(v3.config.secrets).toEqual(['SECRET_TOKEN']);
    expect(await fetchText(port)).toBe('one');
    expect(await fetchText(port, '/greeting.txt')).toBe('changed');
    // The secret reached the container, and only the container.
    expect(await fetchText(port, '/token-length.txt')).toBe(String(SENTINEL.length));
    expect(containerEnv(v3.containerName as string)).toContain(`SECRET_TOKEN=${SENTINEL}`);
  });

  it('with --no-cache builds the image again from the commit, without the layer cache', async () => {
    const r = await record('redeploy', v1.id, '--no-cache', '--yes', '--json');
    expect(r.code).toBe(0);
    const v4 = r.json<PublicRecord>();
    expect(v4).toMatchObject({ version: 4, kind: 'redeploy', parentId: v1.id, noCache: true, status: 'running' });
    expect(v4.image).toBe(`deploy/${app}:${v4.id}`);
    expect(v4.imageId).not.toBe(v1.imageId);
    expect(v4.buildStartedAt).not.toBeNull();
    const build = await record('logs', v4.id, '--build');
    // BuildKit's plain progress (the classic builder's would say Step 1/N and Using cache).
    expect(build.stdout).toMatch(/\[1\/\d+\] FROM docker\.io\/library\/busybox:1\.36/);
    // The COPY of the app's files ran again rather than coming from the cache.
    const copy = /^#(\d+) \[\d+\/\d+\] COPY index\.html start\.sh/m.exec(build.stdout);
    expect(copy).not.toBeNull();
    expect(build.stdout).toContain(`#${copy?.[1]} DONE`);
    expect(build.stdout).not.toContain(`#${copy?.[1]} CACHED`);
    expect(await fetchText(port)).toBe('one');
  });

  it("rolls back to a chosen deployment's exact snapshot, as a new record, and says how to undo it", async () => {
    const r = await record('rollback', app, '--to', `${app}@v2`, '--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Undo: deploy rollback ${app} --to [a-z2-9]{8}`));
    const latest = (await run('ls', '--app', app, '--limit', '1', '--json')).json<PublicRecord[]>()[0] as PublicRecord;
    expect(latest).toMatchObject({
      version: 5,
      kind: 'rollback',
      parentId: v2.id,
      commit: v2.commit,
      image: v2.image,
      status: 'running',
    });
    // v2's snapshot, not today's configuration.
    expect(latest.config.env).toEqual({ GREETING: 'hello' });
    expect(await fetchText(port)).toBe('two');
    expect(await fetchText(port, '/greeting.txt')).toBe('hello');
  });

  it('does nothing, and says so, when asked to roll back to what is already running', async () => {
    const r = await record('rollback', app, '--to', v2.id, '--yes', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('already running');
    expect(r.json<PublicRecord>()).toMatchObject({ version: 5, kind: 'rollback' });
    expect((await run('ls', '--app', app, '--json')).json<unknown[]>()).toHaveLength(5);
  });

  it('goes back to the newest successful deployment before the current one by default, and N back with --steps', async () => {
    const r = await record('rollback', '--app', app, '--yes', '--json');
    expect(r.code).toBe(0);
    // Before v5 (a copy of v2) came v4: v1's commit rebuilt, with GREETING=changed.
    expect(r.json<PublicRecord>()).toMatchObject({
      version: 6,
      kind: 'rollback',
      commit: v1.commit,
      config: { env: { GREETING: 'changed' } },
    });
    expect(await fetchText(port)).toBe('one');
    const dry = await record('rollback', app, '--steps', '2', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    // Two releases back: v5 and v4 were rolled back from, v3 is what v6 runs; then v2, then v1.
    expect(dry.json<{ dryRun: boolean; plan: { target: { version: number } } }>()).toMatchObject({
      dryRun: true,
      plan: { target: { version: 1 } },
    });
  });

  it('stops, starts and restarts, changing what answers on the port; stopping a stopped one succeeds and says so', async () => {
    const stop = await record('stop', app, '--yes', '--json');
    expect(stop.code).toBe(0);
    expect(stop.json<PublicRecord>()).toMatchObject({ version: 6, status: 'stopped' });
    expect(await fetchText(port)).toBeNull();
    const again = await record('stop', app, '--yes');
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already stopped');

    const start = await record('start', app, '--json');
    expect(start.code).toBe(0);
    expect(start.json<PublicRecord>().status).toBe('running');
    expect(await fetchText(port)).toBe('one');

    const restart = await record('restart', `${app}@v6`, '--yes', '--json');
    expect(restart.code).toBe(0);
    expect(await fetchText(port)).toBe('one');
  });

  it('restart recreates the container from the image and snapshot when it was removed', async () => {
    const current = (await run('inspect', app, '--json')).json<PublicRecord>();
    execFileSync('docker', ['rm', '-f', current.containerName as string]);
    expect(await fetchText(port)).toBeNull();
    const r = await record('restart', app, '--yes', '--json');
    expect(r.code).toBe(0);
    expect(r.json<PublicRecord>().containerId).not.toBe(current.containerId);
    expect(await fetchText(port)).toBe('one');
    expect(containersOf(app)).toEqual([{ name: current.containerName, state: 'running' }]);
  });

  it('refuses to act without --yes when there is no terminal, with its exit code, changing nothing', async () => {
    for (const args of [
      ['redeploy', v1.id],
      ['rollback', app, '--steps', '2'],
      ['stop', app],
      ['restart', app],
    ]) {
      const r = await record(...args);
      expect(r.code, args.join(' ')).toBe(EXIT_CODES.confirmation_required);
      expect(r.stderr).toContain('--yes');
    }
    expect((await run('ls', '--app', app, '--json')).json<unknown[]>()).toHaveLength(6);
    expect(await fetchText(port)).toBe('one');
  });

  it('inspects a deployment: the record, its timeline and its parent chain, secrets masked', async () => {
    const r = await record('inspect', `${app}@v6`, '--json');
    expect(r.code).toBe(0);
    const doc = r.json<PublicRecord & { events: Array<{ type: string }>; parents: Array<{ id: string }> }>();
    expect(doc.parents.map((p) => p.id)).toEqual([
      (await run('inspect', `${app}@v3`, '--json')).json<PublicRecord>().id,
      v1.id,
    ]);
    expect(doc.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['queued', 'starting', 'started', 'ready', 'stopped', 'restarted']),
    );
    expect(doc.config.env.SECRET_TOKEN).toBe('********');
    const text = await record('inspect', `${app}@v6`);
    expect(text.stdout).toContain('SECRET_TOKEN=******** (secret)');
    expect(text.stdout).toContain(`${v1.id}  v1  deploy`);
  });

  it('keeps the secret out of every output, JSON and record', async () => {
    outputs.push(
      (await run('ls', '--json')).stdout,
      (await run('config', 'list', '--app', app, '--json')).stdout,
      (await run('config', 'get', 'SECRET_TOKEN', '--app', app)).stdout,
    );
    for (const id of (await run('ls', '--json')).json<PublicRecord[]>().map((d) => d.id)) {
      outputs.push((await run('inspect', id, '--json')).stdout, (await run('inspect', id)).stdout);
    }
    const all = outputs.join('\n');
    expect(all.length).toBeGreaterThan(10_000);
    expect(all).not.toContain(SENTINEL);
    // The image never had it: it is given to the container at run time only.
    const history = execFileSync('docker', ['history', '--no-trunc', v1.image as string], { encoding: 'utf8' });
    const labels = execFileSync('docker', ['inspect', v1.image as string], { encoding: 'utf8' });
    expect(history + labels).not.toContain(SENTINEL);
  });

  it('prunes images beyond the retention, never the running one or recent rollback targets', async () => {
    expect((await record('config', 'set', 'retention=1', '--app', app)).code).toBe(0);
    repo.commit('three', { 'index.html': 'three\n' });
    const r = await record('deploy', '--json');
    expect(r.code).toBe(0);
    const v7 = r.json<PublicRecord>();
    const all = (await run('ls', '--app', app, '--json')).json<PublicRecord[]>();
    const v4 = all.find((d) => d.version === 4) as PublicRecord;
    // Kept: v7 (running) and the newest other successful one (v6, a copy of v3, which reused v1's image).
    expect(imageExists(v7.image as string)).toBe(true);
    expect(imageExists(v1.image as string)).toBe(true);
    expect(imageExists(v4.image as string)).toBe(false);
    expect(imageExists(v2.image as string)).toBe(false);
    // Rollback to a pruned image says so, with its own exit code, and offers --rebuild.
    const gone = await record('rollback', app, '--to', v2.id, '--yes');
    expect(gone.code).toBe(EXIT_CODES.image_gone);
    expect(gone.stderr).toContain('--rebuild');
    const rebuilt = await record('rollback', app, '--to', v2.id, '--rebuild', '--yes', '--json');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.json<PublicRecord>()).toMatchObject({ kind: 'rollback', parentId: v2.id, commit: v2.commit });
    expect(await fetchText(port)).toBe('two');
  });
});
