import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeployError } from '../core/errors.js';
import { redactUrl, redactValues } from '../core/redact.js';
import { FileLockTimeout, withFileLock } from './file-lock.js';
import { ProcessError, run, runAllowFailure, stream, type Streamed } from './process.js';

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

/** Git, run as a program: the tool's only way into repositories. */
/** Where the bare clone of a Git URL is kept (whether or not it has been made yet). */
export function mirrorRoot(url: string, cacheDir: string): string {
  return join(cacheDir, 'repos', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

export class Git {
  private readonly env: Record<string, string | undefined>;
  /** Ends every git still running when aborted (Ctrl-C): a clone or an archive cut short stops. */
  private readonly signal: AbortSignal | undefined;

  constructor(env: Record<string, string | undefined>, signal?: AbortSignal) {
    this.signal = signal;
    // Never prompt for credentials (a CI job would hang); keep messages in English so they can be matched.
    this.env = { ...env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', LANGUAGE: 'C' };
  }

  private async git(cwd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
    const { stdout } = await run('git', args, { cwd, env: { ...this.env, ...extraEnv }, signal: this.signal });
    return stdout;
  }

  /** The repository root and the path of `dir` inside it ('' at the root). */
  async locate(dir: string): Promise<{ root: string; subdir: string }> {
    const abs = resolve(dir);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      throw new DeployError('source', `${abs} is not a directory.`, { hint: 'Give the path of a Git repository, or a Git URL.' });
    }
    const r = await runAllowFailure('git', ['rev-parse', '--show-toplevel', '--show-prefix'], { cwd: abs, env: this.env, signal: this.signal });
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
    const r = await runAllowFailure('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { cwd: root, env: this.env, signal: this.signal });
    if (r.code === 0) return r.stdout.trim();
    const any = await runAllowFailure('git', ['rev-list', '-n', '1', '--all'], { cwd: root, env: this.env, signal: this.signal });
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
    const r = await runAllowFailure('git', ['show-ref', '--verify', '--quiet', `refs/heads/${ref}`], { cwd: root, env: this.env, signal: this.signal });
    return r.code === 0;
  }

  /** The branch HEAD is on, or null when detached or unborn. */
  async currentBranch(root: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: root, env: this.env, signal: this.signal });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async commitInfo(root: string, commit: string): Promise<CommitInfo> {
    const out = await this.git(root, ['log', '-1', '--no-show-signature', '--format=%H%x00%s%x00%an <%ae>%x00%ct', commit]);
    const [sha = commit, subject = '', author = '', time = '0'] = out.trim().split('\0');
    return { commit: sha, subject, author, time: Number(time) * 1000 };
  }

  /**
   * Tracked files under subdir that differ from HEAD (modified, staged, deleted, renamed): changes a commit
   * would not ship. Untracked files are not asked about (--untracked-files=no, which also spares git a walk
   * of every untracked directory): they are not in the commit either, and were never meant to be.
   */
  async uncommitted(root: string, subdir: string): Promise<string[]> {
    const out = await this.git(root, ['status', '--porcelain=v1', '--untracked-files=no', '-z', '--', subdir === '' ? '.' : subdir]);
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
    const r = await runAllowFailure('git', ['rev-parse', '--verify', '--quiet', at(a), at(b)], { cwd: root, env: this.env });
    const [x, y] = r.stdout.trim().split('\n');
    return r.code === 0 && x !== undefined && x === y;
  }

  /** A file's content at a commit, or null when the commit does not have it. */
  async readAt(root: string, treeish: string, path: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['cat-file', 'blob', `${treeish}:${path}`], { cwd: root, env: this.env, signal: this.signal });
    return r.code === 0 ? r.stdout : null;
  }

  /** Does the tree have this path? */
  async hasPath(root: string, treeish: string, path: string): Promise<boolean> {
    const r = await runAllowFailure('git', ['cat-file', '-e', `${treeish}:${path}`], { cwd: root, env: this.env, signal: this.signal });
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
   * are part of the commit.
   */
  async archive(root: string, treeish: string, subdir: string): Promise<Streamed> {
    const [objects = '', format = 'sha1'] = (await this.git(root, ['rev-parse', '--git-path', 'objects', '--show-object-format'])).trim().split('\n');
    const gitDir = mkdtempSync(join(tmpdir(), 'deploy-archive-'));
    const cleanup = () => rmSync(gitDir, { recursive: true, force: true });
    try {
      mkdirSync(join(gitDir, 'objects', 'info'), { recursive: true });
      mkdirSync(join(gitDir, 'refs'));
      writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/none\n');
      writeFileSync(join(gitDir, 'objects', 'info', 'alternates'), `${resolve(root, objects)}\n`);
      if (format !== 'sha1') writeFileSync(join(gitDir, 'config'), `[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectFormat = ${format}\n`);
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
    const pinned = ['-c', 'core.attributesFile=/dev/null', '-c', 'core.autocrlf=false', '-c', 'core.eol=lf', '-c', 'tar.umask=0002'];
    const streamed = stream('git', [...pinned, 'archive', '--format=tar', subdir === '' ? treeish : `${treeish}:${subdir}`], { cwd: gitDir, env, signal: this.signal });
    return { ...streamed, done: streamed.done.finally(cleanup) };
  }

  /** Clones url as a bare repository at root, or fetches into it when it is there. */
  private async refreshMirror(url: string, root: string): Promise<void> {
    try {
      if (!existsSync(join(root, 'HEAD'))) {
        rmSync(root, { recursive: true, force: true });
        await run('git', ['clone', '--bare', '--quiet', '--', url, root], { env: this.env, signal: this.signal });
      } else {
        await this.git(root, ['fetch', '--quiet', '--prune', '--force', '--', url, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']);
        const remoteHead = await runAllowFailure('git', ['ls-remote', '--symref', '--', url, 'HEAD'], { cwd: root, env: this.env, signal: this.signal });
        const m = /^ref: refs\/heads\/(\S+)\s+HEAD/m.exec(remoteHead.stdout);
        if (m) await this.git(root, ['symbolic-ref', 'HEAD', `refs/heads/${m[1]}`]);
      }
    } catch (error) {
      if (error instanceof ProcessError) {
        const reason = error.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ');
        throw new DeployError('source', `Could not fetch ${redactUrl(url)}: ${redactValues(reason || error.message, secretsOf(url))}`, {
          hint: 'Check the URL and that you can reach it (git ls-remote URL); private repositories need credentials git can use without a prompt.',
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * How far apart two commits are: `ahead` commits reachable from `to` but not `from`, `back` the reverse.
   * null when either commit is not in the repository.
   */
  async commitDistance(root: string, from: string, to: string): Promise<{ ahead: number; back: number } | null> {
    const r = await runAllowFailure('git', ['rev-list', '--left-right', '--count', '--end-of-options', `${from}...${to}`], { cwd: root, env: this.env });
    if (r.code !== 0) return null;
    const [back = NaN, ahead = NaN] = r.stdout.trim().split(/\s+/).map(Number);
    return Number.isFinite(back) && Number.isFinite(ahead) ? { ahead, back } : null;
  }

  /**
   * What `git archive` of the tree cannot ship as the app means it: submodules (archived as empty directories)
   * and Git LFS pointer files (archived as pointers, not the content). LFS is looked for only when a
   * .gitattributes file in the tree asks for it.
   */
  async unshippable(root: string, treeish: string, path: string): Promise<{ submodules: string[]; lfs: string[] }> {
    const spec = path === '' ? [] : ['--', path];
    const tree = await runAllowFailure('git', ['ls-tree', '-r', '-z', '--full-tree', treeish, ...spec], { cwd: root, env: this.env });
    if (tree.code !== 0) return { submodules: [], lfs: [] };
    const entries = tree.stdout.split('\0').filter(Boolean).map((e) => {
      const tab = e.indexOf('\t');
      const [, type = '', sha = ''] = e.slice(0, tab).split(' ');
      return { type, sha, path: e.slice(tab + 1) };
    });
    const submodules = entries.filter((e) => e.type === 'commit').map((e) => e.path);
    let lfs: string[] = [];
    const attributes = entries.filter((e) => e.type === 'blob' && (e.path === '.gitattributes' || e.path.endsWith('/.gitattributes')));
    for (const a of attributes) {
      const text = await runAllowFailure('git', ['cat-file', 'blob', a.sha], { cwd: root, env: this.env });
      if (!/filter=lfs/.test(text.stdout)) continue;
      const grep = await runAllowFailure('git', ['grep', '-l', '-z', '-I', '-e', '^version https://git-lfs.github.com/spec/v1', treeish, ...(path === '' ? [] : ['--', path])], { cwd: root, env: this.env });
      lfs = grep.stdout.split('\0').filter(Boolean).map((p) => p.replace(/^[^:]*:/, ''));
      break;
    }
    return { submodules, lfs };
  }

  async userEmail(root: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['config', '--get', 'user.email'], { cwd: root, env: this.env, signal: this.signal });
    return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
  }

  /**
   * A bare clone of url under cacheDir, cloned on first use and fetched on every later one. Returns its path
   * and the remote's default branch.
   */
  async mirror(url: string, cacheDir: string): Promise<{ root: string; defaultBranch: string }> {
    const root = mirrorRoot(url, cacheDir);
    mkdirSync(join(cacheDir, 'repos'), { recursive: true, mode: 0o700 });
    // Two deploys from the same URL at once (two apps of one repository) take turns with the clone.
    await withFileLock(`${root}.lock`, 120_000, () => this.refreshMirror(url, root)).catch((error: unknown) => {
      if (!(error instanceof FileLockTimeout)) throw error;
      throw new DeployError('source', `Another deploy has been fetching ${redactUrl(url)} for two minutes; gave up waiting.`, { hint: 'Try again when it is done.', cause: error });
    });
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
