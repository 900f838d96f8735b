import type { Apps } from './apps.js';
import type { Sql } from './sql.js';

export interface AppConfigRow {
  kind: 'env' | 'setting';
  key: string;
  value: string;
  secret: boolean;
  updatedAt: number;
}

/** The `app_config` table: an app's env vars (secret ones marked) and settings, as `deploy config` keeps them. */
export class AppConfig {
  constructor(
    private readonly sql: Sql,
    private readonly apps: Apps,
  ) {}

  /** The app's stored configuration: env vars and settings (values as JSON text for settings). */
  appConfig(app: string): AppConfigRow[] {
    return this.sql
      .all('SELECT kind, key, value, secret, updated_at FROM app_config WHERE app = :app ORDER BY kind, key', { app })
      .map((r) => ({
        kind: r.kind as AppConfigRow['kind'],
        key: r.key as string,
        value: r.value as string,
        secret: r.secret === 1,
        updatedAt: r.updated_at as number,
      }));
  }

  /** Sets and removes configuration entries of an app in one transaction. */
  changeAppConfig(
    app: string,
    set: ReadonlyArray<Omit<AppConfigRow, 'updatedAt'>>,
    unset: ReadonlyArray<Pick<AppConfigRow, 'kind' | 'key'>>,
    at: number,
  ): void {
    this.sql.transaction(() => {
      this.apps.ensure(app, at);
      for (const e of set) {
        this.sql.run(
          `INSERT INTO app_config (app, kind, key, value, secret, updated_at) VALUES (:app, :kind, :key, :value, :secret, :at)
           ON CONFLICT (app, kind, key) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at`,
          { app, kind: e.kind, key: e.key, value: e.value, secret: e.secret ? 1 : 0, at },
        );
      }
      for (const e of unset) {
        this.sql.run('DELETE FROM app_config WHERE app = :app AND kind = :kind AND key = :key', {
          app,
          kind: e.kind,
          key: e.key,
        });
      }
    });
  }
}
