import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import { tempHome } from '../helpers/cli.js';
import { freePort, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { startBin, type RunResult } from '../helpers/process.js';
import { fault } from './fault.js';

/**
 * A stand-in for an engine that accepts the connection and then never answers (a stuck dockerd, a dead ssh tunnel,
 * a proxy that hangs): the real engine cannot be made to do that on demand, so this socket does, and says so.
 */
function hungEngine(path: string): Promise<{ server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.resume();
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, sockets })));
}

/** Runs the built CLI (bounded: killed after 60 s); with interruptAfterMs, sends it Ctrl-C's signal then. */
async function run(
  args: string[],
  options: { cwd?: string; env: Record<string, string>; interruptAfterMs?: number },
): Promise<RunResult & { afterSignalMs: number | null }> {
  const { child, done } = startBin(args, { cwd: options.cwd, env: options.env, timeoutMs: 60_000 });
  let signalledAt: number | null = null;
  const interrupt =
    options.interruptAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          signalledAt = Date.now();
          child.kill('SIGINT');
        }, options.interruptAfterMs);
  const r = await done;
  clearTimeout(interrupt);
  return { ...r, afterSignalMs: signalledAt === null ? null : Date.now() - signalledAt };
}

describe('an engine that accepts the connection and never answers', () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'deploy-hung-'));
  const socket = join(dir, 'docker.sock');
  const repo = new TempRepo();
  const app = testApp('hung');
  let hung: { server: Server; sockets: Socket[] };

  beforeAll(async () => {
    hung = await hungEngine(socket);
    const port = await freePort();
    repo.commit('app', webApp('hello', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`] } }));
  });
  afterAll(() => {
    hung.sockets.forEach((s) => s.destroy());
    hung.server.close();
    rmSync(dir, { recursive: true, force: true });
    repo.remove();
    home.remove();
  });

  it('deploy and sync give up within the bound, exit 13 naming the endpoint, and record nothing as running', async ({
    task,
  }) => {
    const report = fault(
      task,
      `exit ${EXIT_CODES.docker_unreachable} within DEPLOY_ENGINE_TIMEOUT (1s here), naming the endpoint`,
    );
    const env = { DEPLOY_HOME: home.dir, DEPLOY_ENGINE_TIMEOUT: '1s' };
    const sync = await run(['sync', '-H', `unix://${socket}`], { env });
    const deploy = await run(['deploy', '-H', `unix://${socket}`, '--json'], { cwd: repo.dir, env });
    for (const r of [sync, deploy]) {
      expect(r.code, r.stderr).toBe(EXIT_CODES.docker_unreachable);
      expect(r.stderr).toContain(`Cannot reach the Docker Engine at unix://${socket}`);
      expect(r.stderr).toMatch(/no answer to .* within 1s/);
      expect(r.ms).toBeLessThan(15_000);
    }
    const ls = await run(['ls', '--json'], { env: { DEPLOY_HOME: home.dir } });
    expect(JSON.parse(ls.stdout)).toEqual([]);
    report(
      `sync exit ${sync.code} after ${sync.ms} ms, deploy exit ${deploy.code} after ${deploy.ms} ms; nothing recorded`,
    );
  });

  it('with the default bound, a ping is given up on in seconds', async ({ task }) => {
    const report = fault(task, `exit ${EXIT_CODES.docker_unreachable} after the 10 s ping bound, not minutes`);
    const r = await run(['sync', '-H', `unix://${socket}`], { env: { DEPLOY_HOME: home.dir } });
    expect(r.code, r.stderr).toBe(EXIT_CODES.docker_unreachable);
    expect(r.ms).toBeLessThan(20_000);
    report(`exit ${r.code} after ${r.ms} ms`);
  });

  it('Ctrl-C ends a command waiting on it within 2 s, with exit 130', async ({ task }) => {
    const report = fault(task, 'exit 130 within 2 s of SIGINT');
    const r = await run(['deploy', '-H', `unix://${socket}`], {
      cwd: repo.dir,
      env: { DEPLOY_HOME: home.dir, DEPLOY_ENGINE_TIMEOUT: '60s' },
      interruptAfterMs: 1500,
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.afterSignalMs).not.toBeNull();
    expect(r.afterSignalMs as number).toBeLessThan(2_500);
    report(`exit ${r.code} ${r.afterSignalMs} ms after SIGINT`);
  });
});
