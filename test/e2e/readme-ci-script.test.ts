import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';

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
  const home = tempHome();
  const repo = new TempRepo();
  const work = mkdtempSync(join(tmpdir(), 'deploy-ci-'));
  const app = testApp('ci');
  let port = 0;
  let good: PublicRecord;
  let env: Record<string, string>;

  beforeAll(async () => {
    port = await freePort();
    // `deploy` on PATH, as a user installs it; it runs under the system Node and hands over to the Node set-up installed (package.json engines).
    symlinkSync(BIN, join(work, 'deploy'));
    writeFileSync(join(work, 'rollback-if-unhealthy.sh'), readmeScript());
    env = {
      PATH: `${work}:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/root',
      DEPLOY_HOME: home.dir,
      APP: app,
      URL: `http://127.0.0.1:${port}/healthz`,
    };
    repo.commit(
      'good',
      webApp('good', {
        start: 'echo ok > /www/healthz\nexec httpd -f -p 8080 -h /www\n',
        deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } },
      }),
    );
    good = (await cli(['deploy', '--json'], { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } })).json<PublicRecord>();
  });
  afterAll(() => {
    removeApps([app]);
    repo.remove();
    home.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('does nothing while the smoke test passes', async () => {
    const r = await runScript('rollback-if-unhealthy.sh', env, work);
    expect(r).toMatchObject({ code: 0, stdout: `${app} is healthy; nothing to do\n` });
  });

  it('rolls a bad release back, unattended, and reports what runs', async () => {
    // A release that passes its health gate (/) but not the smoke test (/healthz).
    repo.commit('bad', { 'start.sh': 'exec httpd -f -p 8080 -h /www\n', 'index.html': 'bad\n' });
    expect((await cli(['deploy'], { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } })).code).toBe(0);
    expect(await fetchText(port)).toBe('bad');

    const r = await runScript('rollback-if-unhealthy.sh', env, work);
    expect(r.stderr).toContain('failed its smoke test; rolling back');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^rolled back: ${app} v3 \\([a-z2-9]{8}\\) runs ${good.commit.slice(0, 7)}\n$`),
    );
    expect(await fetchText(port, '/healthz')).toBe('ok');
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
