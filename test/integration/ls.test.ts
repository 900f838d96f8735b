import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import { fittedTable, kindLabel } from '../../src/cli/commands/ls.js';
import type { Deployment } from '../../src/core/types.js';
import { makeColors } from '../../src/ui/colors.js';
import { visibleLength } from '../../src/ui/table.js';
import { cli, tempHome } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/unit.js';
import { newDeployment } from '../helpers/new-deployment.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const NOW = T0 + 3_600_000;

/**
 * A real store holding a history with every kind: v1 and v2 deployed, v3 a redeploy of v1 that was rolled
 * back from, v4 the rollback to v2, and v5 a failed deploy.
 */
function seed(path: string): void {
  const store = Store.open(path);
  const add = (d: Partial<Deployment>) => {
    const { id } = store.createDeployment(newDeployment(d));
    if (d.rolledBack) store.updateDeployment(id, { rolledBack: true });
  };
  const subject = 'Render the "pricing" page with the new layout and a longer subject than fits';
  add({ id: 'aaaa1111', app: 'shop-ls', status: 'superseded', createdAt: T0, commitSubject: subject });
  add({ id: 'aaaa2222', app: 'shop-ls', status: 'superseded', createdAt: T0 + 60_000, commitSubject: subject });
  add({
    id: 'aaaa3333',
    app: 'shop-ls',
    kind: 'redeploy',
    parentId: 'aaaa1111',
    status: 'superseded',
    rolledBack: true,
    createdAt: T0 + 120_000,
    commitSubject: subject,
  });
  add({
    id: 'aaaa4444',
    app: 'shop-ls',
    kind: 'rollback',
    parentId: 'aaaa2222',
    status: 'running',
    createdAt: T0 + 180_000,
    commitSubject: subject,
  });
  add({
    id: 'aaaa5555',
    app: 'shop-ls',
    status: 'failed',
    createdAt: T0 + 240_000,
    readyAt: null,
    commitSubject: subject,
  });
  // A redeploy whose parent this store does not have (pruned, or made elsewhere).
  add({
    id: 'bbbb1111',
    app: 'other-ls',
    kind: 'redeploy',
    parentId: 'zzzz9999',
    status: 'running',
    createdAt: T0 + 300_000,
  });
  store.close();
}

describe('deploy ls shows what made each deployment', () => {
  const home = tempHome();
  beforeAll(() => seed(join(home.dir, 'deploy.db')));
  afterAll(() => home.remove());

  it("reads each row's kind and its parent's version in the same query", () => {
    const store = Store.open(join(home.dir, 'deploy.db'));
    try {
      const rows = store.listRows();
      expect(rows.map((r) => [r.id, r.kind, r.parentVersion, r.rolledBack])).toEqual([
        ['bbbb1111', 'redeploy', null, 0],
        ['aaaa5555', 'deploy', null, 0],
        ['aaaa4444', 'rollback', 2, 0],
        ['aaaa3333', 'redeploy', 1, 1],
        ['aaaa2222', 'deploy', null, 0],
        ['aaaa1111', 'deploy', null, 0],
      ]);
      expect(rows.map(kindLabel)).toEqual([
        'redeploy',
        'deploy',
        'rollback to v2',
        'redeploy of v1',
        'deploy',
        'deploy',
      ]);
    } finally {
      store.close();
    }
  });

  it('prints the kind and marks the release that was rolled back, in plain columns', async () => {
    const r = await cli(['ls', '--app', 'shop-ls'], { env: { DEPLOY_HOME: home.dir }, now: () => NOW });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // The columns scripts knew, in their order, then KIND last; the status's first word is still the status.
    expect(lines[0]).toMatch(/^ID\s+VER\s+APP\s+STATUS\s+COMMIT\s+IMAGE\s+AGE\s+DURATION\s+ENDPOINT\s+KIND$/);
    expect(lines.find((l) => l.startsWith('aaaa4444'))).toMatch(
      /^aaaa4444\s+v4\s+shop-ls\s+running\s+0123456 Render the "pricing".*\slocal\s+rollback to v2$/,
    );
    expect(lines.find((l) => l.startsWith('aaaa3333'))).toMatch(
      /^aaaa3333\s+v3\s+shop-ls\s+superseded \(rolled back\)\s+0123456 .*\slocal\s+redeploy of v1$/,
    );
    expect(lines.find((l) => l.startsWith('aaaa2222'))).toMatch(
      /^aaaa2222\s+v2\s+shop-ls\s+superseded\s+0123456 .*\slocal\s+deploy$/,
    );
    expect(r.stderr).toContain('5 shown of 5 · 1 running · 0 stopped · 1 failed');
  });

  it('keeps --json records as they were: kind and parentId, no table-only fields', async () => {
    const r = await cli(['ls', '--app', 'shop-ls', '--json'], { env: { DEPLOY_HOME: home.dir }, now: () => NOW });
    const records = r.json<Array<Record<string, unknown>>>();
    expect(records.find((d) => d.id === 'aaaa4444')).toMatchObject({
      kind: 'rollback',
      parentId: 'aaaa2222',
      status: 'running',
    });
    expect(records.every((d) => !('parentVersion' in d))).toBe(true);
  });

  for (const columns of [160, 120, 100, 80, 60, 50, 40]) {
    it(`fits a terminal of ${columns} columns, one line per deployment, the summary too`, async () => {
      const r = await cli(['ls'], { env: { DEPLOY_HOME: home.dir }, now: () => NOW, tty: true, columns });
      expect(r.code).toBe(0);
      const lines = r.stdout
        .trimEnd()
        // eslint-disable-next-line no-control-regex
        .replace(/\u001b\[[0-9;]*m/g, '')
        .split('\n');
      for (const line of lines) expect(visibleLength(line), line).toBeLessThanOrEqual(columns);
      // A header, the rule, six rows, then the summary (on as many lines as it takes).
      expect(lines.slice(2, 8).map((l) => l.slice(0, 8))).toEqual([
        'bbbb1111',
        'aaaa5555',
        'aaaa4444',
        'aaaa3333',
        'aaaa2222',
        'aaaa1111',
      ]);
      expect(lines.slice(8).join(' ')).toMatch(/^6 shown of 6 · 2 running · 0 stopped( ·)? 1 failed$/);
    });
  }

  it('at 50 columns still shows id, version, status and age, and the rolled-back release as such', async () => {
    const store = Store.open(join(home.dir, 'deploy.db'));
    const table = await fittedTable(store.listRows(), NOW, makeColors(false), 50);
    store.close();
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^ID\s+VER\s+(APP\s+)?STATUS\s+AGE$/);
    expect(lines.find((l) => l.startsWith('aaaa3333'))).toMatch(/^aaaa3333\s+v3\s+(shop-ls\s+)?rolled back\s+58m ago$/);
  });

  it('at 80 columns keeps the kind and the commit', async () => {
    const store = Store.open(join(home.dir, 'deploy.db'));
    const table = await fittedTable(store.listRows(), NOW, makeColors(false), 80);
    store.close();
    expect(table.split('\n')[0]).toMatch(/\bKIND\s+COMMIT\b/);
    expect(table).toContain('rollback to v2');
  });
});

describe('escape sequences in what deploy shows', () => {
  const home = tempHome();
  beforeAll(() => {
    const store = Store.open(join(home.dir, 'deploy.db'));
    const rest = newDeployment({
      id: 'cccc1111',
      app: 'esc-ls',
      status: 'running',
      createdAt: T0,
      commitSubject: 'Fix\x1b]0;pwned\x07 title\x1b[2J and \x1b[31mred\x1b[0m',
      config: { ...makeDeployment({}).config, env: { NOTE: { value: 'a\x1b[1Abc', secret: false } } },
    });
    store.createDeployment(rest);
    store.close();
  });
  afterAll(() => home.remove());

  it('never reach the terminal from ls, inspect or config list, on a terminal or not', async () => {
    for (const tty of [false, true]) {
      for (const argv of [['ls'], ['inspect', 'cccc1111'], ['config', 'list', '--app', 'esc-ls']]) {
        const r = await cli(argv, { env: { DEPLOY_HOME: home.dir, NO_COLOR: '1' }, tty, now: () => NOW });
        expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
        expect(r.stdout + r.stderr, argv.join(' ')).not.toContain('\x1b');
        expect(r.stdout + r.stderr, argv.join(' ')).not.toContain('\x07');
      }
    }
  });
});
