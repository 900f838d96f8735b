import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { appWorkspace } from '../helpers/workspace.js';

/** Writes to both streams at start, again two seconds later, then ticks on stdout while serving. */
const CHATTY = [
  'for i in 1 2 3 4 5; do echo "out-$i"; done',
  'for i in 1 2 3; do echo "err-$i" >&2; done',
  'sleep 2',
  'echo "late-out"',
  'echo "late-err" >&2',
  'printf "\\033]0;pwned\\007\\033[2Jafter-escapes\\n"',
  '(while true; do echo tick; sleep 0.3; done) &',
  'exec httpd -f -p 8080 -h /www',
  '',
].join('\n');

type Line = { timestamp: string | null; stream: string; message: string };

describe('deploy logs on a real engine', () => {
  const w = appWorkspace('logs');
  const { home, repo, app } = w;
  const env = () => ({ DEPLOY_HOME: home.dir });
  const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: env() });
  let v1: PublicRecord;

  beforeAll(async () => {
    const port = await freePort();
    repo.commit(
      'chatty',
      webApp('chatty', {
        start: CHATTY,
        deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/', timeout: '30s' } },
      }),
    );
    v1 = (await run('deploy', '--json')).json<PublicRecord>();
    expect(v1.status).toBe('running');
    // Wait (bounded) for the late lines.
    for (let i = 0; i < 50 && !(await run('logs', app)).stdout.includes('after-escapes'); i++)
      await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(() => w.remove());

  it("keeps the container's stdout and stderr apart", async () => {
    const r = await run('logs', v1.id, '--tail', 'all');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^out-1\nout-2\nout-3\nout-4\nout-5\n/);
    expect(r.stdout).not.toContain('err-');
    expect(r.stderr).toMatch(/err-1\nerr-2\nerr-3\n/);
    expect(r.stderr).toContain('late-err');
    const json = (await run('logs', v1.id, '--tail', 'all', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(json.filter((l) => l.stream === 'stderr').map((l) => l.message)).toEqual([
      'err-1',
      'err-2',
      'err-3',
      'late-err',
    ]);
    expect(json.every((l) => l.timestamp !== null && !Number.isNaN(Date.parse(l.timestamp)))).toBe(true);
  });

  it('shows output as text: escape sequences cannot retitle or clear the terminal', async () => {
    const r = await run('logs', app, '--tail', 'all');
    expect(r.stdout).toContain('after-escapes');
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('\u0007');
  });

  it('filters with --tail and --since', async () => {
    // --tail counts lines of both streams together, as the engine does.
    const tail = (await run('logs', app, '--tail', '2', '--json')).stdout.trim().split('\n');
    expect(tail).toHaveLength(2);
    const all = (await run('logs', app, '--tail', 'all', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const late = all.find((l) => l.message === 'late-out') as Line;
    const since = new Date(Date.parse(late.timestamp as string) - 200).toISOString();
    const r = await run('logs', app, '--since', since, '--tail', 'all');
    expect(r.stdout).toMatch(/^late-out\n/);
    expect(r.stdout).not.toContain('out-1');
    expect(r.stderr).not.toContain('err-1');
    const bad = await run('logs', app, '--since', 'banana');
    expect(bad.code).toBe(EXIT_CODES.usage);
  });

  it('follows until the container stops, and ends cleanly when interrupted', async () => {
    const controller = new AbortController();
    const following = cli(['logs', app, '-f', '--tail', '0'], { env: env(), signal: controller.signal });
    await new Promise((r) => setTimeout(r, 1200));
    controller.abort();
    const r = await following;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^(tick\n){2,}/);

    const stopping = cli(['logs', app, '-f', '--tail', '0'], { env: env() });
    await new Promise((r) => setTimeout(r, 600));
    execFileSync('docker', ['stop', '-t', '1', v1.containerName as string]);
    const ended = await stopping;
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain('tick');
    execFileSync('docker', ['start', v1.containerName as string]);
  });

  it('still shows the logs of a superseded deployment after its container is removed, and says it is the kept copy', async () => {
    repo.commit('next', { 'index.html': 'next\n' });
    const v2 = (await run('deploy', '--json')).json<PublicRecord>();
    expect(v2.status).toBe('running');
    const old = (await run('inspect', v1.id, '--json')).json<PublicRecord>();
    expect(old).toMatchObject({ status: 'superseded', containerId: null });
    const r = await run('logs', v1.id, '--tail', 'all');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('out-5');
    expect(r.stdout).toContain('late-out');
    expect(r.stderr).toContain('err-3');
    expect(r.stderr).toMatch(/the kept copy: .* was removed at \d{4}-/);
    const kept = (await run('logs', v1.id, '--tail', 'all', '--json')).stdout.trim().split('\n');
    const tail = (await run('logs', v1.id, '--tail', '3', '--json')).stdout.trim().split('\n');
    expect(tail).toEqual(kept.slice(-3));
  });

  it("shows a failed build's output with --build, and the failed deploy points there", async () => {
    repo.commit('broken', { Dockerfile: 'FROM busybox:1.36\nRUN echo "compiling the thing" && false\n' });
    const failed = await run('deploy', '--json');
    expect(failed.code).toBe(EXIT_CODES.build_failed);
    const id = failed.json<PublicRecord>().id;
    expect(failed.stderr).toContain(`deploy logs ${id} --build`);
    const build = await run('logs', id, '--build');
    expect(build.code).toBe(0);
    expect(build.stdout).toContain('compiling the thing');
    expect(build.stdout).toMatch(/exit code: 1|returned a non-zero code: 1/);
    const runtime = await run('logs', id);
    expect(runtime.code).toBe(EXIT_CODES.not_found);
    expect(runtime.stderr).toContain(`deploy logs ${id} --build`);
  });
});
