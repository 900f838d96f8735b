import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appFixture, type AppFixture } from '../helpers/app-fixture.js';
import { containersOf, fetchText, freePort } from '../helpers/docker.js';
import { fault } from './fault.js';

describe('the app misbehaves', () => {
  // One good deployment for every case: each bad release is reverted after its case, and the good one must still serve.
  let f: AppFixture;
  let good: PublicRecord;

  /** Commits a bad release, deploys it, and checks the good one still serves and nothing is left behind. */
  async function deployBad(message: string, files: Record<string, string>, ...args: string[]) {
    f.repo.commit(message, files);
    const started = Date.now();
    const r = await f.run('deploy', '--json', ...args);
    const took = Date.now() - started;
    f.repo.git('revert', '--no-edit', 'HEAD');
    expect(await fetchText(f.port)).toBe('good');
    expect(containersOf(f.app)).toEqual([{ name: good.containerName, state: 'running' }]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    return { ...r, took };
  }

  /** deployBad of a release whose start script is `start`: it must fail its health gate; its record's error message. */
  async function failsItsGate(message: string, start: string, ...args: string[]) {
    const r = await deployBad(message, { 'start.sh': start }, ...args);
    expect(r.code).toBe(EXIT_CODES.health_failed);
    return { ...r, error: r.json<PublicRecord>().error?.message };
  }

  beforeAll(async () => {
    f = await appFixture({ prefix: 'bad', body: 'good', deployJson: { healthCheck: { path: '/', timeout: '20s' } } });
    good = await f.deploy();
    expect(good.status).toBe('running');
  });
  afterAll(() => f?.remove());

  it('exits at once', async ({ task }) => {
    const report = fault(task, `health check failed (exit ${EXIT_CODES.health_failed}) at once; previous serving`);
    const r = await failsItsGate('exits', 'echo "no config, giving up" >&2\nexit 3\n');
    expect(r.error).toContain('exited with code 3');
    expect(r.stderr).toContain('no config, giving up');
    expect(r.took).toBeLessThan(15_000);
    report(`exit ${r.code} in ${(r.took / 1000).toFixed(1)}s: ${r.error?.split(':')[1]?.trim()}`);
  });

  it('crash-loops under its restart policy', async ({ task }) => {
    const report = fault(task, 'the first crash fails the gate; the loop is stopped and removed; previous serving');
    const r = await failsItsGate(
      'crash loop',
      'echo "starting"\nsleep 1\necho "crashed" >&2\nexit 1\n',
      '--health-path',
      'none',
    );
    expect(r.error).toMatch(/exited with code 1|restarted/);
    report(`exit ${r.code}: ${r.error?.split(': ').slice(1).join(': ')}`);
  });

  it('never becomes healthy (binds nothing)', async ({ task }) => {
    const report = fault(task, 'health check times out with the URL tried; previous serving');
    const r = await failsItsGate(
      'binds nothing',
      'echo "up, but listening nowhere"\nexec sleep 600\n',
      '--health-timeout',
      '3s',
    );
    expect(r.error).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/ did not succeed within 3s/);
    report(`exit ${r.code} after ${(r.took / 1000).toFixed(1)}s`);
  });

  it('prints megabytes of logs and dies: bounded copy kept, last lines shown, no hang', async ({ task }) => {
    const report = fault(
      task,
      'fails; the kept log is at most 1 MiB; the end of the output is shown; previous serving',
    );
    // About 6 MB of output, then a last word (on stdout: the engine may log stderr ahead of a stdout flood).
    const r = await failsItsGate(
      'chatty',
      'yes "a line of chatter from an app that prints far too much, again and again and again" | head -c 6000000\necho\necho "the last word"\nexit 2\n',
    );
    expect(r.stderr).toContain('the last word');
    const id = r.json<PublicRecord>().id;
    const kept = await f.run('logs', id, '--tail', 'all', '--json');
    expect(kept.code).toBe(0);
    expect(Buffer.byteLength(kept.stdout)).toBeLessThan(1.6 * 1024 * 1024);
    expect(kept.stderr).toContain('only its last 1 MiB was kept');
    expect(kept.stdout).toContain('the last word');
    report(
      `exit ${r.code} in ${(r.took / 1000).toFixed(1)}s; ${Math.round(Buffer.byteLength(kept.stdout) / 1024)} KiB of log lines kept`,
    );
  });

  it('takes a host port another program holds', async ({ task }) => {
    const report = fault(
      task,
      `could not start (exit ${EXIT_CODES.start_failed}), the message says the port is taken; previous serving`,
    );
    const taken = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    try {
      const r = await deployBad('other port', { 'index.html': 'other\n' }, '--port', `127.0.0.1:${taken}:8080`);
      expect(r.code).toBe(EXIT_CODES.start_failed);
      const error = r.json<{ error: { message: string } }>().error ?? r.json<PublicRecord>().error;
      expect(error?.message).toMatch(/could not start: .*(address already in use|port is already allocated)/);
      expect(r.stderr).toContain('Another program holds that host port');
      report(`exit ${r.code}: ${error?.message.split(': ').slice(1).join(': ').slice(0, 90)}`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
