import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/adapters/store/migrations.js';
import { Store } from '../../src/adapters/store/store.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/unit.js';
import { fault } from './fault.js';
import { newDeployment } from '../helpers/new-deployment.js';

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the store: files, versions, damage, a full disk (real SQLite)', () => {
  let home: ReturnType<typeof tempHome>;
  let path: string;
  beforeEach(() => {
    home = tempHome();
    path = join(home.dir, 'deploy.db');
  });
  afterEach(() => home.remove());

  function seed(ids: string[]): void {
    const store = Store.open(path);
    ids.forEach((id, n) => {
      store.createDeployment(
        newDeployment({ id, app: 'web', createdAt: Date.UTC(2026, 10, 1 + n), status: 'superseded' }),
      );
    });
    store.close();
  }

  it('is created 0600 in a 0700 directory, in WAL mode, at the latest schema', () => {
    Store.open(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(home.dir).mode & 0o777).toBe(0o700);
    const db = new DatabaseSync(path);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION });
    db.close();
  });

  it('numbers versions per app and resolves ids, unique prefixes and APP@vN', async () => {
    seed(['abcdefgh', 'abcxyz23', 'kmnpqrst']);
    const env = { DEPLOY_HOME: home.dir };
    expect((await cli(['inspect', 'kmn', '--json'], { env })).json<PublicRecord>()).toMatchObject({
      id: 'kmnpqrst',
      version: 3,
    });
    expect((await cli(['inspect', 'web@v2', '--json'], { env })).json<PublicRecord>()).toMatchObject({
      id: 'abcxyz23',
    });
    expect((await cli(['inspect', 'web@2', '--json'], { env })).json<PublicRecord>()).toMatchObject({ id: 'abcxyz23' });

    const ambiguous = await cli(['inspect', 'abc', '--json'], { env });
    expect(ambiguous.code).toBe(EXIT_CODES.ambiguous);
    const error = ambiguous.json<{ error: { message: string; details: { candidates: Array<{ id: string }> } } }>()
      .error;
    expect(error.details.candidates.map((c) => c.id).sort()).toEqual(['abcdefgh', 'abcxyz23']);
    expect(error.message).toContain('"abc" matches 2 deployments');

    const text = await cli(['inspect', 'abc'], { env });
    expect(text.stderr).toMatch(/abcdefgh {2}web@v1 {2}superseded/);
    expect(text.stderr).toContain('Give more characters of the id, or write APP@vN.');

    const unknown = await cli(['inspect', 'zzzzzz'], { env });
    expect(unknown.code).toBe(EXIT_CODES.not_found);
    expect((await cli(['inspect', 'web@v9'], { env })).code).toBe(EXIT_CODES.not_found);
  });

  it('migrates a store from an older schema forward, keeping its records', ({ task }) => {
    fault(task, 'schema 1 → latest on open; records kept');
    const db = new DatabaseSync(path);
    db.exec(MIGRATIONS[0] as string);
    db.exec('PRAGMA user_version = 1');
    db.prepare(
      `INSERT INTO deployments (id, app, version, kind, status, source, subdir, ref, commit_sha, commit_subject, commit_author, dirty, endpoint, config, created_at, actor, origin)
       VALUES ('oldonexx', 'web', 1, 'deploy', 'running', '/r', '', 'main', 'abc', 's', 'a', 0, 'unix:///var/run/docker.sock', :config, 1, 'me', 'terminal')`,
    ).run({ config: JSON.stringify(makeDeployment().config) });
    db.close();
    const store = Store.open(path);
    expect(store.getDeployment('oldonexx')).toMatchObject({ id: 'oldonexx', version: 1, supersededBy: null });
    expect(store.appConfig('web')).toEqual([]);
    store.close();
    const after = new DatabaseSync(path);
    expect(after.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION });
    after.close();
  });

  it('refuses a store written by a newer version, and leaves it untouched', async ({ task }) => {
    fault(task, `exit ${EXIT_CODES.store}, "written by a newer version", file bytes unchanged`);
    seed(['abcdefgh']);
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = hash(path);
    const r = await cli(['ls'], { env: { DEPLOY_HOME: home.dir } });
    expect(r.code).toBe(EXIT_CODES.store);
    expect(r.stderr).toContain('written by a newer version of deploy');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(hash(path)).toBe(before);
  });

  it('reports a damaged file and never overwrites it', async ({ task }) => {
    fault(task, `exit ${EXIT_CODES.store}, "damaged", a hint to move it aside, file bytes unchanged`);
    writeFileSync(path, 'this is not a database, just some text that happens to be here\n'.repeat(100), {
      mode: 0o600,
    });
    const before = hash(path);
    const r = await cli(['ls', '--json'], { env: { DEPLOY_HOME: home.dir } });
    expect(r.code).toBe(EXIT_CODES.store);
    expect(r.json<{ error: { message: string; hint: string } }>().error).toMatchObject({
      message: expect.stringContaining('is damaged or is not a deploy store') as unknown as string,
      hint: expect.stringContaining('Move it aside') as unknown as string,
    });
    expect(hash(path)).toBe(before);
  });

  it('warns when the store can be read by other users', async ({ task }) => {
    fault(task, 'a warning naming the mode and the chmod to run');
    Store.open(path).close();
    chmodSync(path, 0o644);
    const r = await cli(['ls'], { env: { DEPLOY_HOME: home.dir } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('can be read by other users (mode 644); run: chmod 600');
  });
});

describe('a full disk while writing', () => {
  it('fails the write with the store code, and leaves the last good state', async ({ task }) => {
    const report = fault(
      task,
      `exit ${EXIT_CODES.store} "disk ... is full"; ls, inspect, stats, config list still answer; the store keeps its last good state; integrity_check ok`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'deploy-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    try {
      const env = { DEPLOY_HOME: dir };
      // An app this store knows: config set refuses a name it has never seen (outside that app's repository).
      const store = Store.open(join(dir, 'deploy.db'));
      store.createDeployment(newDeployment({ app: 'web' }));
      store.close();
      expect((await cli(['config', 'set', 'GREETING=before', '--app', 'web'], { env })).code).toBe(0);
      // Fill the disk, leaving almost nothing.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
      } catch {
        // dd stops when the disk is full: that is the point
      }
      const big = 'x'.repeat(60_000);
      const r = await cli(['config', 'set', `BIG=${big}`, 'GREETING=after', '--app', 'web', '--json'], { env });
      expect(r.code).toBe(EXIT_CODES.store);
      expect(r.json<{ error: { message: string } }>().error.message).toMatch(/disk holding the store .* is full/);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      // Reading commands still answer on the full disk (what they would note is left unnoted).
      for (const argv of [
        ['ls'],
        ['ls', '--json'],
        ['inspect', 'web'],
        ['stats'],
        ['config', 'list', '--app', 'web'],
      ]) {
        const q = await cli(argv, { env });
        expect(q.code, `${argv.join(' ')}: ${q.stderr}`).toBe(0);
      }
      rmSync(join(dir, 'filler'));
      const after = await cli(['config', 'get', 'GREETING', '--app', 'web'], { env });
      expect(after.stdout.trim()).toBe('before');
      expect((await cli(['config', 'get', 'BIG', '--app', 'web'], { env })).code).toBe(EXIT_CODES.not_found);
      const db = new DatabaseSync(join(dir, 'deploy.db'), { readOnly: true });
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      db.close();
      report(`exit ${r.code}; GREETING still "before"; integrity_check ok`);
    } finally {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
