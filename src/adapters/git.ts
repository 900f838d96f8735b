import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DeployError } from '../core/errors.js';
import { redactUrl, redactValues } from '../core/redact.js';
import { FileLockTimeout, withFileLock } from './file-lock.js';
import { resolvePaths } from './paths.js';
import { ProcessError, run, runAllowFailure, stream, type RunResult, type Streamed } from './process.js';

export interface CommitInfo {
  commit: string;
  subject: string;
  author: string;
  time: number;
}

/** A URL git can clone, as opposed to a local path. */
export function isGitUrl(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^[\w.-]+@[\w.-]+:/.test(source);
}

/** Where the bare clone of a Git URL is kept (whether or not it has been made yet). */
export function mirrorRoot(url: string, cacheDir: string): string {
  return join(cacheDir, 'repos', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

/**
 * Where git is run: `root`, a working tree (or a directory in one) or a bare repository, found as git finds it;
 * or `gitDir`, a git directory named outright — a submodule's `.git/modules/NAME`, whose working tree may be
 * gone or elsewhere.
 */
export type RepoDir = { root: string } | { gitDir: string };

/** A commit a tree records as a submodule (a gitlink), at its path in that tree. */
export interface Gitlink {
  path: string;
  commit: string;
}

/** Git, run as a program: the tool's only way into repositories. */
export class Git {
  private readonly env: Record<string, string | undefined>;
  /** Ends every git still running when aborted (Ctrl-C): a clone or an archive cut short stops. */
  private readonly signal: AbortSignal | undefined;
  /** Where clones of URLs are kept (the same directory as the context's paths.cacheDir). */
  private readonly cacheDir: string;

  constructor(env: Record<string, string | undefined>, signal?: AbortSignal, cacheDir = resolvePaths(env).cacheDir) {
    this.signal = signal;
    this.cacheDir = cacheDir;
    // Never prompt for credentials (a CI job would hang); keep messages in English so they can be matched.
    this.env = { ...env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', LANGUAGE: 'C' };
  }

  /**
   * Runs git in a repository; a non-zero exit is returned. A git directory named outright is given as GIT_DIR,
   * with a work tree of its own path: git then never moves into the core.worktree it records (a submodule's
   * checkout, which may not exist), and the commands run here only read objects and config.
   */
  private at(repo: RepoDir, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    if ('root' in repo)
      return runAllowFailure('git', args, { cwd: repo.root, env: { ...this.env, ...extraEnv }, signal: this.signal });
    const env = {
      ...this.env,
      GIT_DIR: repo.gitDir,
      GIT_WORK_TREE: repo.gitDir,
      GIT_COMMON_DIR: undefined,
      GIT_INDEX_FILE: undefined,
      GIT_OBJECT_DIRECTORY: undefined,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: undefined,
      ...extraEnv,
    };
    return runAllowFailure('git', args, { cwd: repo.gitDir, env, signal: this.signal });
  }

  private async git(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
    const { stdout } = await run('git', args, { cwd, env: { ...this.env, ...extraEnv }, signal: this.signal });
    return stdout;
  }

  /** The repository root and the path of `dir` inside it ('' at the root). */
  async locate(dir: string): Promise<{ root: string; subdir: string }> {
    const abs = resolve(dir);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      throw new DeployError('source', `${abs} is not a directory.`, {
        hint: 'Give the path of a Git repository, or a Git URL.',
      });
    }
    const r = await runAllowFailure('git', ['rev-parse', '--show-toplevel', '--show-prefix'], {
      cwd: abs,
      env: this.env,
      signal: this.signal,
    });
    if (r.code !== 0) {
      throw new DeployError('source', `${abs} is not inside a Git repository.`, {
        hint: 'Run deploy from your app\'s repository, give its path, or run "git init" and commit first.',
      });
    }
    const [root = abs, prefix = ''] = r.stdout.split('\n');
    return { root, subdir: prefix.replace(/\/$/, '') };
  }

  /** The commit a ref names; a clear error when the ref does not exist or the repository has no commits. */
  async resolveCommit(root: string, ref: string): Promise<string> {
    const r = await runAllowFailure(
      'git',
      ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
      { cwd: root, env: this.env, signal: this.signal },
    );
    if (r.code === 0) return r.stdout.trim();
    const any = await runAllowFailure('git', ['rev-list', '-n', '1', '--all'], {
      cwd: root,
      env: this.env,
      signal: this.signal,
    });
    if (any.code === 0 && any.stdout.trim() === '') {
      throw new DeployError('source', `The repository ${root} has no commits yet.`, {
        hint: 'Commit your app first: deploy ships commits, never loose files.',
      });
    }
    throw new DeployError('source', `The ref ${JSON.stringify(ref)} does not exist in ${root}.`, {
      hint: 'Give a branch, tag or commit that exists (git branch -a, git tag), or fetch it first.',
    });
  }

  async isBranch(root: string, ref: string): Promise<boolean> {
    const r = await runAllowFailure('git', ['show-ref', '--verify', '--quiet', `refs/heads/${ref}`], {
      cwd: root,
      env: this.env,
      signal: this.signal,
    });
    return r.code === 0;
  }

  /** The branch HEAD is on, or null when detached or unborn. */
  async currentBranch(root: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['symbolic-ref', '--quiet', '--short', 'HEAD'], {
      cwd: root,
      env: this.env,
      signal: this.signal,
    });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async commitInfo(root: string, commit: string): Promise<CommitInfo> {
    const out = await this.git(root, [
      'log',
      '-1',
      '--no-show-signature',
      '--format=%H%x00%s%x00%an <%ae>%x00%ct',
      commit,
    ]);
    const [sha = commit, subject = '', author = '', time = '0'] = out.trim().split('\0');
    return { commit: sha, subject, author, time: Number(time) * 1000 };
  }

  /**
   * Tracked files under subdir that differ from HEAD (modified, staged, deleted, renamed): changes a commit
   * would not ship. Untracked files are not asked about (--untracked-files=no, which also spares git a walk
   * of every untracked directory): they are not in the commit either, and were never meant to be.
   */
  async uncommitted(root: string, subdir: string): Promise<string[]> {
    const out = await this.git(root, [
      'status',
      '--porcelain=v1',
      '--untracked-files=no',
      '-z',
      '--',
      subdir === '' ? '.' : subdir,
    ]);
    const files: string[] = [];
    const entries = out.split('\0');
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as string;
      if (entry.length <= 3) continue;
      files.push(entry.slice(3));
      // A rename or copy is followed by its old path, as an entry of its own under -z.
      if (entry[0] === 'R' || entry[0] === 'C') i++;
    }
    return files;
  }

  /** Do two commits or trees hold the same content under subdir? (Compares tree ids: one process, no diff.) */
  async sameTree(root: string, a: string, b: string, subdir: string): Promise<boolean> {
    const at = (t: string) => (subdir === '' ? `${t}^{tree}` : `${t}:${subdir}`);
    const r = await runAllowFailure('git', ['rev-parse', '--verify', '--quiet', at(a), at(b)], {
      cwd: root,
      env: this.env,
    });
    const [x, y] = r.stdout.trim().split('\n');
    return r.code === 0 && x !== undefined && x === y;
  }

  /** A file's content at a commit, or null when the commit does not have it. */
  async readAt(root: string, treeish: string, path: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['cat-file', 'blob', `${treeish}:${path}`], {
      cwd: root,
      env: this.env,
      signal: this.signal,
    });
    return r.code === 0 ? r.stdout : null;
  }

  /** Does the tree have this path? */
  async hasPath(root: string, treeish: string, path: string): Promise<boolean> {
    const r = await runAllowFailure('git', ['cat-file', '-e', `${treeish}:${path}`], {
      cwd: root,
      env: this.env,
      signal: this.signal,
    });
    return r.code === 0;
  }

  /**
   * The working tree as a tree object (tracked and untracked, ignored files left out), written through a
   * temporary index so the user's own index is never touched. Used only with --allow-dirty.
   */
  async workingTree(root: string): Promise<string> {
    const dir = join(tmpdir(), `deploy-index-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const index = join(dir, 'index');
    try {
      const gitDir = (await this.git(root, ['rev-parse', '--absolute-git-dir'])).trim();
      if (existsSync(join(gitDir, 'index'))) copyFileSync(join(gitDir, 'index'), index);
      const env = { GIT_INDEX_FILE: index };
      await this.git(root, ['add', '--all', '--', '.'], env);
      return (await this.git(root, ['write-tree'], env)).trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * A tar of `subdir` of a commit or tree, streamed; nothing is held in memory or written to disk.
   *
   * What it holds is the commit's tree, whatever this machine's settings say: git archive drops paths marked
   * `export-ignore` in `.git/info/attributes`, in the user's attributes file (core.attributesFile, by default
   * ~/.config/git/attributes) and in the system's, and rewrites line endings and modes after core.autocrlf,
   * core.eol and tar.umask. So it runs against a throw-away git directory that borrows the repository's objects
   * (no info/attributes, no repository config), with no user or system config and those settings pinned to
   * git's defaults. Attributes committed in `.gitattributes` files inside the archived tree still apply: they
   * are part of the commit. `prefix` is put before every path; `paths` archives only those (literal) paths.
   */
  async archive(
    repo: RepoDir,
    treeish: string,
    subdir: string,
    options: { prefix?: string; paths?: string[] } = {},
  ): Promise<Streamed> {
    const where = await this.at(repo, ['rev-parse', '--git-path', 'objects', '--show-object-format']);
    if (where.code !== 0) throw new ProcessError('git rev-parse', where.code, where.stderr);
    const [objects = '', format = 'sha1'] = where.stdout.trim().split('\n');
    const cwd = 'root' in repo ? repo.root : repo.gitDir;
    const gitDir = mkdtempSync(join(tmpdir(), 'deploy-archive-'));
    const cleanup = () => rmSync(gitDir, { recursive: true, force: true });
    try {
      mkdirSync(join(gitDir, 'objects', 'info'), { recursive: true });
      mkdirSync(join(gitDir, 'refs'));
      writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/none\n');
      writeFileSync(join(gitDir, 'objects', 'info', 'alternates'), `${resolve(cwd, objects)}\n`);
      if (format !== 'sha1')
        writeFileSync(
          join(gitDir, 'config'),
          `[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectFormat = ${format}\n`,
        );
    } catch (error) {
      cleanup();
      throw error;
    }
    const env = {
      ...this.env,
      GIT_DIR: gitDir,
      GIT_WORK_TREE: undefined,
      GIT_COMMON_DIR: undefined,
      GIT_INDEX_FILE: undefined,
      GIT_OBJECT_DIRECTORY: undefined,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: undefined,
      GIT_ATTR_NOSYSTEM: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    };
    const pinned = [
      '-c',
      'core.attributesFile=/dev/null',
      '-c',
      'core.autocrlf=false',
      '-c',
      'core.eol=lf',
      '-c',
      'tar.umask=0002',
    ];
    const prefix = options.prefix ? [`--prefix=${options.prefix}`] : [];
    const paths = options.paths?.length ? ['--', ...options.paths.map((p) => `:(literal)${p}`)] : [];
    const tree = subdir === '' ? treeish : `${treeish}:${subdir}`;
    const streamed = stream('git', [...pinned, 'archive', '--format=tar', ...prefix, tree, ...paths], {
      cwd: gitDir,
      env,
      signal: this.signal,
    });
    return { ...streamed, done: streamed.done.finally(cleanup) };
  }

  /**
   * Clones url as a bare repository at root, or fetches into it when it is there. A URL written in a commit
   * (a submodule's) is fetched under git's rules for submodules: only the transports git allows without the
   * user asking (https, ssh, git, and here local paths and file://, as `-c protocol.file.allow=always` would);
   * never `ext::` or another remote helper a commit could name.
   */
  private async refreshMirror(url: string, root: string, fromCommit = false): Promise<void> {
    const policy = fromCommit ? ['-c', 'protocol.file.allow=always'] : [];
    const env = fromCommit ? { ...this.env, GIT_PROTOCOL_FROM_USER: '0' } : this.env;
    try {
      if (!existsSync(join(root, 'HEAD'))) {
        rmSync(root, { recursive: true, force: true });
        await run('git', [...policy, 'clone', '--bare', '--quiet', '--', url, root], { env, signal: this.signal });
      } else {
        await run(
          'git',
          [
            ...policy,
            'fetch',
            '--quiet',
            '--prune',
            '--force',
            '--',
            url,
            '+refs/heads/*:refs/heads/*',
            '+refs/tags/*:refs/tags/*',
          ],
          { cwd: root, env, signal: this.signal },
        );
        const remoteHead = await runAllowFailure('git', [...policy, 'ls-remote', '--symref', '--', url, 'HEAD'], {
          cwd: root,
          env,
          signal: this.signal,
        });
        const m = /^ref: refs\/heads\/(\S+)\s+HEAD/m.exec(remoteHead.stdout);
        if (m) await this.git(root, ['symbolic-ref', 'HEAD', `refs/heads/${m[1]}`]);
      }
    } catch (error) {
      if (error instanceof ProcessError) {
        const reason = error.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ');
        throw new DeployError(
          'source',
          `Could not fetch ${redactUrl(url)}: ${redactValues(reason || error.message, secretsOf(url))}`,
          {
            hint: 'Check the URL and that you can reach it (git ls-remote URL); private repositories need credentials git can use without a prompt.',
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  /**
   * How far apart two commits are: `ahead` commits reachable from `to` but not `from`, `back` the reverse.
   * null when either commit is not in the repository.
   */
  async commitDistance(root: string, from: string, to: string): Promise<{ ahead: number; back: number } | null> {
    const r = await runAllowFailure(
      'git',
      ['rev-list', '--left-right', '--count', '--end-of-options', `${from}...${to}`],
      { cwd: root, env: this.env },
    );
    if (r.code !== 0) return null;
    const [back = NaN, ahead = NaN] = r.stdout.trim().split(/\s+/).map(Number);
    return Number.isFinite(back) && Number.isFinite(ahead) ? { ahead, back } : null;
  }

  /** The entries of a tree under path (all of it when ''), recursively, with their paths from the tree's root. */
  private async treeEntries(
    repo: RepoDir,
    treeish: string,
    path: string,
  ): Promise<Array<{ type: string; sha: string; path: string }>> {
    const spec = path === '' ? [] : ['--', path];
    const tree = await this.at(repo, ['ls-tree', '-r', '-z', '--full-tree', treeish, ...spec]);
    if (tree.code !== 0) return [];
    return tree.stdout
      .split('\0')
      .filter(Boolean)
      .map((e) => {
        const tab = e.indexOf('\t');
        const [, type = '', sha = ''] = e.slice(0, tab).split(' ');
        return { type, sha, path: e.slice(tab + 1) };
      });
  }

  /** The submodules a tree records under path (gitlinks: a path and a commit), with paths from the tree's root. */
  async gitlinks(repo: RepoDir, treeish: string, path: string): Promise<Gitlink[]> {
    return (await this.treeEntries(repo, treeish, path))
      .filter((e) => e.type === 'commit')
      .map((e) => ({ path: e.path, commit: e.sha }));
  }

  /**
   * Git LFS pointer files under path: `git archive` ships the pointers, not the content. Looked for only when
   * a .gitattributes file in the tree asks for LFS.
   */
  async lfsPointers(root: string, treeish: string, path: string): Promise<string[]> {
    const entries = await this.treeEntries({ root }, treeish, path);
    const attributes = entries.filter(
      (e) => e.type === 'blob' && (e.path === '.gitattributes' || e.path.endsWith('/.gitattributes')),
    );
    for (const a of attributes) {
      const text = await runAllowFailure('git', ['cat-file', 'blob', a.sha], { cwd: root, env: this.env });
      if (!/filter=lfs/.test(text.stdout)) continue;
      const grep = await runAllowFailure(
        'git',
        [
          'grep',
          '-l',
          '-z',
          '-I',
          '-e',
          '^version https://git-lfs.github.com/spec/v1',
          treeish,
          ...(path === '' ? [] : ['--', path]),
        ],
        { cwd: root, env: this.env },
      );
      return grep.stdout
        .split('\0')
        .filter(Boolean)
        .map((p) => p.replace(/^[^:]*:/, ''));
    }
    return [];
  }

  /** The `.gitmodules` of a tree as `git config -z --list` prints it ('' when there is none). */
  async gitmodules(repo: RepoDir, treeish: string): Promise<string> {
    const r = await this.at(repo, ['config', '-z', '--blob', `${treeish}:.gitmodules`, '--list']);
    return r.code === 0 ? r.stdout : '';
  }

  /** A repository's git directory (per working tree) and common directory, absolute; null when dir is not in one. */
  async gitDirs(repo: RepoDir): Promise<{ gitDir: string; commonDir: string } | null> {
    const r = await this.at(repo, ['rev-parse', '--absolute-git-dir', '--git-common-dir']);
    if (r.code !== 0) return null;
    const [gitDir = '', common = ''] = r.stdout.trim().split('\n');
    return { gitDir, commonDir: resolve('root' in repo ? repo.root : repo.gitDir, common) };
  }

  /** Does the repository have this commit (without fetching anything to find out)? */
  async hasCommit(repo: RepoDir, commit: string): Promise<boolean> {
    const r = await this.at(repo, ['cat-file', '-e', `${commit}^{commit}`], { GIT_NO_LAZY_FETCH: '1' });
    return r.code === 0;
  }

  /** The URL of the repository's default remote (its branch's remote, else origin), or null when it has none. */
  async remoteUrl(repo: RepoDir): Promise<string | null> {
    const branch = await this.at(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    const configured =
      branch.code === 0 ? await this.at(repo, ['config', '--get', `branch.${branch.stdout.trim()}.remote`]) : null;
    const remote = configured?.code === 0 ? configured.stdout.trim() : 'origin';
    const url = await this.at(repo, ['config', '--get', `remote.${remote}.url`]);
    return url.code === 0 && url.stdout.trim() !== '' ? url.stdout.trim() : null;
  }

  /**
   * A submodule's commit, fetched from url into the same cache as the clones of Git URLs: the git directory of
   * that clone when it has the commit after fetching its branches and tags (and the commit itself, for servers
   * that hand out any commit they have, as `git submodule update` asks), else null. Throws the fetch's failure.
   */
  async fetchCommit(url: string, commit: string): Promise<string | null> {
    const root = mirrorRoot(url, this.cacheDir);
    const has = () => this.hasCommit({ gitDir: root }, commit);
    if (existsSync(join(root, 'HEAD')) && (await has())) return root;
    await this.withMirrorLock(url, root, async () => {
      await this.refreshMirror(url, root, true);
      if (await has()) return;
      await runAllowFailure('git', ['-c', 'protocol.file.allow=always', 'fetch', '--quiet', '--', url, commit], {
        cwd: root,
        env: { ...this.env, GIT_PROTOCOL_FROM_USER: '0' },
        signal: this.signal,
      });
    });
    return (await has()) ? root : null;
  }

  async userEmail(root: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['config', '--get', 'user.email'], {
      cwd: root,
      env: this.env,
      signal: this.signal,
    });
    return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
  }

  /** Runs fn while holding the lock of url's clone: two deploys from one URL at once take turns with it. */
  private async withMirrorLock(url: string, root: string, fn: () => Promise<void>): Promise<void> {
    mkdirSync(dirname(root), { recursive: true, mode: 0o700 });
    await withFileLock(`${root}.lock`, 120_000, fn).catch((error: unknown) => {
      if (!(error instanceof FileLockTimeout)) throw error;
      throw new DeployError(
        'source',
        `Another deploy has been fetching ${redactUrl(url)} for two minutes; gave up waiting.`,
        { hint: 'Try again when it is done.', cause: error },
      );
    });
  }

  /**
   * A bare clone of url under cacheDir, cloned on first use and fetched on every later one. Returns its path
   * and the remote's default branch.
   */
  async mirror(url: string, cacheDir: string): Promise<{ root: string; defaultBranch: string }> {
    const root = mirrorRoot(url, cacheDir);
    await this.withMirrorLock(url, root, () => this.refreshMirror(url, root));
    const branch = await this.currentBranch(root);
    if (!branch) throw new DeployError('source', `${redactUrl(url)} has no default branch.`, { hint: 'Give --ref.' });
    return { root, defaultBranch: branch };
  }
}

/** The credentials inside a URL (user and password), so messages quoting git's output can mask them. */
function secretsOf(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.password, u.username].filter((x) => x.length >= 4).map(decodeURIComponent);
  } catch {
    return [];
  }
}
