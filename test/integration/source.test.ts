import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';

describe('where deploy finds the code', () => {
  const home = tempHome();
  const upstream = new TempRepo('deploy-upstream-');
  const local = new TempRepo('deploy-local-');
  const elsewhere = mkdtempSync(join(tmpdir(), 'deploy-elsewhere-'));
  const urlApp = testApp('url');
  const subApp = testApp('sub');
  const dirtyApp = testApp('dirty');
  let port = 0;
  const env = () => ({ DEPLOY_HOME: home.dir });

  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => {
    removeApps([urlApp, subApp, dirtyApp]);
    upstream.remove();
    local.remove();
    rmSync(elsewhere, { recursive: true, force: true });
    home.remove();
  });

  it('clones a Git URL into the cache, ships its default branch, and fetches again on the next deploy', async () => {
    upstream.commit(
      'one',
      webApp('from url one', { deployJson: { ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }),
    );
    const url = `file://${upstream.dir}`;
    const first = await cli(['deploy', url, '--app', urlApp, '--json'], { cwd: elsewhere, env: env() });
    expect(first.code).toBe(0);
    expect(first.json<PublicRecord>()).toMatchObject({ source: url, ref: 'main', commitSubject: 'one' });
    expect(await fetchText(port)).toBe('from url one');

    // The app remembers its source: a new upstream commit ships with --app alone, from any directory.
    const sha = upstream.commit('two', { 'index.html': 'from url two\n' });
    const second = await cli(['deploy', '--app', urlApp, '--json'], { cwd: elsewhere, env: env() });
    expect(second.code).toBe(0);
    expect(second.json<PublicRecord>()).toMatchObject({
      version: 2,
      commit: sha,
      ref: 'main',
      config: { ports: [`127.0.0.1:${port}:8080`] },
    });
    expect(await fetchText(port)).toBe('from url two');
  });

  it('ships a tag given with --ref, and says clearly when a ref does not exist', async () => {
    upstream.git('tag', 'v-one', 'HEAD~1');
    const tagged = await cli(['deploy', '--app', urlApp, '--ref', 'v-one', '--json'], { cwd: elsewhere, env: env() });
    expect(tagged.code).toBe(0);
    expect(tagged.json<PublicRecord>()).toMatchObject({ ref: 'v-one', commitSubject: 'one' });
    expect(await fetchText(port)).toBe('from url one');

    // A tag is a one-off: the app still follows its branch.
    const again = await cli(['deploy', '--app', urlApp, '--json'], { cwd: elsewhere, env: env() });
    expect(again.json<PublicRecord>()).toMatchObject({ ref: 'main', commitSubject: 'two' });

    const missing = await cli(['deploy', '--app', urlApp, '--ref', 'no-such-branch', '--json'], {
      cwd: elsewhere,
      env: env(),
    });
    expect(missing.code).toBe(EXIT_CODES.source);
    expect(missing.json<{ error: { message: string } }>().error.message).toContain('"no-such-branch" does not exist');
  });

  it('refuses a URL that cannot be cloned, naming it', async () => {
    const r = await cli(['deploy', 'file:///nonexistent/repo.git', '--app', testApp('nope'), '--json'], {
      cwd: elsewhere,
      env: env(),
    });
    expect(r.code).toBe(EXIT_CODES.source);
    expect(r.json<{ error: { message: string } }>().error.message).toContain(
      'Could not fetch file:///nonexistent/repo.git',
    );
  });

  it('never repeats the credentials of a URL that cannot be fetched', async () => {
    // Port 1 on loopback refuses at once; git's own message quotes the URL it tried.
    const secret = 'hunter2-url-secret';
    const r = await cli(
      ['deploy', `http://deployer:${secret}@127.0.0.1:1/repo.git`, '--app', testApp('cred'), '--json'],
      { cwd: elsewhere, env: env() },
    );
    expect(r.code).toBe(EXIT_CODES.source);
    const message = r.json<{ error: { message: string } }>().error.message;
    expect(message).toMatch(/^Could not fetch http:\/\/\S*127\.0\.0\.1:1\/repo\.git/);
    expect(r.stdout + r.stderr).not.toContain(secret);
    const verbose = await cli(
      ['deploy', `http://deployer:${secret}@127.0.0.1:1/repo.git`, '--app', testApp('cred'), '--verbose'],
      { cwd: elsewhere, env: env() },
    );
    expect(verbose.code).toBe(EXIT_CODES.source);
    expect(verbose.stderr).toContain('Could not fetch');
    expect(verbose.stdout + verbose.stderr).not.toContain(secret);
  });

  it('deploys an app from a subdirectory with its own deploy.json, and names the app after it', async () => {
    const subPort = await freePort();
    local.commit('monorepo', {
      'README.md': 'a monorepo\n',
      ...Object.fromEntries(
        Object.entries(
          webApp('from the subdirectory', {
            deployJson: { app: subApp, ports: [`127.0.0.1:${subPort}:8080`], healthCheck: { path: '/' } },
          }),
        ).map(([k, v]) => [`services/web/${k}`, v]),
      ),
    });
    // Changes outside the app's directory do not make it dirty.
    local.write({ 'README.md': 'edited elsewhere\n' });
    const r = await cli(['deploy', 'services/web', '--json'], { cwd: local.dir, env: env() });
    expect(r.code).toBe(0);
    expect(r.json<PublicRecord>()).toMatchObject({
      app: subApp,
      subdir: 'services/web',
      dirty: false,
      config: { ports: [`127.0.0.1:${subPort}:8080`] },
    });
    expect(await fetchText(subPort)).toBe('from the subdirectory');
  });

  it('ships the commit past untracked files; refuses changed, staged or deleted tracked files; --allow-dirty ships them all', async () => {
    const dirtyPort = await freePort();
    const repo = new TempRepo('deploy-dirty-');
    try {
      // Every file of the build context is served, so what the image holds can be read over HTTP.
      const files = webApp('committed', {
        dockerfileExtra: 'COPY . ./',
        deployJson: { app: dirtyApp, ports: [`127.0.0.1:${dirtyPort}:8080`], healthCheck: { path: '/' } },
      });
      // Written by an editor that starts files with a byte-order mark: read all the same (the port comes from it).
      repo.commit('an app', { ...files, 'deploy.json': `\ufeff${files['deploy.json']}` });
      repo.write({ 'notes.txt': 'untracked notes\n', 'scratch/todo.txt': 'todo\n' });
      const deploy = (...args: string[]) => cli(['deploy', '--json', ...args], { cwd: repo.dir, env: env() });

      const clean = await deploy();
      expect(clean.code, clean.stderr).toBe(0);
      expect(clean.json<PublicRecord>()).toMatchObject({ app: dirtyApp, version: 1, dirty: false });
      expect(await fetchText(dirtyPort)).toBe('committed');
      expect(await fetchText(dirtyPort, '/notes.txt')).not.toBe('untracked notes'); // not in the commit, so not shipped

      const refused = async (what: string) => {
        const r = await deploy();
        expect(r.code, what).toBe(EXIT_CODES.source);
        const message = r.json<{ error: { message: string } }>().error.message;
        expect(message, what).toMatch(/has uncommitted changes to tracked files \(.*\)/);
        expect(message, what).not.toContain('notes.txt');
        return message;
      };
      repo.write({ 'index.html': 'edited\n' });
      expect(await refused('a modified file')).toContain('(index.html)');
      repo.git('add', 'index.html');
      expect(await refused('a staged file')).toContain('(index.html)');
      repo.git('reset', '-q', '--hard');
      repo.git('rm', '-q', 'start.sh');
      expect(await refused('a deleted file')).toContain('(start.sh)');
      repo.git('reset', '-q', '--hard');

      // Only untracked files differ: --allow-dirty ships the working tree with them, and says it is dirty.
      const dirty = await deploy('--allow-dirty');
      expect(dirty.code, dirty.stderr).toBe(0);
      expect(dirty.json<PublicRecord>()).toMatchObject({ version: 2, dirty: true });
      expect(await fetchText(dirtyPort, '/notes.txt')).toBe('untracked notes');
      expect(await fetchText(dirtyPort, '/scratch/todo.txt')).toBe('todo');
    } finally {
      repo.remove();
    }
  });

  it('refuses a directory that is not a Git repository, and a repository with no commits', async () => {
    const notRepo = await cli(['deploy', elsewhere, '--app', testApp('x'), '--json'], { env: env() });
    expect(notRepo.code).toBe(EXIT_CODES.source);
    expect(notRepo.json<{ error: { message: string } }>().error.message).toContain('is not inside a Git repository');
    const empty = new TempRepo('deploy-empty-');
    try {
      const r = await cli(['deploy', empty.dir, '--app', testApp('x'), '--json'], { env: env() });
      expect(r.code).toBe(EXIT_CODES.source);
      expect(r.json<{ error: { message: string } }>().error.message).toContain('has no commits yet');
    } finally {
      empty.remove();
    }
  });
});
