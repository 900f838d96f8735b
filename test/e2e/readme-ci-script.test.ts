import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { appForSuite } from '../helpers/workspace.js';

/** The script exactly as README.md shows it under "Rolling back from CI". */
function readmeScript(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /<!-- ci-rollback-script -->\n```sh\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no ci-rollback-script block');
  return match[1];
}

function runScript(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', [script], { cwd, env: { ...env, CI: 'true' } }, (error, stdout, stderr) => {
      resolve({
        code: error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0,
        stdout,
        stderr,
      });
    });
  });
}

describe("README's CI rollback script, run as written", () => {
  // A release that passes its health gate (/) and the smoke test (/healthz).
  const w = appForSuite('ci', {
    commit: { body: 'good', start: 'echo ok > /www/healthz\nexec httpd -f -p 8080 -h /www\n' },
  });
  const { home, repo, app, run } = w;
  const work = mkdtempSync(join(tmpdir(), 'deploy-ci-'));
  let good: PublicRecord;
  let env: Record<string, string>;

  beforeAll(async () => {
    // `deploy` on PATH, as a user installs it; it runs under the system Node and hands over to the Node set-up installed (package.json engines).
    symlinkSync(BIN, join(work, 'deploy'));
    writeFileSync(join(work, 'rollback-if-unhealthy.sh'), readmeScript());
    env = {
      PATH: `${work}:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/root',
      DEPLOY_HOME: home.dir,
      APP: app,
      URL: `http://127.0.0.1:${w.port}/healthz`,
    };
    good = (await run('deploy', '--json')).json<PublicRecord>();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('does nothing while the smoke test passes', async () => {
    const r = await runScript('rollback-if-unhealthy.sh', env, work);
    expect(r).toMatchObject({ code: 0, stdout: `${app} is healthy; nothing to do\n` });
  });

  it('rolls a bad release back, unattended, and reports what runs', async () => {
    // A release that passes its health gate (/) but not the smoke test (/healthz).
    repo.commit('bad', { 'start.sh': 'exec httpd -f -p 8080 -h /www\n', 'index.html': 'bad\n' });
    expect((await run('deploy')).code).toBe(0);
    expect(await fetchText(w.port)).toBe('bad');

    const r = await runScript('rollback-if-unhealthy.sh', env, work);
    expect(r.stderr).toContain('failed its smoke test; rolling back');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^rolled back: ${app} v3 \\([a-z2-9]{8}\\) runs ${good.commit.slice(0, 7)}\n$`),
    );
    expect(await fetchText(w.port, '/healthz')).toBe('ok');
  });

  it("exits with deploy's code when there is nothing to roll back to", async () => {
    const lonely = testApp('ci1');
    const nobody = await freePort();
    const r = await runScript(
      'rollback-if-unhealthy.sh',
      { ...env, APP: lonely, URL: `http://127.0.0.1:${nobody}/` },
      work,
    );
    expect(r.code).toBe(3);
    removeApps([lonely]);
  });
});
