import { cli, tempHome, type CliResult } from './cli.js';
import { removeApps, testApp } from './docker.js';
import { TempRepo } from './git-repo.js';

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
  run(cwd: string, ...args: string[]): Promise<CliResult>;
  remove(): void;
}

export function workspace(env: Record<string, string> = {}): Workspace {
  const home = tempHome();
  const apps: string[] = [];
  const repos: TempRepo[] = [];
  const all = { DEPLOY_HOME: home.dir, ...env };
  return {
    home,
    env: all,
    apps,
    newApp(prefix) {
      const app = testApp(prefix);
      apps.push(app);
      return app;
    },
    newRepo() {
      const repo = new TempRepo();
      repos.push(repo);
      return repo;
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
