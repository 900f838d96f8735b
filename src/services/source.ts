import { stageNames } from '../core/dockerfile.js';
import { posix, resolve } from 'node:path';
import type { Git } from '../adapters/git.js';
import { isGitUrl } from '../adapters/git.js';
import { ContextFilter } from '../core/dockerignore.js';
import { DeployError } from '../core/errors.js';
import { appNameFrom } from '../core/ids.js';
import { JsonSyntaxError, parseJsonWithPositions } from '../core/json-source.js';
import { redactUrl } from '../core/redact.js';
import { validateSettings, type Settings } from '../core/settings.js';
import type { DeployConfig, SourceInfo } from '../core/types.js';
import type { Context } from '../context.js';
import { contextPathOf, readIgnoreFile, resolveSubmodules } from './build-context.js';

export const PROJECT_FILE = 'deploy.json';
/** deploy.json holds a few settings; anything near this size is a mistake (a generated file, a wrong path). */
export const PROJECT_FILE_LIMIT = 256 * 1024;

export interface SourceRequest {
  source?: string | undefined;
  app?: string | undefined;
  ref?: string | undefined;
  allowDirty?: boolean | undefined;
}

/** A commit (or, with --allow-dirty, a working tree) ready to be archived. */
export interface ResolvedSource extends SourceInfo {
  /** The repository to run git in: the user's own, or a bare mirror of a URL. */
  root: string;
  /** What `git archive` reads: the commit, or the working tree's tree id. */
  treeish: string;
  /** Where the app's code comes from, as remembered for `deploy deploy --app NAME` (credentials kept). */
  origin: { source: string; subdir: string; ref: string };
  /** A name for the app when neither --app nor deploy.json gives one. */
  suggestedName: string | null;
}

/**
 * Finds what to ship: SOURCE (a path or a Git URL), else the app's remembered source, else the current
 * directory; the ref given, else the remembered one, else HEAD (path) or the default branch (URL).
 */
export async function resolveSource(ctx: Context, git: Git, req: SourceRequest): Promise<ResolvedSource> {
  let given = req.source;
  let ref = req.ref;
  let subdir: string | undefined;
  const app = req.app !== undefined ? ctx.store().getApp(req.app) : null;
  // A branch is remembered for the next `deploy deploy --app NAME`; a tag or SHA is a one-off.
  const remember = async (root: string, refName: string, fallback: string) =>
    (await git.isBranch(root, refName)) ? refName : (app?.ref ?? fallback);
  if (given === undefined && app) {
    if (app.source) {
      given = app.source;
      subdir = app.subdir;
      ref ??= app.ref ?? undefined;
    }
  }
  if (given === undefined && req.app !== undefined && !app?.source) {
    // Nothing remembered for this app: the current directory must be its repository.
    try {
      await git.locate(ctx.cwd);
    } catch {
      throw new DeployError(
        'source',
        `There is no app named ${req.app} with a remembered source, and ${ctx.cwd} is not a Git repository.`,
        {
          hint: `Deploy it once from its repository (deploy deploy PATH --app ${req.app}), or give its path or Git URL.`,
        },
      );
    }
  }
  given ??= ctx.cwd;
  if (req.allowDirty && req.ref !== undefined) {
    throw new DeployError('usage', '--allow-dirty ships the working tree, so it cannot be combined with --ref.', {
      hint: 'Drop --ref to ship the working tree, or drop --allow-dirty to ship the commit --ref names.',
    });
  }

  if (isGitUrl(given)) {
    const url = given;
    const { root, defaultBranch } = await git.mirror(url, ctx.paths.cacheDir);
    const refName = ref ?? defaultBranch;
    const commit = await git.resolveCommit(root, refName);
    const dir = subdir ?? '';
    const info = await git.commitInfo(root, commit);
    const lastPart = url.replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
    return {
      root,
      treeish: commit,
      source: redactUrl(url),
      subdir: dir,
      ref: refName,
      ...commitFields(commit, info),
      dirty: false,
      origin: { source: url, subdir: dir, ref: await remember(root, refName, defaultBranch) },
      suggestedName: appNameFrom(dir ? posix.basename(dir) : lastPart),
    };
  }

  const path = resolve(ctx.cwd, given);
  const located = await git.locate(subdir !== undefined ? resolve(path, subdir) : path);
  const { root } = located;
  const dir = located.subdir;
  // Independent questions to git, asked at once (each is a process).
  const [head, branch, asked, status] = await Promise.all([
    git.resolveCommit(root, 'HEAD'),
    git.currentBranch(root),
    ref === undefined ? Promise.resolve(null) : git.resolveCommit(root, ref),
    git.uncommitted(root, dir),
  ]);
  const refName = ref ?? branch ?? 'HEAD';
  const commit = asked ?? head;
  let treeish = commit;
  let dirty = false;
  if (commit === head) {
    const changes = status;
    if (changes.length > 0 && !req.allowDirty) {
      const list = changes.slice(0, 5).join(', ') + (changes.length > 5 ? ` and ${changes.length - 5} more` : '');
      throw new DeployError(
        'source',
        `${root}${dir ? `/${dir}` : ''} has uncommitted changes to tracked files (${list}); deploy ships commits, and these would not be in it.`,
        {
          hint: 'Commit (or stash) them first, or pass --allow-dirty to ship the working tree as it is, untracked files included (the record is marked dirty).',
          details: { files: changes },
        },
      );
    }
    if (req.allowDirty) {
      // The working tree as it is, untracked (not ignored) files included: what `docker build .` would see.
      // It is dirty when it differs from the commit at all, untracked files counted.
      treeish = await git.workingTree(root);
      dirty = changes.length > 0 || !(await git.sameTree(root, commit, treeish, dir));
    }
  }
  const [info, remembered] = await Promise.all([
    git.commitInfo(root, commit),
    remember(root, refName, branch ?? 'HEAD'),
  ]);
  return {
    root,
    treeish,
    source: root,
    subdir: dir,
    ref: refName,
    ...commitFields(commit, info),
    dirty,
    origin: { source: root, subdir: dir, ref: remembered },
    suggestedName: appNameFrom(posix.basename(dir || root)),
  };
}

/** Reads and validates deploy.json from the commit being shipped; {} when there is none. */
export async function readProjectSettings(
  git: Git,
  src: Pick<ResolvedSource, 'root' | 'treeish' | 'subdir'>,
): Promise<Settings> {
  const path = src.subdir ? `${src.subdir}/${PROJECT_FILE}` : PROJECT_FILE;
  const text = await git.readAt(src.root, src.treeish, path);
  if (text === null) return {};
  const size = Buffer.byteLength(text);
  if (size > PROJECT_FILE_LIMIT) {
    throw new DeployError(
      'config',
      `${path} is ${formatBytes(size)}, larger than the ${formatBytes(PROJECT_FILE_LIMIT)} a ${PROJECT_FILE} may be.`,
      {
        hint: `${PROJECT_FILE} holds the app's settings only; keep large data in other files of the repository.`,
        details: { file: path, bytes: size, limit: PROJECT_FILE_LIMIT },
      },
    );
  }
  let parsed;
  try {
    parsed = parseJsonWithPositions(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw new DeployError('config', `${path}:${error.position.line}:${error.position.column}: ${error.message}.`, {
        hint: `Fix the JSON in ${path} and commit it.`,
        details: { file: path, line: error.position.line, column: error.position.column },
      });
    }
    throw error;
  }
  return validateSettings(parsed.value, path, parsed.positions);
}

/** "300 KiB", "1.2 MiB": a size as a person reads it. */
function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Refuses early, before anything is recorded, a commit that cannot be built as configured: no Dockerfile where
 * the config says, or a submodule in the build context whose commit is nowhere to be had (it is fetched into the
 * cache now when only its URL has it, so the build finds it there).
 */
export async function assertBuildable(
  git: Git,
  src: ResolvedSource,
  config: Pick<DeployConfig, 'context' | 'dockerfile' | 'buildTarget'>,
): Promise<void> {
  const { context, dockerfile } = config;
  const path = posix.normalize(posix.join(src.subdir, context, dockerfile));
  const text = await git.readAt(src.root, src.treeish, path);
  if (text === null) {
    throw new DeployError(
      'config',
      `There is no ${path} in ${src.dirty ? 'the working tree' : `commit ${src.commit.slice(0, 7)}`} of ${src.source}.`,
      {
        hint: `Add a Dockerfile there and commit it, or point "dockerfile" in ${PROJECT_FILE} at yours.`,
      },
    );
  }
  const target = config.buildTarget ?? null;
  if (target !== null && !stageNames(text).includes(target.toLowerCase())) {
    const names = stageNames(text);
    throw new DeployError(
      'config',
      `${path} has no stage named ${target}${names.length > 0 ? ` (its stages: ${names.join(', ')})` : ' (its stages have no names)'}.`,
      {
        hint: 'Give --target (or buildTarget) the name after AS in one of its FROM lines, or leave it out to build the last stage.',
      },
    );
  }
  const contextPath = contextPathOf(src, context);
  const ignore = await readIgnoreFile(git, src, contextPath, dockerfile);
  // A .dockerignore docker would refuse fails the build with docker's own complaint.
  if (ignore?.error) return;
  await resolveSubmodules(git, src, contextPath, ignore ? new ContextFilter(ignore.patterns, dockerfile) : null);
}

/**
 * The app the current directory's repository is for, known to this store or not: the "app" of its
 * deploy.json at HEAD, else the directory's name; null outside a repository.
 */
export async function appOfDirectory(ctx: Context): Promise<string | null> {
  const git = await ctx.git();
  try {
    const { root, subdir } = await git.locate(ctx.cwd);
    const project = await readProjectSettings(git, { root, treeish: 'HEAD', subdir });
    return project.app ?? appNameFrom(posix.basename(subdir || root));
  } catch {
    return null;
  }
}

/**
 * The app the current directory belongs to, for commands run inside its repository without --app: the
 * "app" of its deploy.json at HEAD, else the directory's name, if the store knows an app of that name.
 */
export async function appFromDirectory(ctx: Context): Promise<string | null> {
  const name = await appOfDirectory(ctx);
  return name && ctx.store().getApp(name) ? name : null;
}

/** A source's fields that describe its commit. */
function commitFields(
  commit: string,
  info: { subject: string; author: string; time: number | null },
): Pick<SourceInfo, 'commit' | 'commitSubject' | 'commitAuthor' | 'commitTime'> {
  return { commit, commitSubject: info.subject, commitAuthor: info.author, commitTime: info.time };
}
