import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import type { Deployment } from '../../src/core/types.js';
import { BIN } from '../helpers/process.js';
import { tempHome } from '../helpers/cli.js';
import { testApp } from '../helpers/docker.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';
import { newDeployment } from '../helpers/new-deployment.js';

const DAY = 86_400_000;

/**
 * A history as `deploy ls` and `deploy stats` meet it after a few weeks: two apps (one with a long name),
 * deploys, a redeploy rolled back from, the rollback, failures, long commit subjects.
 */
function seed(path: string, apps: [string, string]): void {
  const store = Store.open(path);
  // Yesterday at noon UTC: both apps' deployments of a day fall on the same UTC day whatever the time now.
  const now = Math.floor(Date.now() / DAY) * DAY - DAY / 2;
  let n = 0;
  const add = (d: Partial<Deployment>) => {
    const { id } = store.createDeployment(newDeployment({ id: `scr${String(n++).padStart(5, '0')}`, ...d }));
    if (d.rolledBack) store.updateDeployment(id, { rolledBack: true });
  };
  const subject = 'Move the "checkout" flow behind the new payments provider and retry on timeouts';
  for (const [a, app] of apps.entries()) {
    const ids: string[] = [];
    for (let day = 20; day >= 2; day -= 3) {
      const at = now - day * DAY - a * 3_600_000;
      const failed = day === 14 || day === 5;
      ids.push(`scr${String(n).padStart(5, '0')}`);
      add({
        app,
        status: failed ? 'failed' : 'superseded',
        containerId: null,
        createdAt: at,
        commitSubject: subject,
        commitTime: at - 3_600_000,
        readyAt: failed ? null : at + 40_000,
        buildStartedAt: at + 1_000,
        buildFinishedAt: at + 30_000,
        startedAt: at + 31_000,
        finishedAt: at + 41_000,
      });
    }
    const t = now - DAY - a * 3_600_000;
    const times = (at: number) => ({
      createdAt: at,
      commitTime: at - 3_600_000,
      buildStartedAt: null,
      buildFinishedAt: null,
      startedAt: at + 1_000,
      readyAt: at + 5_000,
      finishedAt: at + 6_000,
    });
    add({
      app,
      id: `scr${a}redo`,
      kind: 'redeploy',
      parentId: ids[0],
      status: 'superseded',
      rolledBack: true,
      commitSubject: subject,
      ...times(t),
    });
    add({ app, kind: 'rollback', parentId: ids[1], status: 'running', commitSubject: subject, ...times(t + 600_000) });
  }
  store.close();
}

describe.skipIf(!hasTmux())('ls and stats on a real terminal, at 80 and 50 columns', () => {
  const home = tempHome();
  const apps: [string, string] = [testApp('scr'), `${testApp('scr')}-payments-gateway`];
  const terminals: Terminal[] = [];
  beforeAll(() => seed(join(home.dir, 'deploy.db'), apps));
  afterAll(() => {
    for (const t of terminals) t.close();
    home.remove();
  });

  /** The screen once the command is done (capture-pane -J joins a wrapped line back into one). */
  async function screen(args: string, cols: number): Promise<string[]> {
    const t = new Terminal(
      `${process.execPath} ${BIN} ${args}`,
      { DEPLOY_HOME: home.dir, HOME: home.dir },
      { cols, rows: 80 },
    );
    terminals.push(t);
    const text = await t.waitFor(/EXIT=\d+/);
    expect(text).toContain('EXIT=0');
    return text.slice(0, text.indexOf('EXIT=')).trimEnd().split('\n');
  }

  for (const cols of [80, 50]) {
    it(`ls fits ${cols} columns: one line per deployment, the rule and the summary within the width`, async () => {
      const lines = await screen('ls', cols);
      for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(cols);
      expect(lines[0]).toMatch(/^ID\s+VER\s/);
      expect(lines[1]).toMatch(/^─+$/);
      const rows = lines.slice(2).filter((l) => /^scr/.test(l));
      expect(rows).toHaveLength(18);
      expect(rows.find((l) => l.startsWith('scr0redo'))).toMatch(/rolled back/);
      expect(rows.filter((l) => /\bfailed\b/.test(l))).toHaveLength(4);
      if (cols === 80) expect(lines.join('\n')).toContain('rollback to v');
      expect(lines.slice(2 + rows.length).join(' ')).toMatch(/^18 shown of 18 · 2 running · 0 stopped( ·)? 4 failed$/);
    });

    it(`stats fits ${cols} columns, CFR explained and the chart in the width`, async () => {
      const lines = await screen('stats', cols);
      for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(cols);
      expect(lines[0]).toMatch(/^All apps: deployments since \d{4}-\d{2}-\d{2} \(30 days\)$/);
      const text = lines.join('\n');
      expect(text).toMatch(/CHANGE FAILURE RATE|CFR: change failure rate/);
      expect(text).toContain('Deployments per day');
      // Two failures on each of two days (one per app): below the rule, a row and a half each, as two successes are above it.
      expect(text).toMatch(/^ {6}failed +▄ +▄ *\n {13} +█ +█ *$/m);
      expect(text).toMatch(/^ {13} +▄ +▄ +▄ +▄ +▄█ *\n {2}successful +█ +█ +█ +█ +██ *$/m);
    });
  }
});
