import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/bin.js';
import { cli, tempHome } from '../helpers/cli.js';
import { freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { startTlsEngine, type TlsEngine } from '../helpers/remote.js';
import { fault } from './fault.js';

const STACK = /^\s+at /m;

/** Kills the throwaway engine's dockerd outright, as a crash or a power cut would. */
function killEngine(engine: TlsEngine): void {
  execFileSync('pkill', ['-KILL', '-f', `dockerd .*-H tcp://127.0.0.1:${engine.port}`]);
}

function newest(home: string, app: string): { id: string; status: string; error_code: string | null } | undefined {
  const db = new DatabaseSync(join(home, 'deploy.db'), { readOnly: true });
  try {
    return db.prepare('SELECT id, status, error_code FROM deployments WHERE app = ? ORDER BY version DESC LIMIT 1').get(app) as { id: string; status: string; error_code: string | null } | undefined;
  } finally {
    db.close();
  }
}

async function waitForStatus(home: string, app: string, status: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (newest(home, app)?.status === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never reached ${status}`);
}

function runChild(args: string[], cwd: string, env: Record<string, string>): { child: ChildProcess; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { child, done };
}

describe('the engine goes away', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('gone');
  let engine: TlsEngine | null = null;
  let port = 0;
  const env = () => ({ DEPLOY_HOME: home.dir, ...(engine?.env ?? {}) });

  beforeAll(async () => {
    port = await freePort();
    repo.commit('one', webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/', timeout: '60s' } } }));
  });
  afterEach(async () => {
    await engine?.stop();
    engine = null;
  });
  afterAll(() => {
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  async function freshEngine(): Promise<TlsEngine> {
    engine = await startTlsEngine();
    await engine.loadBaseImage();
    return engine;
  }

  it('stopped before a command: a clear message naming the engine, its exit code, no stack trace', async ({ task }) => {
    const report = fault(task, `exit ${EXIT_CODES.docker_unreachable}, message names the endpoint and the next step, nothing recorded`);
    const e = await freshEngine();
    killEngine(e);
    const r = await cli(['deploy', '--json'], { cwd: repo.dir, env: env() });
    expect(r.code).toBe(EXIT_CODES.docker_unreachable);
    const error = r.json<{ error: { message: string; hint: string } }>().error;
    expect(error.message).toContain(`Cannot reach the Docker Engine at ${e.url}`);
    expect(error.hint).toMatch(/engine runs there|--context|--host/);
    expect(r.stderr).not.toMatch(STACK);
    expect(newest(home.dir, app)).toBeUndefined();
    report(`exit ${r.code}: ${error.message}`);
  });

  it('in the middle of a build: the deployment is recorded failed with the reason, not left building', async ({ task }) => {
    const report = fault(task, 'exit 13; record failed (docker_unreachable), never "building" or "running"');
    await freshEngine();
    repo.commit('slow build', { Dockerfile: 'FROM busybox:1.36\nRUN sleep 20\nCOPY index.html start.sh /www/\nCMD ["sh", "/www/start.sh"]\n' });
    const { done } = runChild(['deploy', '--json'], repo.dir, env());
    await waitForStatus(home.dir, app, 'building');
    await new Promise((r) => setTimeout(r, 500));
    killEngine(engine as TlsEngine);
    const r = await done;
    expect(r.code).toBe(EXIT_CODES.docker_unreachable);
    expect(r.stderr).not.toMatch(STACK);
    expect(JSON.parse(r.stdout) as PublicRecord).toMatchObject({ status: 'failed', error: { code: 'docker_unreachable' } });
    expect(newest(home.dir, app)).toMatchObject({ status: 'failed', error_code: 'docker_unreachable' });
    report(`exit ${r.code}; record failed (docker_unreachable)`);
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('in the middle of the health wait: recorded failed, with the reason', async ({ task }) => {
    const report = fault(task, 'exit 13; record failed, not "starting" or "running"');
    await freshEngine();
    repo.commit('slow start', { 'start.sh': 'sleep 30\nexec httpd -f -p 8080 -h /www\n' });
    const { done } = runChild(['deploy', '--json'], repo.dir, env());
    await waitForStatus(home.dir, app, 'starting');
    await new Promise((r) => setTimeout(r, 500));
    killEngine(engine as TlsEngine);
    const r = await done;
    expect(r.code).toBe(EXIT_CODES.docker_unreachable);
    expect(r.stderr).not.toMatch(STACK);
    expect(newest(home.dir, app)?.status).toBe('failed');
    report(`exit ${r.code}; record ${newest(home.dir, app)?.status}`);
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('a socket this user may not use: permission denied, named as such', async ({ task }) => {
    const report = fault(task, 'exit 13 with "permission denied on the socket" and what to do');
    const dir = mkdtempSync(join(tmpdir(), 'deploy-nobody-'));
    chmodSync(dir, 0o777);
    try {
      const r = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'sync', '--json'], {
        env: { PATH: process.env.PATH, DEPLOY_HOME: join(dir, 'home'), HOME: dir, CI: 'true' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).toString();
      throw new Error(`expected a failure, got ${r}`);
    } catch (error) {
      const e = error as { status?: number; stdout?: string; stderr?: string };
      expect(e.status).toBe(EXIT_CODES.docker_unreachable);
      expect(e.stderr).toContain('permission denied on the socket');
      expect(e.stderr).toContain('"docker" group');
      expect(e.stderr).not.toMatch(STACK);
      report(`exit ${e.status}: ${(e.stderr ?? '').split('\n')[0]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a wrong endpoint: refused, named, with its exit code', async ({ task }) => {
    const report = fault(task, 'exit 13 for a closed tcp port, a missing socket, and an unknown ssh port');
    const closed = await freePort();
    for (const host of [`tcp://127.0.0.1:${closed}`, 'unix:///tmp/no-such-docker.sock', `ssh://root@127.0.0.1:${closed}`]) {
      const r = await cli(['--host', host, 'sync', '--json'], { env: { DEPLOY_HOME: home.dir } });
      expect(r.code, host).toBe(EXIT_CODES.docker_unreachable);
      expect(r.json<{ error: { message: string } }>().error.message).toContain(`Cannot reach the Docker Engine at ${host}`);
    }
    report('exit 13 for each, naming the URL');
  });
});
