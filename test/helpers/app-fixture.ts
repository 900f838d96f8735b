/**
 * One app of a test's own: an app workspace (workspace.ts: a DEPLOY_HOME, a unique app name, a real git repository)
 * whose repository holds a small web app (webApp) published on a free port. `appForTest` removes it all
 * (containers, images, lock, directories) when the test that made it ends, so each `it` sets up what it needs
 * and passes alone (`-t "name"`); `deploy()` makes its first deployment and requires it running.
 */
import { onTestFinished } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome, type CliOptions, type CliResult } from './cli.js';
import { freePort } from './docker.js';
import { startBin, type BinOptions, type Started } from './process.js';
import { newestOf, waitForNewest, type Newest } from './store.js';
import { appWorkspace, commitWebApp, type AppWorkspace, type WebAppOptions } from './workspace.js';

export interface AppOptions extends WebAppOptions {
  /** The app name's prefix (see testApp). */
  prefix: string;
  /** Added to the environment every command of the fixture runs with (DOCKER_CONFIG, say). */
  env?: Record<string, string>;
}

export interface AppFixture extends AppWorkspace {
  /** The host port its deploy.json publishes. */
  readonly port: number;
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
}

/** Makes the app (committed, not deployed); `remove()` undoes it all. */
export async function appFixture(options: AppOptions): Promise<AppFixture> {
  const w = appWorkspace(options.prefix, options.env);
  const { app, repo, env } = w;
  const home = w.home.dir;
  const port = await freePort();
  commitWebApp(repo, app, port, options);
  const fixture: AppFixture = {
    ...w,
    port,
    cli: (args, o = {}) => cli(args, { cwd: repo.dir, ...o, env: { ...env, ...o.env } }),
    startBin: (args, o = {}) => startBin(args, { cwd: repo.dir, ...o, env: { ...env, ...o.env } }),
    async deploy(...args) {
      const r = await fixture.cli(['deploy', '--json', ...args]);
      if (r.code !== 0) throw new Error(`the fixture's deploy of ${app} failed (exit ${r.code}): ${r.stderr}`);
      const d = r.json<PublicRecord>();
      if (d.status !== 'running') throw new Error(`the fixture's deploy of ${app} is ${d.status}, not running`);
      return d;
    },
    newest: () => newestOf(home, app),
    waitForNewest: (until, what, timeoutMs) => waitForNewest(home, app, until, what, timeoutMs),
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
