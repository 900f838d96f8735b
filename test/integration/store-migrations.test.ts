import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/adapters/store/migrations.js';
import { Store } from '../../src/adapters/store/store.js';
import { queryStatistics as statsFromRecords } from '../helpers/stats-reference.js';
import { tempHome } from '../helpers/cli.js';
import { makeDeployment } from '../helpers/unit.js';
import { newDeployment } from '../helpers/new-deployment.js';

type Row = Record<string, SQLInputValue>;

const CONFIG = JSON.stringify(makeDeployment().config);

/**
 * A deployment row as schema 1 wrote it (the columns every later version still has). Its image is tagged and its
 * container named as a deploy of this id and version would have, unless the record says otherwise.
 */
function baseRow(
  id: string,
  version: number,
  status: string,
  image: { id: string; tag?: string } | null = null,
  container: { id: string | null; name?: string } | null = null,
): Row {
  return {
    id,
    app: 'web',
    version,
    kind: 'deploy',
    parent_id: null,
    status,
    source: '/src/web',
    subdir: '',
    ref: 'main',
    commit_sha: 'a'.repeat(40),
    commit_subject: 'a change',
    commit_author: 'Ada <ada@example.com>',
    commit_time: 1,
    dirty: 0,
    image: image ? (image.tag ?? `deploy/web:${id}`) : null,
    image_id: image?.id ?? null,
    container_id: container?.id ?? null,
    container_name: container ? (container.name ?? `web-v${version}-${id}`) : null,
    endpoint: 'unix:///var/run/docker.sock',
    config: CONFIG,
    created_at: 1_000 + version,
    build_started_at: null,
    build_finished_at: null,
    started_at: null,
    ready_at: status === 'running' ? 2_000 : null,
    finished_at: status === 'failed' ? 3_000 : null,
    actor: 'ada',
    origin: 'terminal',
    error_code: status === 'failed' ? 'health_check_failed' : null,
    error_message: status === 'failed' ? 'it never answered' : null,
  };
}

/** The columns each later schema version added to a deployment row, with the values it would have written. */
const ADDED_BY: Record<number, (row: Row) => Row> = {
  3: () => ({ superseded_by: null }),
  4: () => ({ worker: null }),
  5: () => ({ rolled_back: 0, first_ready: 0 }),
  6: () => ({ exit_code: null, exited_at: null, checked_at: 5_000, rolled_back_from: null, adopted: 0 }),
  7: () => ({ overrides: null, served_before: null }),
  8: (row) => ({ runtime: 'container', workload: row.container_id ?? null, image_digest: row.image_id ?? null }),
};

/** A store file at schema `at`: the migrations up to it, and rows written with the columns it had. */
function storeAt(path: string, at: number, rows: Row[]): void {
  const db = new DatabaseSync(path);
  try {
    for (const step of MIGRATIONS.slice(0, at)) db.exec(step);
    db.exec(`PRAGMA user_version = ${at}`);
    for (const base of rows) {
      const row = { ...base };
      for (let v = 2; v <= at; v++) Object.assign(row, ADDED_BY[v]?.(row) ?? {});
      const cols = Object.keys(row);
      db.prepare(`INSERT INTO deployments (${cols.join(', ')}) VALUES (${cols.map((c) => `:${c}`).join(', ')})`).run(
        row,
      );
      db.prepare(`INSERT INTO apps (name, created_at) VALUES ('web', 1) ON CONFLICT (name) DO NOTHING`).run();
    }
  } finally {
    db.close();
  }
}

const home = tempHome();
afterAll(() => home.remove());

/**
 * A test for each schema version from `first` to the one before the latest, each on a store file of its own made at
 * that version: a step is tried on every older store that reaches it.
 */
function fromEachSchema(first: number, name: string, title: string, test: (path: string, at: number) => void): void {
  const versions = Array.from({ length: SCHEMA_VERSION - first }, (_, i) => first + i);
  it.each(versions)(`migrates a store from schema %i: ${title}`, (at) => test(join(home.dir, `${name}-${at}.db`), at));
}

describe('migration 8: runtime, workload and image digest on every record (real SQLite files)', () => {
  // Every version before the latest (9 and later included) is covered: each reaches the current schema.
  fromEachSchema(
    0,
    'runtime',
    'its records ran as containers, named by their container, with their image id as digest',
    (path, at) => {
      // Schema 0 is a file with no tables yet: there is no row such a store could hold.
      const rows =
        at === 0
          ? []
          : [
              baseRow('runs2345', 1, 'running', { id: 'sha256:1111' }, { id: 'c0ffee01' }),
              baseRow('fail2345', 2, 'failed', { id: 'sha256:2222' }, { id: null, name: 'web-v2-fail2345.starting' }),
              baseRow('queu2345', 3, 'queued'),
            ];
      storeAt(path, at, rows);

      const store = Store.open(path);
      try {
        if (at > 0) {
          expect(store.getDeployment('runs2345')).toMatchObject({
            status: 'running',
            runtime: 'container',
            workload: 'c0ffee01',
            containerId: 'c0ffee01',
            containerName: 'web-v1-runs2345',
            imageId: 'sha256:1111',
            imageDigest: 'sha256:1111',
          });
          // Its container was removed: no workload, the name kept; its image still names what ran.
          expect(store.getDeployment('fail2345')).toMatchObject({
            status: 'failed',
            runtime: 'container',
            workload: null,
            containerId: null,
            containerName: 'web-v2-fail2345.starting',
            imageDigest: 'sha256:2222',
          });
          expect(store.getDeployment('queu2345')).toMatchObject({
            runtime: 'container',
            workload: null,
            containerId: null,
            imageDigest: null,
          });
          // The old records stay readable as they were.
          expect(store.list({ app: 'web' }).map((d) => [d.id, d.version, d.status])).toEqual([
            ['queu2345', 3, 'queued'],
            ['fail2345', 2, 'failed'],
            ['runs2345', 1, 'running'],
          ]);
        }

        // The migrated store takes new records, and keeps a container deployment's workload equal to its container.
        const fresh = newDeployment({
          id: 'news2345',
          app: 'web',
          status: 'queued',
          imageId: null,
          imageDigest: null,
          workload: null,
          containerId: null,
          containerName: null,
        });
        const created = store.createDeployment(fresh);
        expect(created.version).toBe(at === 0 ? 1 : 4);
        expect(store.getDeployment('news2345')).toMatchObject({
          runtime: 'container',
          workload: null,
          imageDigest: null,
        });
        store.updateDeployment('news2345', { imageId: 'sha256:3333', imageDigest: 'sha256:3333' });
        store.updateDeployment('news2345', {
          status: 'starting',
          containerId: 'c0ffee04',
          containerName: 'web-v4-news2345',
        });
        expect(store.getDeployment('news2345')).toMatchObject({
          workload: 'c0ffee04',
          containerId: 'c0ffee04',
          imageDigest: 'sha256:3333',
        });
        store.updateDeployment('news2345', { containerId: null });
        expect(store.getDeployment('news2345')).toMatchObject({
          workload: null,
          containerId: null,
          containerName: 'web-v4-news2345',
        });
      } finally {
        store.close();
      }
    },
  );

  it("keeps a service deployment's workload, which follows the id the services write", () => {
    const store = Store.open(join(home.dir, 'service.db'));
    try {
      const fresh = newDeployment({
        id: 'svc22345',
        runtime: 'service',
        workload: 'svc-web-1',
        containerId: null,
        containerName: null,
      });
      store.createDeployment(fresh);
      expect(store.getDeployment('svc22345')).toMatchObject({
        runtime: 'service',
        workload: 'svc-web-1',
        containerId: null,
      });
      // The services write a service deployment's workload as containerId too (core/workload.ts): it follows.
      store.updateDeployment('svc22345', { containerId: 'svc-web-2' });
      expect(store.getDeployment('svc22345')).toMatchObject({ runtime: 'service', workload: 'svc-web-2' });
      store.updateDeployment('svc22345', { containerId: null });
      expect(store.getDeployment('svc22345')).toMatchObject({ runtime: 'service', workload: null });
    } finally {
      store.close();
    }
  });
});

describe("migration 9: the indexes a new record's history labels are read through (real SQLite files)", () => {
  /** Five records of web: v1 served then was rolled back from, v2 failed, v3 rolled back to v1 and served, v4 served, v5 queued. */
  const history = (): Row[] => {
    const rows = [
      baseRow('one22345', 1, 'superseded', { id: 'sha256:1111' }),
      baseRow('two22345', 2, 'failed', { id: 'sha256:2222' }),
      baseRow('thr22345', 3, 'superseded', { id: 'sha256:1111', tag: 'deploy/web:one22345' }),
      baseRow('fou22345', 4, 'running', { id: 'sha256:4444' }, { id: 'c0ffee04' }),
      baseRow('fiv22345', 5, 'queued'),
    ];
    Object.assign(rows[0] as Row, { ready_at: 1_500 });
    Object.assign(rows[2] as Row, { kind: 'rollback', parent_id: 'one22345', ready_at: 1_700 });
    return rows;
  };

  fromEachSchema(
    1,
    'labels',
    "the indexes exist, and a new record's labels list what served and what was rolled back from, newest first",
    (path, at) => {
      storeAt(path, at, history());
      // The rolled-back mark came with schema 5; before it, the record could not say so.
      if (at >= 5) {
        const db = new DatabaseSync(path);
        db.prepare("UPDATE deployments SET rolled_back = 1 WHERE id = 'one22345'").run();
        db.close();
      }

      const store = Store.open(path);
      try {
        const fresh = newDeployment({
          id: 'new22345',
          app: 'web',
          kind: 'deploy',
          status: 'queued',
        });
        const created = store.createDeployment(fresh);
        expect(created.version).toBe(6);
        // Migration 5 marks a record replaced by a rollback from superseded_by, which these rows do not set.
        expect(store.getDeployment('new22345')).toMatchObject({
          servedBefore: ['fou22345', 'thr22345', 'one22345'],
          rolledBackFrom: at >= 5 ? ['one22345'] : [],
        });
      } finally {
        store.close();
      }

      // What the step made (the schema itself, read as SQLite keeps it).
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        const indexes = db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'deployments_%_by_version' ORDER BY name",
          )
          .all();
        expect(indexes.map((r) => r.name)).toEqual([
          'deployments_rolled_back_by_version',
          'deployments_served_by_version',
        ]);
        expect((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
      } finally {
        db.close();
      }
    },
  );
});

describe('migration 10: releases kept for a bake window are found through their own index (real SQLite files)', () => {
  fromEachSchema(
    1,
    'kept',
    'the index exists, and kept() finds exactly the superseded records with a container',
    (path, at) => {
      storeAt(path, at, [
        baseRow('kep12345', 1, 'superseded', { id: 'sha256:1111' }, { id: 'c1' }),
        baseRow('gon12345', 2, 'superseded', { id: 'sha256:2222' }),
        // Superseded with a container id but published directly (a record from before, or an unusual history):
        // not a release the front door keeps.
        baseRow('old12345', 4, 'superseded', { id: 'sha256:4444' }, { id: 'c4' }),
        baseRow('run12345', 3, 'running', { id: 'sha256:3333' }, { id: 'c3' }),
      ]);
      // The kept one is routed by the front door (its snapshot says proxy: true); old12345's says false.
      const raw = new DatabaseSync(path);
      raw
        .prepare("UPDATE deployments SET config = json_set(config, '$.proxy', json('true')) WHERE id = 'kep12345'")
        .run();
      raw
        .prepare("UPDATE deployments SET config = json_set(config, '$.proxy', json('false')) WHERE id <> 'kep12345'")
        .run();
      raw.close();
      const store = Store.open(path);
      try {
        expect(store.kept('web').map((d) => d.id)).toEqual(['kep12345']);
        expect(store.kept().map((d) => d.id)).toEqual(['kep12345']);
        expect(store.kept('other')).toEqual([]);
        expect(store.needsRecovery()).toBe(true);
      } finally {
        store.close();
      }
      const db = new DatabaseSync(path);
      try {
        const index = db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'deployments_kept'")
          .all();
        expect(index).toHaveLength(1);
      } finally {
        db.close();
      }
    },
  );
});

describe('migration 11: the rollups deploy stats reads, marked out of date by triggers (real SQLite files)', () => {
  const DAY = 86_400_000;
  const window = { since: 0, until: 2 * DAY };

  it('is the latest step', () => {
    // If a later step is added, the loop below covers its earlier versions too; this names what is tested here.
    expect(SCHEMA_VERSION).toBe(11);
  });

  /** What deploy stats computes from every record (the queries before the rollups), on its own connection. */
  const fromRecords = (path: string) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return statsFromRecords(db, window);
    } finally {
      db.close();
    }
  };
  const query = (path: string, sql: string) => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return db
        .prepare(sql)
        .all()
        .map((r) => ({ ...r }));
    } finally {
      db.close();
    }
  };

  fromEachSchema(
    0,
    'rollups',
    'its days are marked, then read from rollups with the figures of its records',
    (path, at) => {
      storeAt(
        path,
        at,
        at === 0
          ? []
          : [
              baseRow('runs2345', 1, 'running', { id: 'sha256:1111' }),
              baseRow('fail2345', 2, 'failed'),
              baseRow('queu2345', 3, 'queued'),
            ],
      );
      const store = Store.open(path);
      try {
        // Every day the records were made on (all on day 0 here) is marked, nothing computed yet.
        expect(query(path, 'SELECT app, first_day, last_day FROM stats_stale')).toEqual(
          at === 0 ? [] : [{ app: 'web', first_day: 0, last_day: 0 }],
        );
        expect(query(path, 'SELECT * FROM stats_days')).toEqual([]);

        const first = store.statistics(window);
        expect(first).toEqual(fromRecords(path));
        expect(first.counts).toEqual(
          at === 0 ? [] : [{ app: 'web', total: 3, pending: 1, successful: 1, failed: 1, running: 1, stopped: 0 }],
        );
        // Reading kept the day's rollup and cleared the marks.
        expect(query(path, 'SELECT app, day, total, successful, failed FROM stats_days')).toEqual(
          at === 0 ? [] : [{ app: 'web', day: 0, total: 3, successful: 1, failed: 1 }],
        );
        expect(query(path, 'SELECT * FROM stats_stale')).toEqual([]);

        // A record made after the migration marks its day, and the days of the failures it restores.
        const fresh = newDeployment({
          id: 'news2345',
          app: 'web',
          status: 'running',
          createdAt: DAY + 5_000,
          buildStartedAt: DAY + 5_100,
          buildFinishedAt: DAY + 5_500,
          startedAt: DAY + 5_600,
          readyAt: DAY + 6_000,
          finishedAt: DAY + 6_100,
        });
        store.createDeployment(fresh);
        // (With no healthy deployment before it, from day 0: every failure of the app may be the one it restores.)
        expect(query(path, 'SELECT app, first_day, last_day FROM stats_stale ORDER BY first_day')).toEqual([
          { app: 'web', first_day: 0, last_day: 1 },
          { app: 'web', first_day: 1, last_day: 1 },
        ]);
        expect(store.statistics(window)).toEqual(fromRecords(path));
        expect(store.statistics(window).counts[0]).toMatchObject({ app: 'web', successful: at === 0 ? 1 : 2 });
      } finally {
        store.close();
      }
    },
  );
});
