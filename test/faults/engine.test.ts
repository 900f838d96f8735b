import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest, homeForTest, type AppFixture, type AppOptions } from '../helpers/app-fixture.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/docker.js';
import { runBin, type RunResult } from '../helpers/process.js';
import { startTlsEngine, type TlsEngine } from '../helpers/remote.js';
import { fault } from './fault.js';

const STACK = /^\s+at /m;

/** Kills the throwaway engine's dockerd outright, as a crash or a power cut would. */
function killEngine(engine: TlsEngine): void {
  execFileSync('pkill', ['-KILL', '-f', `dockerd .*-H tcp://127.0.0.1:${engine.port}`]);
}

describe('the engine goes away', () => {
  let engine: TlsEngine | null = null;

  afterEach(async () => {
    await engine?.stop();
    engine = null;
  });

  async function freshEngine(): Promise<TlsEngine> {
    engine = await startTlsEngine();
    await engine.loadBaseImage();
    return engine;
  }

  /**
   * Deploys to a fresh engine and kills the engine half a second after the deployment reached `status`: the deploy
   * must end with the engine's exit code and no stack trace.
   */
  async function killedWhile(f: AppFixture, status: 'building' | 'starting'): Promise<RunResult> {
    const e = await freshEngine();
    const { done } = f.startBin(['deploy', '--json'], { env: e.env });
    await f.waitForNewest((d) => d.status === status, status);
    await new Promise((r) => setTimeout(r, 500));
    killEngine(e);
    const r = await done;
    expect(r.code).toBe(EXIT_CODES.docker_unreachable);
    expect(r.stderr).not.toMatch(STACK);
    return r;
  }

  /** The web app, committed (not deployed), for the throwaway engine; its first deploy there is the test's. */
  const appOn = (options: Partial<AppOptions> = {}) =>
    appForTest({ prefix: 'gone', deployJson: { healthCheck: { path: '/', timeout: '60s' } }, ...options });

  it('stopped before a command: a clear message naming the engine, its exit code, no stack trace', async ({ task }) => {
    const report = fault(
      task,
      `exit ${EXIT_CODES.docker_unreachable}, message names the endpoint and the next step, nothing recorded`,
    );
    const f = await appOn();
    const e = await freshEngine();
    killEngine(e);
    const r = await f.cli(['deploy', '--json'], { env: e.env });
    expect(r.code).toBe(EXIT_CODES.docker_unreachable);
    const error = r.json<{ error: { message: string; hint: string } }>().error;
    expect(error.message).toContain(`Cannot reach the Docker Engine at ${e.url}`);
    expect(error.hint).toMatch(/engine runs there|--context|--host/);
    expect(r.stderr).not.toMatch(STACK);
    expect(f.newest()).toBeUndefined();
    report(`exit ${r.code}: ${error.message}`);
  });

  it('in the middle of a build: the deployment is recorded failed with the reason, not left building', async ({
    task,
  }) => {
    const report = fault(task, 'exit 13; record failed (docker_unreachable), never "building" or "running"');
    const f = await appOn({
      files: {
        Dockerfile: 'FROM busybox:1.36\nRUN sleep 20\nCOPY index.html start.sh /www/\nCMD ["sh", "/www/start.sh"]\n',
      },
    });
    const r = await killedWhile(f, 'building');
    expect(JSON.parse(r.stdout) as PublicRecord).toMatchObject({
      status: 'failed',
      error: { code: 'docker_unreachable' },
    });
    expect(f.newest()).toMatchObject({ status: 'failed', error: { code: 'docker_unreachable' } });
    report(`exit ${r.code}; record failed (docker_unreachable)`);
  });

  it('in the middle of the health wait: recorded failed, with the reason', async ({ task }) => {
    const report = fault(task, 'exit 13; record failed, not "starting" or "running"');
    const f = await appOn({ start: 'sleep 30\nexec httpd -f -p 8080 -h /www\n' });
    const r = await killedWhile(f, 'starting');
    expect(f.newest()?.status).toBe('failed');
    report(`exit ${r.code}; record ${f.newest()?.status}`);
  });

  it('a socket this user may not use: permission denied, named as such', async ({ task }) => {
    const report = fault(task, 'exit 13 with "permission denied on the socket" and what to do');
    const dir = mkdtempSync(join(tmpdir(), 'deploy-nobody-'));
    chmodSync(dir, 0o777);
    try {
      const r = await runBin(['sync', '--json'], {
        prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
        env: { HOME: dir, DEPLOY_HOME: join(dir, 'home') },
      });
      expect(r.code, r.stdout).toBe(EXIT_CODES.docker_unreachable);
      expect(r.stderr).toContain('permission denied on the socket');
      expect(r.stderr).toContain('"docker" group');
      expect(r.stderr).not.toMatch(STACK);
      report(`exit ${r.code}: ${r.stderr.split('\n')[0]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a wrong endpoint: refused, named, with its exit code', async ({ task }) => {
    const report = fault(task, 'exit 13 for a closed tcp port, a missing socket, and an unknown ssh port');
    const home = homeForTest();
    const closed = await freePort();
    for (const host of [
      `tcp://127.0.0.1:${closed}`,
      'unix:///tmp/no-such-docker.sock',
      `ssh://root@127.0.0.1:${closed}`,
    ]) {
      const r = await cli(['--host', host, 'sync', '--json'], { env: { DEPLOY_HOME: home } });
      expect(r.code, host).toBe(EXIT_CODES.docker_unreachable);
      expect(r.json<{ error: { message: string } }>().error.message).toContain(
        `Cannot reach the Docker Engine at ${host}`,
      );
    }
    report('exit 13 for each, naming the URL');
  });
});
