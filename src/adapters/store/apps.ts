import type { AppRecord } from '../../core/types.js';
import type { Sql } from './sql.js';

/** The `apps` table: each app this store knows, where its code comes from, and its current deployment. */
export class Apps {
  constructor(private readonly sql: Sql) {}

  getApp(name: string): AppRecord | null {
    const row = this.sql.get('SELECT * FROM apps WHERE name = :name', { name });
    if (!row) return null;
    return {
      name: row.name as string,
      source: (row.source as string | null) ?? null,
      subdir: row.subdir as string,
      ref: (row.ref as string | null) ?? null,
      currentId: (row.current_id as string | null) ?? null,
      createdAt: row.created_at as number,
    };
  }

  /** Remembers where an app's code comes from, so `deploy deploy --app NAME` works from anywhere. */
  rememberSource(name: string, source: { source: string; subdir: string; ref: string }, at: number): void {
    this.sql.run(
      `INSERT INTO apps (name, source, subdir, ref, created_at) VALUES (:name, :source, :subdir, :ref, :at)
       ON CONFLICT (name) DO UPDATE SET source = excluded.source, subdir = excluded.subdir, ref = excluded.ref`,
      { name, ...source, at },
    );
  }

  setCurrent(app: string, id: string | null, at: number): void {
    this.sql.run(
      `INSERT INTO apps (name, current_id, created_at) VALUES (:app, :id, :at)
       ON CONFLICT (name) DO UPDATE SET current_id = excluded.current_id`,
      { app, id, at },
    );
  }

  /** Makes the app's row if it has none (a first deployment, a first setting). */
  ensure(app: string, at: number): void {
    this.sql.run('INSERT INTO apps (name, created_at) VALUES (:app, :at) ON CONFLICT (name) DO NOTHING', { app, at });
  }

  /** Every app this store has a row for (deployed, configured, or synced with --app / --all). */
  appNames(): string[] {
    return this.sql.all('SELECT name FROM apps ORDER BY name').map((r) => r.name as string);
  }

  /**
   * Apps this store deployed itself: it holds a record of the app that it made (deploy, redeploy, rollback
   * from here), not only records `deploy sync` brought in. What `prune` without --app acts on.
   */
  deployedHere(app: string): boolean {
    return (
      this.sql.get('SELECT 1 AS yes FROM deployments WHERE app = :app AND adopted = 0 LIMIT 1', { app }) !== undefined
    );
  }

  /** `deploy destroy`: removes an app's stored settings (env vars, secrets); with `records`, its whole history. */
  forgetApp(app: string, records: boolean): { settings: number; records: number } {
    return this.sql.transaction(() => {
      const settings =
        (this.sql.get('SELECT COUNT(*) AS n FROM app_config WHERE app = :app', { app })?.n as number) ?? 0;
      this.sql.run('DELETE FROM app_config WHERE app = :app', { app });
      if (!records) {
        this.sql.run('UPDATE apps SET current_id = NULL WHERE name = :app', { app });
        return { settings, records: 0 };
      }
      const n = (this.sql.get('SELECT COUNT(*) AS n FROM deployments WHERE app = :app', { app })?.n as number) ?? 0;
      this.sql.run('DELETE FROM events WHERE deployment_id IN (SELECT id FROM deployments WHERE app = :app)', { app });
      this.sql.run('DELETE FROM logs WHERE deployment_id IN (SELECT id FROM deployments WHERE app = :app)', { app });
      this.sql.run('DELETE FROM deployments WHERE app = :app', { app });
      this.sql.run('DELETE FROM apps WHERE name = :app', { app });
      return { settings, records: n };
    });
  }
}
