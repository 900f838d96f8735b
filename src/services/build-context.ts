import { existsSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Git, RepoDir } from '../adapters/git.js';
import type { Streamed } from '../adapters/process.js';
import { tarFilter } from '../adapters/tar-filter.js';
import { ContextFilter, DockerignoreError, readDockerignore } from '../core/dockerignore.js';
import { DeployError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { isLocalPathUrl, isSafeModuleName, parseGitmodules, resolveSubmoduleUrl } from '../core/submodules.js';
import { TarFilter, type TarEntry } from '../core/tar.js';

/**
 * The build context: the commit's tree under the context directory, with the tree of each submodule in it at
 * the commit the superproject records (as `git clone --recurse-submodules` checks it out), filtered by the
 * .dockerignore in effect, as one tar stream.
 */

export interface ContextSource {
  root: string;
  treeish: string;
  subdir: string;
}

/** The context directory's path in the repository ('' at its root). */
export function contextPathOf(src: ContextSource, context: string): string {
  return posix.join(src.subdir, context).replace(/^\.$/, '');
}

export interface IgnoreFile {
  file: string;
  patterns: string[];
  /** Why docker would refuse the patterns (the build then fails with it). */
  error?: string;
}

/**
 * The .dockerignore in effect for a build, as docker reads it: `<Dockerfile>.dockerignore` beside the Dockerfile
 * when the commit has one (BuildKit's rule), else `.dockerignore` at the context's root. Null when neither is
 * there; `error` when docker would refuse its patterns.
 */
export async function readIgnoreFile(
  git: Git,
  src: ContextSource,
  contextPath: string,
  dockerfile: string,
): Promise<IgnoreFile | null> {
  for (const name of [`${posix.normalize(dockerfile)}.dockerignore`, '.dockerignore']) {
    const path = posix.join(contextPath, name);
    const text = await git.readAt(src.root, src.treeish, path);
    if (text === null) continue;
    const patterns = readDockerignore(text);
    try {
      new ContextFilter(patterns, dockerfile);
      return { file: path, patterns };
    } catch (error) {
      if (error instanceof DockerignoreError) return { file: path, patterns, error: error.message };
      throw error;
    }
  }
  return null;
}

/** A submodule whose tree goes into the context. */
export interface SubmoduleTree {
  /** Where its files go, relative to the context. */
  path: string;
  /** Its path from the top of the repository being deployed (nested ones through their superprojects). */
  repoPath: string;
  commit: string;
  /** A git directory that has the commit: the local checkout's, or a clone in the cache. */
  gitDir: string;
}

/** One repository of the tree being walked: the one deployed, or a submodule. */
interface Level {
  repo: RepoDir;
  /** Where its submodules' git directories live (`modules/NAME` below them), when it has a git directory. */
  dirs: { gitDir: string; commonDir: string } | null;
  /** Its checkout, where its submodules' own checkouts are. */
  worktree: string | null;
  treeish: string;
  /** The part of its tree that is in the context ('' for all of it). */
  treePath: string;
  /** Where that part is in the context. */
  contextPrefix: string;
  /** Its path from the top repository. */
  repoPrefix: string;
  /** What a relative URL in its .gitmodules is resolved against. */
  baseUrl: string;
}

/** The paths of entries (directories without their trailing '/') that an archive of just `paths` holds. */
async function archivedPaths(git: Git, level: Level, paths: string[]): Promise<Set<string>> {
  const streamed = await git.archive(level.repo, level.treeish, level.treePath, { paths });
  const seen = new Set<string>();
  const lister = new TarFilter((entry) => {
    seen.add(entry.path.replace(/\/+$/, ''));
    return false;
  });
  const read = async () => {
    for await (const chunk of streamed.stdout) lister.push(chunk as Buffer);
    lister.end();
  };
  // Awaited together, so that a failure of either is never left unhandled.
  await Promise.all([streamed.done, read()]);
  return seen;
}

const short = (commit: string) => commit.slice(0, 7);

/**
 * Every submodule whose files the context holds, recursively (submodules of submodules), each with a git
 * directory that has its commit: the local repository's (`.git/modules/NAME`, or the submodule's checkout) when
 * it has the commit, else a clone in the cache of the URL the commit's `.gitmodules` gives (a relative URL
 * resolved against the superproject's remote, as git does), fetched as needed. Left out: a submodule that a
 * committed `export-ignore` drops (as `git archive` drops its directory) or that the .dockerignore excludes with
 * all it holds. Throws a DeployError ('source') naming the submodule when its commit is nowhere to be had.
 */
export async function resolveSubmodules(
  git: Git,
  src: ContextSource,
  contextPath: string,
  filter: ContextFilter | null,
): Promise<SubmoduleTree[]> {
  const top: RepoDir = { root: src.root };
  const links = await git.gitlinks(top, src.treeish, contextPath);
  if (links.length === 0) return [];
  const dirs = await git.gitDirs(top);
  // A bare repository (the cache's clone of a URL) is its own git directory and has no checkout.
  const worktree = dirs && resolve(dirs.gitDir) !== resolve(src.root) ? src.root : null;
  const remote = await git.remoteUrl(top);
  // With no remote, git resolves relative URLs against the superproject's own directory.
  const baseUrl =
    remote === null ? src.root : isLocalPathUrl(remote) && !isAbsolute(remote) ? resolve(src.root, remote) : remote;
  const found: SubmoduleTree[] = [];
  await walk(
    git,
    {
      repo: top,
      dirs,
      worktree,
      treeish: src.treeish,
      treePath: contextPath,
      contextPrefix: '',
      repoPrefix: '',
      baseUrl,
    },
    links,
    filter,
    found,
    src.root,
  );
  return found;
}

async function walk(
  git: Git,
  level: Level,
  links: Array<{ path: string; commit: string }>,
  filter: ContextFilter | null,
  found: SubmoduleTree[],
  top: string,
): Promise<void> {
  const inTree = (path: string) => (level.treePath === '' ? path : path.slice(level.treePath.length + 1));
  const exported = await archivedPaths(
    git,
    level,
    links.map((l) => inTree(l.path)),
  );
  const modules = parseGitmodules(await git.gitmodules(level.repo, level.treeish));
  for (const link of links) {
    const rel = inTree(link.path);
    const path = posix.join(level.contextPrefix, rel);
    if (!exported.has(rel) || (filter && !filter.walks(path))) continue;
    const repoPath = posix.join(level.repoPrefix, link.path);
    const entry = modules.get(link.path);
    const resolved = entry?.url ? resolveSubmoduleUrl(entry.url, level.baseUrl) : null;
    const url =
      resolved !== null && isLocalPathUrl(resolved) && !isAbsolute(resolved) ? resolve(top, resolved) : resolved;

    const checkout = level.worktree !== null ? join(level.worktree, link.path) : null;
    const checkoutDirs =
      checkout !== null && existsSync(join(checkout, '.git')) ? await git.gitDirs({ root: checkout }) : null;
    const candidates = new Set<string>();
    if (entry && isSafeModuleName(entry.name) && level.dirs) {
      candidates.add(join(level.dirs.gitDir, 'modules', entry.name));
      candidates.add(join(level.dirs.commonDir, 'modules', entry.name));
    }
    if (checkoutDirs) candidates.add(checkoutDirs.gitDir);
    let gitDir: string | null = null;
    for (const candidate of candidates) {
      if (existsSync(candidate) && (await git.hasCommit({ gitDir: candidate }, link.commit))) {
        gitDir = candidate;
        break;
      }
    }
    let worktree = checkoutDirs ? checkout : null;
    if (gitDir === null) {
      gitDir = await fetchSubmodule(git, repoPath, link.commit, entry?.url ?? null, url);
      worktree = null;
    }
    found.push({ path, repoPath, commit: link.commit, gitDir });

    const repo: RepoDir = { gitDir };
    const inner = await git.gitlinks(repo, link.commit, '');
    if (inner.length === 0) continue;
    const baseUrl = url ?? (await git.remoteUrl(repo)) ?? gitDir;
    const next: Level = {
      repo,
      dirs: await git.gitDirs(repo),
      worktree,
      treeish: link.commit,
      treePath: '',
      contextPrefix: path,
      repoPrefix: repoPath,
      baseUrl,
    };
    await walk(git, next, inner, filter, found, top);
  }
}

/** A submodule's commit from its URL, into the cache; or a refusal that names the submodule and what to do. */
async function fetchSubmodule(
  git: Git,
  repoPath: string,
  commit: string,
  written: string | null,
  url: string | null,
): Promise<string> {
  const checkOut = 'git submodule update --init --recursive';
  if (url === null) {
    const why =
      written === null
        ? "the commit's .gitmodules gives no URL for it"
        : `its URL in .gitmodules (${redactUrl(written)}) cannot be resolved against the superproject's remote`;
    throw new DeployError(
      'source',
      `The submodule ${repoPath} is at commit ${short(commit)}, which this repository's checkout does not have, and ${why}.`,
      {
        hint: `Check it out where you deploy from (${checkOut}), or give it a URL in .gitmodules (git submodule add URL ${repoPath}) and commit that.`,
        details: { submodule: repoPath, commit, url: written },
      },
    );
  }
  let gitDir: string | null;
  try {
    gitDir = await git.fetchCommit(url, commit);
  } catch (error) {
    if (!(error instanceof DeployError) || error.code !== 'source') throw error;
    throw new DeployError(
      'source',
      `The submodule ${repoPath} is at commit ${short(commit)}, which this repository's checkout does not have. ${error.message}`,
      {
        hint: `Check it out where you deploy from (${checkOut}), or check its URL in .gitmodules and that you can reach it.`,
        details: { submodule: repoPath, commit, url: redactUrl(url) },
        cause: error,
      },
    );
  }
  if (gitDir === null) {
    throw new DeployError(
      'source',
      `The submodule ${repoPath} is at commit ${short(commit)}, which neither this repository's checkout nor ${redactUrl(url)} has.`,
      {
        hint: `Push commit ${short(commit)} of ${repoPath} to ${redactUrl(url)} (or commit the superproject with a submodule commit that was pushed), then deploy again.`,
        details: { submodule: repoPath, commit, url: redactUrl(url) },
      },
    );
  }
  return gitDir;
}

/**
 * The build context as one tar stream: the archive of the context directory, then each submodule's tree
 * archived under its path, each filtered by the .dockerignore (one filter for all, paths relative to the
 * context) and stripped of its end-of-archive blocks, which come once at the end. With neither submodules nor a
 * .dockerignore it is the archive itself, untouched.
 */
export async function contextArchive(
  git: Git,
  src: ContextSource,
  contextPath: string,
  submodules: SubmoduleTree[],
  ignore: { patterns: string[] } | null,
  dockerfile: string,
): Promise<Streamed> {
  const top = () => git.archive({ root: src.root }, src.treeish, contextPath);
  if (submodules.length === 0 && !ignore) return top();
  // Built afresh for each archive: it remembers the directories it has seen.
  const filter = ignore ? new ContextFilter(ignore.patterns, dockerfile) : null;
  const sent = (entry: TarEntry) => !filter || filter.includes(entry.path, entry.type === '5');
  const parts = [
    { open: top, keep: sent },
    ...submodules.map((s) => ({
      // A tree, not the commit: no second global header naming a commit.
      open: () => git.archive({ gitDir: s.gitDir }, `${s.commit}^{tree}`, '', { prefix: `${s.path}/` }),
      // Its directory is already there, as the superproject's archive holds it.
      keep: (entry: TarEntry) => entry.path.replace(/\/+$/, '') !== s.path && sent(entry),
    })),
  ];
  const out = new PassThrough();
  let current: Streamed | null = null;
  let killed = false;
  const done = (async () => {
    for (const part of parts) {
      if (killed) throw new Error('the build context was cut short');
      const streamed = await part.open();
      current = streamed;
      await Promise.all([
        pipeline(streamed.stdout, tarFilter(part.keep, { dropEnd: true }), out, { end: false }),
        streamed.done,
      ]);
    }
    out.end(Buffer.alloc(1024));
  })();
  done.catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return {
    stdout: out,
    done,
    kill: () => {
      killed = true;
      current?.kill();
    },
  };
}
