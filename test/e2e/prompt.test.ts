import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/bin.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { Terminal } from '../helpers/tmux.js';

const SECRET = 'tmux-visible-secret-77';

describe('confirmation at a real terminal (tmux)', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('tty');
  let port = 0;
  let v1: PublicRecord;
  const terminals: Terminal[] = [];
  const env = () => ({ DEPLOY_HOME: home.dir });
  const open = (args: string) => {
    const t = new Terminal(`${process.execPath} ${BIN} ${args}`, env());
    terminals.push(t);
    return t;
  };

  beforeAll(async () => {
    port = await freePort();
    repo.commit('first', webApp('first', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], env: { MODE: 'plain' }, healthCheck: { path: '/' } } }));
    v1 = (await cli(['deploy', '--json'], { cwd: repo.dir, env: env() })).json<PublicRecord>();
    repo.commit('second', { 'index.html': 'second\n' });
    expect((await cli(['deploy', '--json'], { cwd: repo.dir, env: env() })).code).toBe(0);
    expect((await cli(['config', 'set', `API_KEY=${SECRET}`, '--secret', '--app', app], { env: env() })).code).toBe(0);
  });
  afterAll(() => {
    terminals.forEach((t) => t.close());
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  it('shows the exact configuration about to be shipped, and changes nothing when the answer is no', async () => {
    const t = open(`redeploy ${v1.id} --no-cache`);
    const screen = await t.waitFor(/Redeploy .* now\?/);
    expect(screen).toContain(`Redeploy ${app}@v1 (${v1.id}) as v3`);
    expect(screen).toMatch(/endpoint\s+local \(unix:\/\/\/var\/run\/docker\.sock\)/);
    expect(screen).toMatch(new RegExp(`commit\\s+${v1.commit.slice(0, 12)} "first"`));
    expect(screen).toContain('Test Author <author@example.test>');
    expect(screen).toMatch(/image\s+built from the commit without the layer cache \(--no-cache\)/);
    expect(screen).toMatch(/env\s+API_KEY=\*{8} \(secret\)/);
    expect(screen).toContain('MODE=plain');
    expect(screen).toMatch(new RegExp(`ports\\s+127\\.0\\.0\\.1:${port}:8080`));
    // The one check that applies, and how this compares with what serves now.
    expect(screen).toMatch(new RegExp(`health\\s+GET http://127\\.0\\.0\\.1:${port}/ must answer 2xx/3xx within`));
    expect(screen).toMatch(new RegExp(`serving\\s+v2 \\([a-z2-9]{8}, running\\) · goes from [0-9a-f]{7} → ${v1.commit.slice(0, 7)}, 1 commit back`));
    expect(screen).toMatch(/then\s+v2 \([a-z2-9]{8}\) stops first/);
    expect(screen).toMatch(/changes\s+against v2, serving now:/);
    expect(screen).not.toContain(SECRET);
    t.keys('n', 'Enter');
    await t.waitFor(new RegExp(`EXIT=${EXIT_CODES.cancelled}`));
    expect(t.screen()).toContain('Cancelled; nothing was changed.');
    expect((await cli(['ls', '--app', app, '--json'], { env: env() })).json<unknown[]>()).toHaveLength(2);
    expect(await fetchText(port)).toBe('second');
  });

  it('acts on yes, with a spinner-drawn progress that ends in a readable summary', async () => {
    const t = open(`redeploy ${v1.id}`);
    await t.waitFor(/now\?/);
    t.keys('y', 'Enter');
    const screen = await t.waitFor(/EXIT=\d+/, 60_000);
    expect(screen).toContain('EXIT=0');
    expect(screen).toMatch(/✔ Reusing deploy\/.*: no build/);
    expect(screen).toMatch(new RegExp(`${app} v3 is running`));
    expect(screen).not.toContain(SECRET);
    expect(await fetchText(port)).toBe('first');
  });

  it('refuses at once, with its exit code, when the same command runs with no terminal', async () => {
    const r = await cli(['redeploy', v1.id], { env: env() });
    expect(r.code).toBe(EXIT_CODES.confirmation_required);
  });
});
