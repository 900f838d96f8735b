import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { BIN } from '../helpers/process.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { Terminal } from '../helpers/tmux.js';

const SECRET = 'tmux-visible-secret-77';
const RECORD_IMPORTS = fileURLToPath(new URL('../helpers/record-imports.mjs', import.meta.url));

/** How many times `text` appears on the screen. */
function count(screen: string, text: string): number {
  return screen.split(text).length - 1;
}

describe('confirmation at a real terminal (tmux)', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('tty');
  let port = 0;
  let v1: PublicRecord;
  const terminals: Terminal[] = [];
  const env = () => ({ DEPLOY_HOME: home.dir });
  const open = (args: string, extraEnv: Record<string, string> = {}, size?: { cols: number; rows: number }) => {
    const t = new Terminal(
      `${process.execPath} --import ${RECORD_IMPORTS} ${BIN} ${args}`,
      { ...env(), ...extraEnv },
      size,
    );
    terminals.push(t);
    return t;
  };
  /** The modules a command run at the terminal loaded (see record-imports.mjs). */
  let imports = 0;
  const recording = () => ({ DEPLOY_TEST_IMPORTS: join(home.dir, `imports-${++imports}.txt`) });
  const loaded = (rec: { DEPLOY_TEST_IMPORTS: string }) =>
    existsSync(rec.DEPLOY_TEST_IMPORTS) ? readFileSync(rec.DEPLOY_TEST_IMPORTS, 'utf8') : '';

  beforeAll(async () => {
    port = await freePort();
    repo.commit(
      'first',
      webApp('first', {
        deployJson: { app, ports: [`127.0.0.1:${port}:8080`], env: { MODE: 'plain' }, healthCheck: { path: '/' } },
      }),
    );
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
    expect(screen).toMatch(
      new RegExp(
        `serving\\s+v2 \\([a-z2-9]{8}, running\\) · goes from [0-9a-f]{7} → ${v1.commit.slice(0, 7)}, 1 commit back`,
      ),
    );
    expect(screen).toMatch(/then\s+v2 \([a-z2-9]{8}\) stops first/);
    expect(screen).toMatch(/changes\s+against v2, serving now:/);
    expect(screen).not.toContain(SECRET);
    t.keys('n', 'Enter');
    const after = await t.waitFor(new RegExp(`EXIT=${EXIT_CODES.cancelled}`));
    // The answer, then the cancellation said once: no check mark in front of the "No", no "Error:".
    expect(after).toMatch(
      new RegExp(`^Redeploy ${app} now\\? No\\nCancelled; nothing was changed\\.\\nEXIT=${EXIT_CODES.cancelled}$`, 'm'),
    );
    expect(count(after, 'Cancelled; nothing was changed.')).toBe(1);
    expect(after).not.toContain('✔');
    expect(after).not.toContain('Error');
    expect((await cli(['ls', '--app', app, '--json'], { env: env() })).json<unknown[]>()).toHaveLength(2);
    expect(await fetchText(port)).toBe('second');
  });

  it('fits the plan to an 80-column terminal: a long value wraps under itself, not under the labels', async () => {
    const t = open(`redeploy ${v1.id}`, {}, { cols: 80, rows: 45 });
    const lines = (await t.waitFor(/Redeploy .* now\?/)).split('\n');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    const then = lines.findIndex((l) => /^ {2}then {6}v2 /.test(l));
    expect(then, lines.join('\n')).toBeGreaterThan(0);
    expect(lines[then + 1]).toMatch(/^ {12}\S/);
    t.keys('n', 'Enter');
    expect(await t.waitFor(/EXIT=\d+/)).toContain(`EXIT=${EXIT_CODES.cancelled}`);
  });

  it.each([
    ['Ctrl-C', 'C-c'],
    ['Esc', 'Escape'],
  ])('cancels on %s the same way: the cancellation once, the question gone, nothing changed', async (_name, key) => {
    const t = open(`redeploy ${v1.id}`);
    await t.waitFor(/Redeploy .* now\?/);
    t.keys(key);
    const after = await t.waitFor(new RegExp(`EXIT=\\d+`));
    expect(after).toContain(`EXIT=${EXIT_CODES.cancelled}`);
    expect(count(after, 'Cancelled; nothing was changed.')).toBe(1);
    expect(after).not.toMatch(/now\?/);
    expect(after).not.toContain('✔');
    expect(after).not.toContain('Error');
    expect((await cli(['ls', '--app', app, '--json'], { env: env() })).json<unknown[]>()).toHaveLength(2);
  });

  it('lists deployments at a terminal without loading the spinner library', async () => {
    const rec = recording();
    const t = open(`ls --app ${app}`, rec);
    const screen = await t.waitFor(/EXIT=\d+/);
    expect(screen).toContain('EXIT=0');
    expect(loaded(rec)).toContain('/dist/main.js');
    expect(loaded(rec)).not.toContain('/node_modules/ora/');
  });

  it('acts on yes, with a spinner-drawn progress that ends in a readable summary', async () => {
    const rec = recording();
    const t = open(`redeploy ${v1.id}`, rec);
    await t.waitFor(/now\?/);
    t.keys('y', 'Enter');
    const screen = await t.waitFor(/EXIT=\d+/, 60_000);
    expect(screen).toContain('EXIT=0');
    expect(screen).toContain(`✔ Redeploy ${app} now? Yes`);
    expect(loaded(rec)).toContain('/node_modules/ora/');
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
