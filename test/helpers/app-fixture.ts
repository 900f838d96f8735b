/**
 * One app of a test's own: a real git repository holding a small web app (webApp) whose deploy.json names an app
 * no other test uses and publishes it on a free port, and a DEPLOY_HOME of its own. `appForTest` removes it all
 * (containers, images, lock, directories) when the test that made it ends, so each `it` sets up what it needs
 * and passes alone (`-t "name"`); `deploy()` makes its first deployment and requires it running.
 */
import { onTestFinished } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome, type CliOptions, type CliResult } from './cli.js';
import { freePort, removeApps, testApp } from './docker.js';
import { TempRepo, webApp } from './git-repo.js';
import { startBin, type BinOptions, type Started } from './process.js';
import { newestOf, waitForNewest, type Newest } from './store.js';

export interface AppOptions {
  /** The app name's prefix (see testApp). */
  prefix: string;
  /** What the app answers on /. Default 'one'. */
  body?: string;
  /** The web app's start script (see webApp). */
  start?: string;
  /** Merged over { app, ports: ['127.0.0.1:PORT:8080'], healthCheck: { path: '/' } }. */
  deployJson?: Record<string, unknown>;
  /** Files written over the web app's in the first commit (a Dockerfile of its own, say). */
  files?: Record<string, string>;
}

export interface AppFixture {
  readonly app: string;
  readonly repo: TempRepo;
  /** Its DEPLOY_HOME. */
  readonly home: string;
  /** The host port its deploy.json publishes. */
  readonly port: number;
  readonly env: { DEPLOY_HOME: string };
  /** The CLI in-process, in the repository, with this home (options.env is added to it). */
  cli(args: string[], options?: CliOptions): Promise<CliResult>;
  /** The built CLI as its own process (one a test can kill), in the repository, with this home. */
  startBin(args: string[], options?: BinOptions): Started;
  /** Deploys the committed app and requires it running (a first deployment to replace, kill or fail beside). */
  deploy(...args: string[]): Promise<PublicRecord>;
  /** The app's newest deployment in this home, read through the store. */
  newest(): Newest | undefined;
  /** Waits (bounded) until the app's newest deployment satisfies `until`. */
  waitForNewest(until: (d: Newest) => boolean, what?: string, timeoutMs?: number): Promise<Newest>;
  remove(): void;
}

/** Makes the app (committed, not deployed); `remove()` undoes it all. */
export async function appFixture(options: AppOptions): Promise<AppFixture> {
  const app = testApp(options.prefix);
  const port = await freePort();
  const home = tempHome();
  const repo = new TempRepo();
  const deployJson = { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, ...options.deployJson };
  repo.commit(options.body ?? 'one', { ...webApp(options.body ?? 'one', { deployJson, ...(options.start !== undefined ? { start: options.start } : {}) }), ...options.files });
  const env = { DEPLOY_HOME: home.dir };
  const fixture: AppFixture = {
    app,
    repo,
    home: home.dir,
    port,
    env,
    cli: (args, o = {}) => cli(args, { cwd: repo.dir, ...o, env: { ...env, ...o.env } }),
    startBin: (args, o = {}) => startBin(args, { cwd: repo.dir, ...o, env: { ...env, ...o.env } }),
    async deploy(...args) {
      const r = await fixture.cli(['deploy', '--json', ...args]);
      if (r.code !== 0) throw new Error(`the fixture's deploy of ${app} failed (exit ${r.code}): ${r.stderr}`);
      const d = r.json<PublicRecord>();
      if (d.status !== 'running') throw new Error(`the fixture's deploy of ${app} is ${d.status}, not running`);
      return d;
    },
    newest: () => newestOf(home.dir, app),
    waitForNewest: (until, what, timeoutMs) => waitForNewest(home.dir, app, until, what, timeoutMs),
    remove() {
      removeApps([app]);
      repo.remove();
      home.remove();
    },
  };
  return fixture;
}

/** The app for the running test alone: removed when that test ends, whether it passed or not. */
export async function appForTest(options: AppOptions): Promise<AppFixture> {
  const fixture = await appFixture(options);
  onTestFinished(() => fixture.remove());
  return fixture;
}

/** A DEPLOY_HOME for the running test alone (a second store beside the app's, say). */
export function homeForTest(): string {
  const home = tempHome();
  onTestFinished(() => home.remove());
  return home.dir;
}
