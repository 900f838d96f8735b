import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
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

  /** Changed, deleted and untracked (not ignored) files under subdir: what a commit would not ship. */
  async uncommitted(root: string, subdir: string): Promise<string[]> {
    const out = await this.git(root, ['status', '--porcelain=v1', '--untracked-files=all', '-z', '--', subdir === '' ? '.' : subdir]);
    return out
      .split('\0')
      .filter((entry) => entry.length > 3)
      .map((entry) => entry.slice(3));
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

  /** A tar of `subdir` of a commit or tree, streamed; nothing is held in memory or written to disk. */
  archive(root: string, treeish: string, subdir: string): Streamed {
    return stream('git', ['archive', '--format=tar', subdir === '' ? treeish : `${treeish}:${subdir}`], { cwd: root, env: this.env, signal: this.signal });
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

  async userEmail(root: string): Promise<string | null> {
    const r = await runAllowFailure('git', ['config', '--get', 'user.email'], { cwd: root, env: this.env, signal: this.signal });
    return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
  }

  /**
   * A bare clone of url under cacheDir, cloned on first use and fetched on every later one. Returns its path
   * and the remote's default branch.
   */
  async mirror(url: string, cacheDir: string): Promise<{ root: string; defaultBranch: string }> {
    const root = join(cacheDir, 'repos', createHash('sha256').update(url).digest('hex').slice(0, 16));
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
