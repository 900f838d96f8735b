import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/adapters/store/migrations.js';
import { Store } from '../../src/adapters/store/store.js';
import { tempHome } from '../helpers/cli.js';
import { newDeployment } from '../helpers/new-deployment.js';

/** The store's side of "one truth about what runs", on a real SQLite file. */
describe('store migration 6 and what it keeps', () => {
  const home = tempHome();
  afterAll(() => home.remove());

  it("migrates a schema-5 store: records sync added are marked adopted, the others are this store's own", () => {
    const path = join(home.dir, 'old.db');
    const db = new DatabaseSync(path);
    for (const step of MIGRATIONS.slice(0, 5)) db.exec(step);
    db.exec('PRAGMA user_version = 5');
    const insert = db.prepare(
      `INSERT INTO deployments (id, app, version, kind, status, source, subdir, ref, commit_sha, commit_subject, commit_author, dirty, endpoint, config, created_at, actor, origin)
       VALUES (?, ?, 1, 'deploy', 'running', '/s', '', 'main', 'abc', 's', 'a', 0, 'unix:///var/run/docker.sock', '{}', 1, 'x', 'ci')`,
    );
    insert.run('mine2345', 'mine');
    insert.run('them2345', 'theirs');
    db.prepare(
      `INSERT INTO events (deployment_id, at, type, message) VALUES ('them2345', 2, 'synced', 'added from container labels on unix:///var/run/docker.sock')`,
    ).run();
    db.close();
    const store = Store.open(path);
    try {
      expect(store.deployedHere('mine')).toBe(true);
      expect(store.deployedHere('theirs')).toBe(false);
      expect(store.getDeployment('mine2345')).toMatchObject({
        exitCode: null,
        exitedAt: null,
        checkedAt: null,
        rolledBackFrom: [],
      });
    } finally {
      store.close();
    }
  });

  it("writes the app's rolled-back history into each new record, and a rollback adds the deployment it replaces", () => {
    const store = Store.open(join(home.dir, 'new.db'));
    try {
      const fresh = newDeployment({ app: 'web', status: 'superseded' });
      const v1 = store.createDeployment({ ...fresh, id: 'aaaa2345' });
      const v2 = store.createDeployment({ ...fresh, id: 'bbbb2345' });
      store.setCurrent('web', v2.id, 1);
      expect(v2.rolledBackFrom).toEqual([]);
      const v3 = store.createDeployment({ ...fresh, id: 'cccc2345', kind: 'rollback', parentId: v1.id });
      expect(v3.rolledBackFrom).toEqual([v2.id]);
      expect(store.getDeployment(v3.id)?.rolledBackFrom).toEqual([v2.id]);
      store.updateDeployment(v2.id, { rolledBack: true });
      store.setCurrent('web', v3.id, 2);
      const v4 = store.createDeployment({ ...fresh, id: 'dddd2345' });
      expect(v4.rolledBackFrom).toEqual([v2.id]);
      expect(store.markRolledBack('web', [v1.id, v2.id, 'nosuch23'])).toEqual([v1.id]);
    } finally {
      store.close();
    }
  });
});
