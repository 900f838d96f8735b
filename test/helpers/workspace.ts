import { afterAll, beforeAll } from 'vitest';
import { cli, tempHome, type CliResult } from './cli.js';
import { freePort, removeApps, testApp } from './docker.js';
import { TempRepo, webApp } from './git-repo.js';

/** A small web app's first commit (webApp), besides its name and port. */
export interface WebAppOptions {
  /** What the app answers on /. Default 'one'. */
  body?: string;
  /** The web app's start script (see webApp). */
  start?: string;
  /** Lines added to its Dockerfile (see webApp). */
  dockerfileExtra?: string;
  /** Merged over { app, ports: ['127.0.0.1:PORT:8080'], healthCheck: { path: '/' } }. */
  deployJson?: Record<string, unknown>;
  /** Files written over the web app's in the first commit (a Dockerfile of its own, say). */
  files?: Record<string, string>;
}

/** Commits a small web app named `app` that deploy.json publishes on `port` (not deployed). */
export function commitWebApp(repo: TempRepo, app: string, port: number, options: WebAppOptions = {}): void {
  const { body = 'one', start, dockerfileExtra } = options;
  const deployJson = { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, ...options.deployJson };
  repo.commit(body, { ...webApp(body, { deployJson, start, dockerfileExtra }), ...options.files });
}

/**
 * What an engine test deploys from: a DEPLOY_HOME of its own (its store), Git repositories and app names made on
 * demand, and `run` for the CLI with that home; `remove()` takes every app's containers, images and lock, the
 * repositories and the home away (call it in afterAll).
 */
export interface Workspace {
  home: { dir: string };
  /** The environment the CLI runs with: DEPLOY_HOME, and whatever the test added. */
  env: Record<string, string>;
  /** The apps made here (a test may add its own names, to have them removed too). */
  apps: string[];
  newApp(prefix: string): string;
  newRepo(): TempRepo;
  /** A new app and repository whose first commit is a small web app published on a free port (commitWebApp). */
  newWebApp(prefix: string, options?: WebAppOptions): Promise<{ app: string; repo: TempRepo; port: number }>;
  run(cwd: string, ...args: string[]): Promise<CliResult>;
  remove(): void;
}

export function workspace(env: Record<string, string> = {}): Workspace {
  const home = tempHome();
  const apps: string[] = [];
  const repos: TempRepo[] = [];
  const all = { DEPLOY_HOME: home.dir, ...env };
  const newApp = (prefix: string) => {
    const app = testApp(prefix);
    apps.push(app);
    return app;
  };
  const newRepo = () => {
    const repo = new TempRepo();
    repos.push(repo);
    return repo;
  };
  return {
    home,
    env: all,
    apps,
    newApp,
    newRepo,
    async newWebApp(prefix, options) {
      const app = newApp(prefix);
      const repo = newRepo();
      const port = await freePort();
      commitWebApp(repo, app, port, options);
      return { app, repo, port };
    },
    run: (cwd, ...args) => cli(args, { cwd, env: all }),
    remove() {
      removeApps(apps);
      for (const repo of repos) repo.remove();
      home.remove();
    },
  };
}

/** The common case: one app deployed from one repository; `run` runs the CLI in that repository. */
export interface AppWorkspace extends Workspace {
  app: string;
  repo: TempRepo;
  run(...args: string[]): Promise<CliResult>;
}

export function appWorkspace(prefix: string, env: Record<string, string> = {}): AppWorkspace {
  const w = workspace(env);
  const app = w.newApp(prefix);
  const repo = w.newRepo();
  return { ...w, app, repo, run: (...args) => w.run(repo.dir, ...args) };
}

/** An appWorkspace for a whole suite, and the port its app is published on. */
export interface SuiteApp extends AppWorkspace {
  /** Found in the suite's beforeAll: read it in its tests and hooks. */
  readonly port: number;
}

/**
 * appWorkspace for a whole suite: its beforeAll finds a free port and, with `commit`, makes the repository's first
 * commit, a small web app published on that port (commitWebApp); its afterAll removes it all (after the suite's
 * own afterAll hooks).
 */
export function appForSuite(
  prefix: string,
  { env, commit }: { env?: Record<string, string>; commit?: WebAppOptions } = {},
): SuiteApp {
  const w = appWorkspace(prefix, env);
  let port: number | undefined;
  beforeAll(async () => {
    port = await freePort();
    if (commit) commitWebApp(w.repo, w.app, port, commit);
  });
  afterAll(() => w.remove());
  return {
    ...w,
    get port() {
      if (port === undefined) throw new Error(`the port of ${w.app} is read before the suite's beforeAll found it`);
      return port;
    },
  };
}

/**
 * What another machine's store, empty, knows of an app after `deploy sync --all` against the engine `-H url`: its
 * `inspect --json` (rejects when either command fails).
 */
export async function inspectAfterSync(repoDir: string, url: string, app: string): Promise<unknown> {
  const other = workspace();
  try {
    const synced = await other.run(repoDir, '-H', url, 'sync', '--all', '--json');
    if (synced.code !== 0) throw new Error(`sync exited ${synced.code}: ${synced.stderr}`);
    const inspect = await other.run(repoDir, '-H', url, 'inspect', app, '--json');
    if (inspect.code !== 0) throw new Error(`inspect exited ${inspect.code}: ${inspect.stderr}`);
    return inspect.json();
  } finally {
    other.remove();
  }
}
