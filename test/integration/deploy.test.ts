import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli } from '../helpers/cli.js';
import { containersOf, fetchText, freePort, imageExists } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { appWorkspace } from '../helpers/workspace.js';

describe('deploy deploy on a real engine', () => {
  const w = appWorkspace('dep');
  const { home, repo, app } = w;
  let port = 0;
  const env = () => ({ DEPLOY_HOME: home.dir });
  const deploy = (...args: string[]) =>
    cli(
      [
        'deploy',
        '--app',
        app,
        '--port',
        `127.0.0.1:${port}:8080`,
        '--no-proxy',
        '--health-path',
        '/',
        '--json',
        ...args,
      ],
      {
        cwd: repo.dir,
        env: env(),
      },
    );

  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => w.remove());

  let v1: PublicRecord;
  let v2: PublicRecord;

  it('builds the commit, runs it, and records it running (v1)', async () => {
    const sha = repo.commit('first page', webApp('version one'));
    const r = await deploy();
    expect(r.stderr).not.toContain('Internal error');
    expect(r.code).toBe(0);
    v1 = r.json<PublicRecord>();
    expect(v1).toMatchObject({
      app,
      version: 1,
      kind: 'deploy',
      status: 'running',
      parentId: null,
      commit: sha,
      ref: 'main',
      noCache: false,
      error: null,
    });
    expect(v1.id).toMatch(/^[a-z][a-z2-9]{7}$/);
    expect(v1.containerName).toBe(`${app}-v1-${v1.id}`);
    expect(v1.endpoint).toMatch(/^unix:\/\//);
    expect(v1.image).toBe(`deploy/${app}:${v1.id}`);
    expect(Date.parse(v1.readyAt ?? '')).toBeGreaterThanOrEqual(Date.parse(v1.createdAt ?? ''));
    expect(v1.finishedAt).not.toBeNull();
    expect(await fetchText(port)).toBe('version one');
  });

  it('deploys the next commit (v2), which answers, and supersedes v1 and removes its container', async () => {
    repo.commit('second page', { 'index.html': 'version two\n' });
    const r = await deploy();
    expect(r.code).toBe(0);
    v2 = r.json<PublicRecord>();
    expect(v2).toMatchObject({ version: 2, status: 'running', commitSubject: 'second page' });
    expect(await fetchText(port)).toBe('version two');
    const ls = await cli(['ls', '--app', app, '--json'], { env: env() });
    const records = ls.json<PublicRecord[]>();
    expect(records.map((d) => [d.version, d.status])).toEqual([
      [2, 'running'],
      [1, 'superseded'],
    ]);
    expect(containersOf(app).map((c) => c.name)).toEqual([v2.containerName]);
    expect(imageExists(v1.image as string)).toBe(true);
  });

  it('records a Dockerfile that fails to build as failed, with the reason, and leaves v2 serving', async () => {
    repo.commit('broken build', { Dockerfile: 'FROM busybox:1.36\nRUN echo "about to fail" && exit 3\n' });
    const r = await deploy();
    expect(r.code).toBe(EXIT_CODES.build_failed);
    const failed = r.json<PublicRecord>();
    expect(failed).toMatchObject({ version: 3, status: 'failed', error: { code: 'build_failed' } });
    expect(failed.error?.message).toMatch(/exit code: 3|returned a non-zero code: 3/);
    expect(r.stderr).toContain('about to fail');
    expect(r.stderr).toContain(`deploy logs ${failed.id} --build`);
    expect(await fetchText(port)).toBe('version two');
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('records an app that fails its health check as failed, and starts v2 again (they share the port)', async () => {
    repo.commit('exits at once', { 'start.sh': 'echo "cannot start: missing config" >&2\nexit 4\n' });
    const r = await deploy('--health-timeout', '20s');
    expect(r.code).toBe(EXIT_CODES.health_failed);
    const failed = r.json<PublicRecord>();
    expect(failed).toMatchObject({ version: 4, status: 'failed', error: { code: 'health_failed' }, containerId: null });
    expect(failed.error?.message).toContain('exited with code 4');
    expect(failed.error?.message).toContain(`v2 (${v2.id}) is still serving`);
    expect(r.stderr).toContain('cannot start: missing config');
    expect(await fetchText(port)).toBe('version two');
    expect(containersOf(app)).toEqual([{ name: v2.containerName, state: 'running' }]);
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('records an app that never answers its health path as failed within the timeout', async () => {
    repo.commit('answers nothing', { 'start.sh': 'exec sleep 600\n' });
    const r = await deploy('--health-timeout', '3s');
    expect(r.code).toBe(EXIT_CODES.health_failed);
    expect(r.json<PublicRecord>().error?.message).toMatch(/did not succeed within 3s/);
    expect(await fetchText(port)).toBe('version two');
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('refuses a dirty tree and records nothing; --allow-dirty ships it and marks the record dirty', async () => {
    repo.write({ 'index.html': 'uncommitted\n' });
    const before = (await cli(['ls', '--json'], { env: env() })).json<unknown[]>().length;
    const refused = await deploy();
    expect(refused.code).toBe(EXIT_CODES.source);
    expect(refused.json<{ error: { message: string } }>().error.message).toMatch(
      /uncommitted changes to tracked files \(index\.html\)/,
    );
    expect((await cli(['ls', '--json'], { env: env() })).json<unknown[]>()).toHaveLength(before);
    expect(await fetchText(port)).toBe('version two');

    const dirty = await deploy('--allow-dirty');
    expect(dirty.code).toBe(0);
    expect(dirty.json<PublicRecord>()).toMatchObject({ dirty: true, status: 'running' });
    expect(await fetchText(port)).toBe('uncommitted');
    repo.git('checkout', '--', 'index.html');
  });

  it('builds with the classic builder where BuildKit is not wanted (DOCKER_BUILDKIT=0), as on engines without it', async () => {
    repo.commit('classic', { 'index.html': 'classic builder\n' });
    const r = await cli(
      ['deploy', '--app', app, '--port', `127.0.0.1:${port}:8080`, '--no-proxy', '--health-path', '/', '--json'],
      {
        cwd: repo.dir,
        env: { ...env(), DOCKER_BUILDKIT: '0' },
      },
    );
    expect(r.code).toBe(0);
    const id = r.json<PublicRecord>().id;
    const build = await cli(['logs', id, '--build'], { env: env() });
    expect(build.stdout).toMatch(/^Step 1\/\d+ : FROM busybox:1\.36$/m);
    expect(await fetchText(port)).toBe('classic builder');
  });

  it('filters ls --json by app and status', async () => {
    const failed = await cli(['ls', '--app', app, '--status', 'failed', '--json'], { env: env() });
    expect(failed.json<PublicRecord[]>().map((d) => d.version)).toEqual([5, 4, 3]);
    const running = await cli(['ls', '--status', 'running', '--json'], { env: env() });
    expect(running.json<PublicRecord[]>()).toHaveLength(1);
    expect(running.json<PublicRecord[]>().map((d) => d.status)).toEqual(['running']);
    const none = await cli(['ls', '--app', 'no-such-app', '--json'], { env: env() });
    expect(none.json()).toEqual([]);
  });
});
