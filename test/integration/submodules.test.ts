/**
 * Submodules in the build context: shipped with their files at the commit the superproject records, as
 * `git clone --recurse-submodules` checks them out, or refused before anything is recorded. Real repositories in
 * temporary directories; one deploy against the real engine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Git, mirrorRoot } from '../../src/adapters/git.js';
import { ContextFilter } from '../../src/core/dockerignore.js';
import { DeployError, EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import {
  contextArchive,
  readIgnoreFile,
  resolveSubmodules,
  type SubmoduleTree,
} from '../../src/services/build-context.js';
import { cli, tempHome } from '../helpers/cli.js';
import { removeApps, testApp } from '../helpers/docker.js';
import { TempRepo } from '../helpers/git-repo.js';
import { rejectionOf } from '../helpers/rejection.js';

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
const repos: TempRepo[] = [];
function repo(): TempRepo {
  const r = new TempRepo('submods-repo-');
  repos.push(r);
  return r;
}
afterAll(() => {
  for (const r of repos) r.remove();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** `git submodule add` of a local repository, as the user of a machine with no network would. */
function addSubmodule(to: TempRepo, url: string, path: string): void {
  to.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', url, path);
}

/**
 * An app repository whose first commit holds `files`, then the submodule vendor/lib added: a repository holding
 * lib.txt, with the submodule inner, a repository holding inner.txt (each file a line of `texts`). Added as `git
 * submodule add` adds them: inner is not checked out in the app's own checkout.
 */
function withNestedSubmodules(
  files: Record<string, string>,
  texts: { lib: string; inner: string },
): { app: TempRepo; inner: TempRepo } {
  const inner = repo();
  inner.commit('inner', { 'inner.txt': `${texts.inner}\n` });
  const lib = repo();
  lib.commit('lib', { 'lib.txt': `${texts.lib}\n` });
  addSubmodule(lib, inner.dir, 'inner');
  lib.commit('with inner');
  const app = repo();
  app.commit('app', files);
  addSubmodule(app, lib.dir, 'vendor/lib');
  app.commit('with lib');
  return { app, inner };
}

/** A commit no repository has. */
const NOWHERE = 'c0ffee'.padEnd(40, '0');

/**
 * Records a gitlink to `commit` at path (with a .gitmodules section giving url, unless null), and commits; its
 * directory is left empty, as a clone that did not check out its submodules has it.
 */
function addGitlink(to: TempRepo, path: string, commit: string, url: string | null): string {
  mkdirSync(join(to.dir, path), { recursive: true });
  if (url !== null) {
    to.git('config', '-f', '.gitmodules', `submodule.${path}.path`, path);
    to.git('config', '-f', '.gitmodules', `submodule.${path}.url`, url);
    to.git('add', '.gitmodules');
  }
  to.git('update-index', '--add', '--cacheinfo', `160000,${commit},${path}`);
  to.git('commit', '-q', '-m', `gitlink ${path}`);
  return to.git('rev-parse', 'HEAD');
}

interface Shipped {
  submodules: SubmoduleTree[];
  /** Every path in the context tar, directories without their trailing '/', sorted. */
  names: string[];
  read(name: string): string;
}

/** The build context deploy makes of root at HEAD (context directory contextPath), read back with the tar program. */
async function shipped(git: Git, root: string, contextPath = ''): Promise<Shipped> {
  const src = {
    root,
    treeish: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
    subdir: '',
  };
  const ignore = await readIgnoreFile(git, src, contextPath, 'Dockerfile');
  const submodules = await resolveSubmodules(
    git,
    src,
    contextPath,
    ignore ? new ContextFilter(ignore.patterns, 'Dockerfile') : null,
  );
  const streamed = await contextArchive(git, src, contextPath, submodules, ignore, 'Dockerfile');
  const chunks: Buffer[] = [];
  for await (const chunk of streamed.stdout) chunks.push(chunk as Buffer);
  await streamed.done;
  const file = join(tempDir('submods-tar-'), 'context.tar');
  writeFileSync(file, Buffer.concat(chunks));
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((n) => n.replace(/\/$/, ''))
    .sort();
  return { submodules, names, read: (name) => execFileSync('tar', ['-xOf', file, name], { encoding: 'utf8' }) };
}

/** A Git adapter as the CLI makes one, with its own cache and, when given, its own HOME. */
function gitWith(env: Record<string, string | undefined> = {}): { git: Git; cache: string } {
  const cache = tempDir('submods-cache-');
  return {
    git: new Git(
      { PATH: process.env.PATH, HOME: process.env.HOME, GIT_CONFIG_NOSYSTEM: '1', ...env },
      undefined,
      cache,
    ),
    cache,
  };
}

describe('submodules in the build context (real git repositories)', () => {
  it("ships a submodule's files at the commit the superproject records, not at the commit its checkout is on", async () => {
    const lib = repo();
    lib.commit('v1', { 'lib.txt': 'lib v1\n' });
    const app = repo();
    app.commit('app', { Dockerfile: 'FROM scratch\n', 'app.txt': 'app\n' });
    addSubmodule(app, lib.dir, 'vendor/lib');
    app.commit('with lib');
    const recorded = app.git('rev-parse', 'HEAD:vendor/lib');
    // The checkout moves on; the superproject still records v1.
    lib.commit('v2', { 'lib.txt': 'lib v2\n', 'new.txt': 'new\n' });
    execFileSync('git', ['-C', join(app.dir, 'vendor/lib'), 'pull', '-q'], { stdio: 'ignore' });

    const { git, cache } = gitWith();
    const s = await shipped(git, app.dir);
    expect(s.submodules.map(({ path, commit }) => ({ path, commit }))).toEqual([
      { path: 'vendor/lib', commit: recorded },
    ]);
    expect(s.names).toEqual(['.gitmodules', 'Dockerfile', 'app.txt', 'vendor', 'vendor/lib', 'vendor/lib/lib.txt']);
    expect(s.read('vendor/lib/lib.txt')).toBe('lib v1\n');
    // Found in .git/modules: nothing was fetched.
    expect(existsSync(join(cache, 'repos'))).toBe(false);
  });

  it('ships submodules of submodules: from the local checkout when it has them, else fetched from their URL', async () => {
    const { app, inner } = withNestedSubmodules({ Dockerfile: 'FROM scratch\n' }, { lib: 'lib', inner: 'inner' });
    expect(existsSync(join(app.dir, '.git/modules/vendor/lib/modules/inner'))).toBe(false);

    // `submodule add` did not check out inner: it comes from its URL, into the cache.
    const first = gitWith();
    const fetched = await shipped(first.git, app.dir);
    expect(fetched.submodules.map((s) => s.path)).toEqual(['vendor/lib', 'vendor/lib/inner']);
    expect(fetched.read('vendor/lib/inner/inner.txt')).toBe('inner\n');
    expect(fetched.read('vendor/lib/lib.txt')).toBe('lib\n');
    expect(existsSync(join(mirrorRoot(inner.dir, first.cache), 'HEAD'))).toBe(true);

    // Checked out recursively, then the URL gone: the local checkout is enough.
    app.git('-c', 'protocol.file.allow=always', 'submodule', 'update', '-q', '--init', '--recursive');
    renameSync(inner.dir, `${inner.dir}-gone`);
    try {
      const local = await shipped(gitWith().git, app.dir);
      expect(local.read('vendor/lib/inner/inner.txt')).toBe('inner\n');
      expect(local.submodules[1]?.gitDir).toBe(join(app.dir, '.git/modules/vendor/lib/modules/inner'));
    } finally {
      renameSync(`${inner.dir}-gone`, inner.dir);
    }
  });

  it("fetches a submodule with a relative URL from beside the superproject's origin (file://), for a clone without it and for a Git URL source", async () => {
    const server = tempDir('submods-server-');
    const lib = repo();
    lib.commit('lib', { 'lib.txt': 'from the server\n' });
    execFileSync('git', ['clone', '-q', '--bare', lib.dir, join(server, 'lib.git')]);
    const work = repo();
    work.git('remote', 'add', 'origin', `file://${server}/app.git`);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(server, 'app.git')]);
    work.commit('app', { Dockerfile: 'FROM scratch\n' });
    addSubmodule(work, '../lib.git', 'vendor/lib');
    work.commit('with lib');
    expect(work.git('config', '-f', '.gitmodules', 'submodule.vendor/lib.url')).toBe('../lib.git');
    work.git('push', '-q', 'origin', 'main');

    // A clone that never fetched its submodules.
    const clone = join(tempDir('submods-clone-'), 'app');
    execFileSync('git', ['clone', '-q', `file://${server}/app.git`, clone]);
    const { git, cache } = gitWith();
    const s = await shipped(git, clone);
    expect(s.read('vendor/lib/lib.txt')).toBe('from the server\n');
    expect(s.submodules[0]?.gitDir).toBe(mirrorRoot(`file://${server}/lib.git`, cache));

    // Deployed from the URL itself: the cache's bare clone, whose origin is that URL.
    const { root } = await git.mirror(`file://${server}/app.git`, cache);
    expect((await shipped(git, root)).read('vendor/lib/lib.txt')).toBe('from the server\n');
  });

  it('leaves out a submodule the .dockerignore excludes (its commit is not even looked for), and filters the files of the others', async () => {
    const lib = repo();
    lib.commit('lib', { 'lib.txt': 'lib\n', 'secret.txt': 'secret\n', 'docs/a.md': 'a\n' });
    const app = repo();
    app.commit('app', {
      Dockerfile: 'FROM scratch\n',
      '.dockerignore': 'vendor/gone\nvendor/lib/secret.txt\n**/*.md\n',
    });
    addSubmodule(app, lib.dir, 'vendor/lib');
    app.commit('with lib');
    addGitlink(app, 'vendor/gone', NOWHERE, `file://${tempDir('submods-empty-')}/none.git`);

    const s = await shipped(gitWith().git, app.dir);
    expect(s.submodules.map((m) => m.path)).toEqual(['vendor/lib']);
    expect(s.names).toEqual([
      '.dockerignore',
      '.gitmodules',
      'Dockerfile',
      'vendor',
      'vendor/lib',
      'vendor/lib/docs',
      'vendor/lib/lib.txt',
    ]);
  });

  it('walks into a submodule an exception reaches into, and ships only what the exception names', async () => {
    const lib = repo();
    lib.commit('lib', { 'lib.txt': 'lib\n', 'other.txt': 'other\n' });
    const app = repo();
    app.commit('app', { Dockerfile: 'FROM scratch\n', '.dockerignore': 'vendor\n!vendor/lib/lib.txt\n' });
    addSubmodule(app, lib.dir, 'vendor/lib');
    app.commit('with lib');
    const s = await shipped(gitWith().git, app.dir);
    expect(s.names).toEqual(['.dockerignore', '.gitmodules', 'Dockerfile', 'vendor/lib/lib.txt']);
  });

  it('refuses a submodule whose commit is nowhere, naming it and what to do', async () => {
    const lib = repo();
    lib.commit('lib', { 'lib.txt': 'lib\n' });
    const app = repo();
    app.commit('app', { Dockerfile: 'FROM scratch\n' });
    addGitlink(app, 'vendor/lib', NOWHERE, lib.dir);
    const refusal = await rejectionOf(shipped(gitWith().git, app.dir));
    expect(refusal).toBeInstanceOf(DeployError);
    const e = refusal as DeployError;
    expect(e.code).toBe('source');
    expect(e.message).toBe(
      `The submodule vendor/lib is at commit c0ffee0, which neither this repository's checkout nor ${lib.dir} has.`,
    );
    expect(e.hint).toMatch(/^Push commit c0ffee0 of vendor\/lib to /);
    expect(e.details).toEqual({ submodule: 'vendor/lib', commit: NOWHERE, url: lib.dir });
  });

  it('refuses a submodule with no URL, and one whose URL cannot be fetched, saying which and why', async () => {
    const noUrl = repo();
    noUrl.commit('app', { Dockerfile: 'FROM scratch\n' });
    addGitlink(noUrl, 'lib', NOWHERE, null);
    const a = (await rejectionOf(shipped(gitWith().git, noUrl.dir))) as DeployError;
    expect(a.code).toBe('source');
    expect(a.message).toMatch(
      /^The submodule lib is at commit c0ffee0, which this repository's checkout does not have, and the commit's \.gitmodules gives no URL for it\.$/,
    );
    expect(a.hint).toMatch(/git submodule update --init --recursive/);

    const unreachable = repo();
    unreachable.commit('app', { Dockerfile: 'FROM scratch\n' });
    addGitlink(unreachable, 'lib', NOWHERE, 'file:///nonexistent/lib.git');
    const b = (await rejectionOf(shipped(gitWith().git, unreachable.dir))) as DeployError;
    expect(b.code).toBe('source');
    expect(b.message).toMatch(
      /^The submodule lib is at commit c0ffee0, which this repository's checkout does not have\. Could not fetch file:\/\/\/nonexistent\/lib\.git: /,
    );
    expect(b.hint).toMatch(/git submodule update --init --recursive/);
  });

  it('refuses to fetch a submodule URL through a transport a commit must not choose (ext::)', async () => {
    const app = repo();
    app.commit('app', { Dockerfile: 'FROM scratch\n' });
    const marker = join(tempDir('submods-ext-'), 'ran');
    const url = `ext::sh -c touch% ${marker}`;
    addGitlink(app, 'lib', NOWHERE, url);
    // A user who allows it for their own commands: plain git runs the command the URL holds.
    const allowed = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'protocol.ext.allow', GIT_CONFIG_VALUE_0: 'user' };
    spawnSync('git', ['ls-remote', url], { env: { ...process.env, ...allowed }, stdio: 'ignore' });
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    // Not for a URL a commit gives.
    const { git } = gitWith(allowed);
    const e = (await shipped(git, app.dir).catch((error: unknown) => error)) as DeployError;
    expect(e.code).toBe('source');
    expect(e.message).toMatch(/Could not fetch/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the context stream of a commit with submodules', () => {
  /** Reads a stream to its end; resolves with the error that ended it, or null. */
  const drain = (stream: NodeJS.ReadableStream) =>
    new Promise<Error | null>((resolve) => {
      stream.on('data', () => undefined);
      stream.on('end', () => resolve(null));
      stream.on('error', resolve);
    });

  it("ends with an error, not a hang, when a submodule's repository is gone by the time it is archived, or when killed", async () => {
    const lib = repo();
    lib.commit('lib', { 'lib.txt': 'lib\n' });
    const app = repo();
    app.commit('app', { Dockerfile: 'FROM scratch\n', 'big.bin': 'x'.repeat(4 * 1024 * 1024) });
    addSubmodule(app, lib.dir, 'vendor/lib');
    app.commit('with lib');
    const { git } = gitWith();
    const src = { root: app.dir, treeish: app.git('rev-parse', 'HEAD'), subdir: '' };
    const submodules = await resolveSubmodules(git, src, '', null);
    expect(submodules.map((m) => m.path)).toEqual(['vendor/lib']);

    const modules = join(app.dir, '.git/modules');
    renameSync(modules, `${modules}-gone`);
    try {
      const gone = await contextArchive(git, src, '', submodules, null, 'Dockerfile');
      const [ended, done] = await Promise.all([drain(gone.stdout), rejectionOf(gone.done)]);
      expect(ended).toBeInstanceOf(Error);
      expect(done).toBeInstanceOf(Error);
    } finally {
      renameSync(`${modules}-gone`, modules);
    }

    // Killed before it is read (as a build that falls back to the classic builder kills the first context).
    const killed = await contextArchive(git, src, '', submodules, null, 'Dockerfile');
    killed.kill();
    const [ended, done] = await Promise.all([drain(killed.stdout), rejectionOf(killed.done)]);
    expect(ended).toBeInstanceOf(Error);
    expect(done).toBeInstanceOf(Error);
  });
});

describe("what ships is the commit's tree, whatever local settings say; committed export-ignore follows one rule", () => {
  it("drops nothing for export-ignore in .git/info/attributes (the superproject's or a submodule's) or in the user's attributes files", async () => {
    const lib = repo();
    lib.commit('lib', { 'lib.txt': 'lib\n' });
    const app = repo();
    app.commit('app', { Dockerfile: 'FROM scratch\n', 'info.txt': 'i\n', 'user.txt': 'u\n', 'xdg.txt': 'x\n' });
    addSubmodule(app, lib.dir, 'vendor/lib');
    app.commit('with lib');
    writeFileSync(join(app.dir, '.git/info/attributes'), 'info.txt export-ignore\nvendor/lib export-ignore\n');
    mkdirSync(join(app.dir, '.git/modules/vendor/lib/info'), { recursive: true });
    writeFileSync(join(app.dir, '.git/modules/vendor/lib/info/attributes'), 'lib.txt export-ignore\n');
    // A user's own settings, each from a HOME of this test's: core.attributesFile in ~/.gitconfig, or (when that
    // is not set) ~/.config/git/attributes.
    const configured = tempDir('submods-home-');
    writeFileSync(join(configured, 'attributes'), 'user.txt export-ignore\n');
    writeFileSync(join(configured, '.gitconfig'), `[core]\n\tattributesFile = ${join(configured, 'attributes')}\n`);
    const xdg = tempDir('submods-home-');
    mkdirSync(join(xdg, '.config/git'), { recursive: true });
    writeFileSync(join(xdg, '.config/git/attributes'), 'xdg.txt export-ignore\n');
    for (const [home, dropped] of [
      [configured, 'user.txt'],
      [xdg, 'xdg.txt'],
    ] as const) {
      const env = { HOME: home, XDG_CONFIG_HOME: undefined };
      // The settings are live: plain git archive, here, drops each file they name.
      const plain = (dir: string) =>
        execFileSync('sh', ['-c', 'git archive HEAD | tar -t'], {
          cwd: dir,
          env: { ...process.env, ...env },
          encoding: 'utf8',
        });
      const top = plain(app.dir);
      expect(top).not.toContain(dropped);
      expect(top).not.toContain('info.txt');
      expect(top).not.toContain('vendor/lib');
      expect(plain(join(app.dir, 'vendor/lib'))).not.toContain('lib.txt');

      const s = await shipped(gitWith(env).git, app.dir);
      expect(s.names).toEqual(
        expect.arrayContaining(['info.txt', 'user.txt', 'xdg.txt', 'vendor/lib', 'vendor/lib/lib.txt']),
      );
    }
  });

  it('honours export-ignore committed inside the context, for the files of its own repository; not one committed outside it', async () => {
    const lib = repo();
    lib.commit('lib', {
      'lib.txt': 'lib\n',
      'hidden.txt': 'hidden by the submodule\n',
      '.gitattributes': 'hidden.txt export-ignore\n',
    });
    const mono = repo();
    mono.commit('mono', {
      // Outside the context (app/): not applied.
      '.gitattributes': 'app/outside.txt export-ignore\napp/vendor/lib export-ignore\n',
      'app/Dockerfile': 'FROM scratch\n',
      'app/outside.txt': 'kept\n',
      'app/inside.txt': 'dropped\n',
      // Inside the context: applied, to this repository's files and to the submodule's directory as a whole.
      'app/.gitattributes': 'inside.txt export-ignore\nvendor/gone export-ignore\nvendor/lib/lib.txt export-ignore\n',
    });
    addSubmodule(mono, lib.dir, 'app/vendor/lib');
    mono.commit('with lib');
    // Export-ignored, so never looked for: its commit is nowhere.
    addGitlink(mono, 'app/vendor/gone', NOWHERE, null);

    const s = await shipped(gitWith().git, mono.dir, 'app');
    expect(s.submodules.map((m) => m.path)).toEqual(['vendor/lib']);
    expect(s.names).toEqual([
      '.gitattributes',
      'Dockerfile',
      'outside.txt',
      'vendor',
      'vendor/lib',
      'vendor/lib/.gitattributes',
      'vendor/lib/lib.txt',
    ]);
  });
});

describe('deploy of a commit with submodules (real engine)', () => {
  const home = tempHome();
  const app = testApp('submods');
  const refused = testApp('submods');
  afterAll(() => {
    removeApps([app, refused]);
    home.remove();
  });

  it('builds an image whose Dockerfile copies files from a submodule and from a submodule of it', async () => {
    const { app: main } = withNestedSubmodules(
      {
        Dockerfile:
          'FROM busybox:1.36\nCOPY vendor/lib/lib.txt vendor/lib/inner/inner.txt /out/\nCMD ["sleep", "3600"]\n',
        'deploy.json': JSON.stringify({ app }),
      },
      { lib: 'from the submodule', inner: 'from the nested submodule' },
    );

    const r = await cli(['deploy', '--json'], { cwd: main.dir, env: { DEPLOY_HOME: home.dir } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Git submodule|empty director/);
    const d = r.json<PublicRecord>();
    expect(d.status).toBe('running');
    const out = execFileSync(
      'docker',
      ['run', '--rm', '--network', 'none', d.image as string, 'cat', '/out/lib.txt', '/out/inner.txt'],
      { encoding: 'utf8' },
    );
    expect(out).toBe('from the submodule\nfrom the nested submodule\n');
  });

  it('refuses, before anything is recorded, a commit whose submodule commit cannot be found', async () => {
    const main = repo();
    main.commit('app', {
      Dockerfile: 'FROM busybox:1.36\nCMD ["sleep", "3600"]\n',
      'deploy.json': JSON.stringify({ app: refused }),
    });
    addGitlink(main, 'vendor/lib', NOWHERE, `file://${tempDir('submods-none-')}/lib.git`);

    const r = await cli(['deploy', '--json'], { cwd: main.dir, env: { DEPLOY_HOME: home.dir } });
    expect(r.code).toBe(EXIT_CODES.source);
    const { error } = r.json<{ error: { code: string; message: string; hint: string } }>();
    expect(error.code).toBe('source');
    expect(error.message).toMatch(
      /^The submodule vendor\/lib is at commit c0ffee0, which this repository's checkout does not have\. Could not fetch file:\/\//,
    );
    expect(error.hint).toMatch(/git submodule update --init --recursive/);
    const ls = await cli(['ls', '--all', '--json'], { cwd: main.dir, env: { DEPLOY_HOME: home.dir } });
    expect(ls.code).toBe(0);
    expect(ls.json<PublicRecord[]>().filter((x) => x.app === refused)).toEqual([]);
    expect(execFileSync('docker', ['images', '-q', `deploy/${refused}`], { encoding: 'utf8' }).trim()).toBe('');
  });
});
