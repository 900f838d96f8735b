import { completeConfig } from '../../core/setting-table.js';
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { CURRENT_STATUSES, ROLLED_BACK_HISTORY, type AppRecord, type DeployConfig, type Deployment, type DeploymentEvent, type Kind, type Status } from '../../core/types.js';
import { openDatabase, readOnlyError, storeError } from './database.js';
import { DeployError } from '../../core/errors.js';
import type { RawStatistics } from '../../core/stats.js';
import { queryStatistics, type StatsFilter } from './statistics.js';

type Row = Record<string, SQLInputValue>;

/** Columns of a deployment, in the order of the Deployment fields they hold. */
const COLUMNS: ReadonlyArray<[keyof Deployment, string]> = [
  ['id', 'id'],
  ['app', 'app'],
  ['version', 'version'],
  ['kind', 'kind'],
  ['parentId', 'parent_id'],
  ['status', 'status'],
  ['source', 'source'],
  ['subdir', 'subdir'],
  ['ref', 'ref'],
  ['commit', 'commit_sha'],
  ['commitSubject', 'commit_subject'],
  ['commitAuthor', 'commit_author'],
  ['commitTime', 'commit_time'],
  ['dirty', 'dirty'],
  ['image', 'image'],
  ['imageId', 'image_id'],
  ['containerId', 'container_id'],
  ['containerName', 'container_name'],
  ['endpoint', 'endpoint'],
  ['config', 'config'],
  ['createdAt', 'created_at'],
  ['buildStartedAt', 'build_started_at'],
  ['buildFinishedAt', 'build_finished_at'],
  ['startedAt', 'started_at'],
  ['readyAt', 'ready_at'],
  ['finishedAt', 'finished_at'],
  ['actor', 'actor'],
  ['origin', 'origin'],
  ['supersededBy', 'superseded_by'],
  ['worker', 'worker'],
  ['rolledBack', 'rolled_back'],
  ['exitCode', 'exit_code'],
  ['exitedAt', 'exited_at'],
  ['checkedAt', 'checked_at'],
  ['rolledBackFrom', 'rolled_back_from'],
  ['servedBefore', 'served_before'],
  ['overrides', 'overrides'],
];
const COLUMN_OF = new Map(COLUMNS);

function toColumn(key: keyof Deployment, value: unknown): SQLInputValue {
  if (key === 'config') return JSON.stringify(value);
  if (key === 'worker' || key === 'overrides') return value === null || value === undefined ? null : JSON.stringify(value);
  if (key === 'rolledBackFrom' || key === 'servedBefore') return Array.isArray(value) && value.length > 0 ? JSON.stringify(value) : null;
  if (key === 'dirty' || key === 'rolledBack') return value ? 1 : 0;
  return value as SQLInputValue;
}

function fromRow(row: Record<string, unknown>): Deployment {
  const d: Record<string, unknown> = {};
  for (const [key, column] of COLUMNS) d[key] = row[column];
  // Records made before a setting existed get its default.
  d.config = completeConfig(JSON.parse(row.config as string) as Partial<DeployConfig>);
  d.dirty = row.dirty === 1;
  d.rolledBack = row.rolled_back === 1;
  d.supersededBy = (row.superseded_by as string | null) ?? null;
  d.worker = row.worker ? (JSON.parse(row.worker as string) as Deployment['worker']) : null;
  d.exitCode = (row.exit_code as number | null | undefined) ?? null;
  d.exitedAt = (row.exited_at as number | null | undefined) ?? null;
  d.checkedAt = (row.checked_at as number | null | undefined) ?? null;
  d.rolledBackFrom = row.rolled_back_from ? (JSON.parse(row.rolled_back_from as string) as string[]) : [];
  d.servedBefore = row.served_before ? (JSON.parse(row.served_before as string) as string[]) : [];
  d.overrides = row.overrides ? (JSON.parse(row.overrides as string) as Deployment['overrides']) : null;
  d.error = row.error_code ? { code: row.error_code as string, message: (row.error_message as string) ?? '' } : null;
  return d as unknown as Deployment;
}

export interface ListFilter {
  app?: string | undefined;
  statuses?: readonly Status[] | undefined;
  since?: number | undefined;
  limit?: number | undefined;
}

/** Fields a new record starts without (the store fills them). */
type Later = 'version' | 'supersededBy' | 'worker' | 'rolledBack' | 'exitCode' | 'exitedAt' | 'checkedAt' | 'rolledBackFrom' | 'servedBefore' | 'overrides';
export type NewDeployment = Omit<Deployment, Later> & { worker?: Deployment['worker']; overrides?: Deployment['overrides'] };
export type DeploymentPatch = Partial<Omit<Deployment, 'id' | 'app' | 'version'>>;

export type LogKind = 'build' | 'runtime';

/** A deployment as `deploy ls` shows it (dirty is 0 or 1, as SQLite keeps it). */
export interface DeploymentRow {
  id: string;
  version: number;
  app: string;
  status: Status;
  commit: string;
  commitSubject: string;
  dirty: number;
  image: string | null;
  createdAt: number;
  startedAt: number | null;
  readyAt: number | null;
  finishedAt: number | null;
  endpoint: string;
  kind: Kind;
  /** The version of the deployment this one redeploys or rolls back to (null for a plain deploy, or a parent not in this store). */
  parentVersion: number | null;
  /** Replaced by a rollback (0 or 1). */
  rolledBack: number;
}

/** An app's current deployment, as far as comparing it with its engine needs. */
export type CurrentState = Pick<Deployment, 'id' | 'app' | 'version' | 'status' | 'endpoint' | 'containerId' | 'exitCode' | 'exitedAt' | 'checkedAt'>;

export interface AppConfigRow {
  kind: 'env' | 'setting';
  key: string;
  value: string;
  secret: boolean;
  updatedAt: number;
}

export interface KeptLog {
  content: Buffer;
  truncated: boolean;
  savedAt: number;
}

/** The local record of every deployment, in one SQLite file. */
export class Store {
  readonly path: string;
  readonly warnings: string[];
  /** Opened for reading only (a read-only mount, no write permission): every change is refused with exit 15. */
  readonly readOnly: boolean;
  private readonly readOnlyWhy: string;
  private readonly db: DatabaseSync;
  /** Checked once before this process's first change: a damaged store is reported, never written. */
  private checkedForDamage = false;

  private constructor(path: string, db: DatabaseSync, warnings: string[], readOnly: boolean, readOnlyWhy = 'it is read-only here') {
    this.path = path;
    this.db = db;
    this.warnings = warnings;
    this.readOnly = readOnly;
    this.readOnlyWhy = readOnlyWhy;
  }

  static open(path: string): Store {
    const { db, warnings, readOnly, readOnlyWhy } = openDatabase(path);
    return new Store(path, db, warnings, readOnly, readOnlyWhy);
  }

  /**
   * Before the first change this process makes: refused on a read-only store, and the file checked (SQLite's
   * quick_check), so that damage is reported before anything is added to it.
   */
  private beforeWrite(check: 'full' | 'light' = 'full'): void {
    if (this.readOnly) throw readOnlyError(this.path, this.readOnlyWhy);
    // A status noted by a reading command (ls) skips the check: it costs ~14 ms per 10,000 records, and SQLite
    // still refuses to change a page it finds damaged.
    if (this.checkedForDamage || check === 'light') return;
    const row = this.guard(() => this.db.prepare('PRAGMA quick_check(1)').get() as { quick_check: string } | undefined);
    if (row?.quick_check !== 'ok') {
      throw new DeployError('store', `The store at ${this.path} is damaged (${row?.quick_check ?? 'no answer from its check'}); nothing was written to it.`, {
        hint: `It was left untouched. Move it aside (mv ${this.path} ${this.path}.broken) to start a new one, or restore it from a backup.`,
      });
    }
    this.checkedForDamage = true;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Runs fn in one write transaction (taken at once, so concurrent writers queue on the busy timeout). */
  transaction<T>(fn: () => T): T {
    this.beforeWrite();
    return this.guard(() => {
      // Inside another transaction (a rehearsal): a savepoint, undone on error like the whole would be.
      if (this.db.isTransaction) {
        this.db.exec('SAVEPOINT nested');
        try {
          const result = fn();
          this.db.exec('RELEASE nested');
          return result;
        } catch (error) {
          this.db.exec('ROLLBACK TO nested');
          this.db.exec('RELEASE nested');
          throw error;
        }
      }
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = fn();
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  /**
   * --dry-run of a command that writes as it goes (sync): its writes happen in one transaction that is rolled
   * back at the end, so it reports exactly what it would change and changes nothing.
   */
  async rehearse<T>(fn: () => Promise<T>): Promise<T> {
    this.beforeWrite();
    this.guard(() => this.db.exec('BEGIN IMMEDIATE'));
    try {
      return await fn();
    } finally {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
    }
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_SQLITE_ERROR') throw storeError(this.path, error);
      throw error;
    }
  }

  private all(sql: string, params: Row = {}): Array<Record<string, unknown>> {
    return this.guard(() => this.db.prepare(sql).all(params) as Array<Record<string, unknown>>);
  }

  private get(sql: string, params: Row = {}): Record<string, unknown> | undefined {
    return this.guard(() => this.db.prepare(sql).get(params) as Record<string, unknown> | undefined);
  }

  private run(sql: string, params: Row = {}): void {
    this.beforeWrite('light');
    this.guard(() => this.db.prepare(sql).run(params));
  }

  // --- apps ---------------------------------------------------------------------------------------

  getApp(name: string): AppRecord | null {
    const row = this.get('SELECT * FROM apps WHERE name = :name', { name });
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
    this.run(
      `INSERT INTO apps (name, source, subdir, ref, created_at) VALUES (:name, :source, :subdir, :ref, :at)
       ON CONFLICT (name) DO UPDATE SET source = excluded.source, subdir = excluded.subdir, ref = excluded.ref`,
      { name, ...source, at },
    );
  }

  setCurrent(app: string, id: string | null, at: number): void {
    this.run(
      `INSERT INTO apps (name, current_id, created_at) VALUES (:app, :id, :at)
       ON CONFLICT (name) DO UPDATE SET current_id = excluded.current_id`,
      { app, id, at },
    );
  }

  // --- deployments --------------------------------------------------------------------------------

  /**
   * Inserts a deployment with the app's next version number, atomically across processes (the app's
   * deployments made from other machines are synced into the store first, so versions stay one sequence).
   */
  createDeployment(d: NewDeployment): Deployment {
    return this.transaction(() => {
      const row = this.get('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM deployments WHERE app = :app', { app: d.app });
      const version = row?.next as number;
      return this.insert({ ...d, version, supersededBy: null, rolledBack: false, worker: d.worker ?? null, exitCode: null, exitedAt: null, checkedAt: null, rolledBackFrom: this.rolledBackHistory(d.app, d.kind), servedBefore: this.servedHistory(d.app), overrides: d.overrides ?? null });
    });
  }

  /**
   * The ids an app has been rolled back away from, newest first, for a new deployment's label: a rollback
   * also rolls back away from the current deployment it replaces (marked when it goes live; a rollback that
   * fails leaves no label behind, its container and any image it built being removed).
   */
  /** The ids of the app's deployments that passed their health gate, newest first, for a new deployment's label. */
  private servedHistory(app: string): string[] {
    return this.all(`SELECT id FROM deployments WHERE app = :app AND ready_at IS NOT NULL ORDER BY version DESC LIMIT :limit`, { app, limit: ROLLED_BACK_HISTORY }).map(
      (r) => r.id as string,
    );
  }

  private rolledBackHistory(app: string, kind: Deployment['kind']): string[] {
    const ids = this.all(
      `SELECT id FROM deployments WHERE app = :app AND rolled_back = 1 ORDER BY version DESC LIMIT :limit`,
      { app, limit: ROLLED_BACK_HISTORY },
    ).map((r) => r.id as string);
    if (kind === 'rollback') {
      const current = this.getApp(app)?.currentId;
      if (current && !ids.includes(current)) ids.unshift(current);
    }
    return ids.slice(0, ROLLED_BACK_HISTORY);
  }

  /** Inserts a record as it is (from `deploy sync`: marked adopted); false when its id or its app@version is taken. */
  insertDeployment(d: Deployment): boolean {
    try {
      this.transaction(() => {
        this.insert(d);
        this.run('UPDATE deployments SET adopted = 1 WHERE id = :id', { id: d.id });
      });
      return true;
    } catch (error) {
      if (/UNIQUE constraint failed/.test((error as Error).message)) return false;
      throw error;
    }
  }

  private insert(full: Deployment): Deployment {
    const params: Row = {};
    for (const [key, column] of COLUMNS) params[column] = toColumn(key, full[key]);
    params.error_code = full.error?.code ?? null;
    params.error_message = full.error?.message ?? null;
    const cols = [...COLUMNS.map(([, c]) => c), 'error_code', 'error_message'];
    this.run(`INSERT INTO deployments (${cols.join(', ')}) VALUES (${cols.map((c) => `:${c}`).join(', ')})`, params);
    this.run('INSERT INTO apps (name, created_at) VALUES (:app, :at) ON CONFLICT (name) DO NOTHING', { app: full.app, at: full.createdAt });
    return full;
  }

  updateDeployment(id: string, patch: DeploymentPatch): void {
    const sets: string[] = [];
    const params: Row = { id };
    for (const [key, value] of Object.entries(patch) as Array<[keyof Deployment, unknown]>) {
      if (key === 'error') {
        const error = value as Deployment['error'];
        sets.push('error_code = :error_code', 'error_message = :error_message');
        params.error_code = error?.code ?? null;
        params.error_message = error?.message ?? null;
        continue;
      }
      const column = COLUMN_OF.get(key);
      if (!column) continue;
      sets.push(`${column} = :${column}`);
      params[column] = toColumn(key, value);
    }
    if (sets.length === 0) return;
    this.run(`UPDATE deployments SET ${sets.join(', ')} WHERE id = :id`, params);
  }

  getDeployment(id: string): Deployment | null {
    const row = this.get('SELECT * FROM deployments WHERE id = :id', { id });
    return row ? fromRow(row) : null;
  }

  getByVersion(app: string, version: number): Deployment | null {
    const row = this.get('SELECT * FROM deployments WHERE app = :app AND version = :version', { app, version });
    return row ? fromRow(row) : null;
  }

  /** Deployments whose id starts with prefix (ids use only [a-z2-9], so '{' sorts after all of them). */
  findByIdPrefix(prefix: string, limit = 10): Deployment[] {
    return this.all('SELECT * FROM deployments WHERE id >= :lo AND id < :hi ORDER BY created_at DESC LIMIT :limit', {
      lo: prefix,
      hi: `${prefix}{`,
      limit,
    }).map(fromRow);
  }

  /** The WHERE clause of a filter, and its parameters. */
  private where(filter: Omit<ListFilter, 'limit'>): { clause: string; params: Row } {
    const where: string[] = [];
    const params: Row = {};
    if (filter.app !== undefined) {
      where.push('app = :app');
      params.app = filter.app;
    }
    if (filter.statuses && filter.statuses.length > 0) {
      where.push(`status IN (${filter.statuses.map((_, i) => `:s${i}`).join(', ')})`);
      filter.statuses.forEach((s, i) => (params[`s${i}`] = s));
    }
    if (filter.since !== undefined) {
      where.push('created_at >= :since');
      params.since = filter.since;
    }
    return { clause: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
  }

  /** Newest first. Ordered by created_at alone, so the index gives the order without a sort. */
  list(filter: ListFilter = {}): Deployment[] {
    const { clause, params } = this.where(filter);
    return this.all(`SELECT * FROM deployments ${clause} ORDER BY created_at DESC LIMIT :limit`, { ...params, limit: filter.limit ?? -1 }).map(fromRow);
  }

  /** list(), one record at a time: a whole history (`ls --json --all`) is never held in memory at once. */
  *iterate(filter: ListFilter = {}): Generator<Deployment> {
    const { clause, params } = this.where(filter);
    const rows = this.guard(() =>
      this.db.prepare(`SELECT * FROM deployments ${clause} ORDER BY created_at DESC LIMIT :limit`).iterate({ ...params, limit: filter.limit ?? -1 }),
    );
    for (;;) {
      const next = this.guard(() => rows.next());
      if (next.done) return;
      yield fromRow(next.value as Record<string, unknown>);
    }
  }

  /** What `deploy ls` shows, and only that: no configuration to parse, for long histories. */
  listRows(filter: ListFilter = {}): DeploymentRow[] {
    const { clause, params } = this.where(filter);
    return this.guard(() => {
      const stmt = this.db.prepare(
        `SELECT id, version, app, status, commit_sha AS "commit", commit_subject AS commitSubject, dirty, image,
                created_at AS createdAt, started_at AS startedAt, ready_at AS readyAt, finished_at AS finishedAt, endpoint,
                kind, rolled_back AS rolledBack,
                (SELECT p.version FROM deployments p WHERE p.id = d.parent_id) AS parentVersion
         FROM deployments d ${clause} ORDER BY created_at DESC LIMIT :limit`,
      );
      return stmt.all({ ...params, limit: filter.limit ?? -1 }) as unknown as DeploymentRow[];
    });
  }

  /** Deployments a process still answers for: in progress, or serving but with its switch-over not finished. */
  working(): Deployment[] {
    return this.all('SELECT * FROM deployments WHERE worker IS NOT NULL ORDER BY created_at DESC', {}).map(fromRow);
  }

  /** Failed or interrupted deployments whose container is still on their engine (its removal failed). */
  leftovers(): Deployment[] {
    return this.all("SELECT * FROM deployments WHERE container_id IS NOT NULL AND status IN ('failed', 'interrupted')", {}).map(fromRow);
  }

  /** Whether anything needs recovering (asked by every command: two index look-ups). */
  needsRecovery(): boolean {
    const row = this.get(
      `SELECT EXISTS (SELECT 1 FROM deployments WHERE worker IS NOT NULL)
           OR EXISTS (SELECT 1 FROM deployments WHERE container_id IS NOT NULL AND status IN ('failed', 'interrupted'))
           OR EXISTS (SELECT 1 FROM deployments WHERE status IN ('queued', 'building', 'starting')) AS n`,
    );
    return row?.n === 1;
  }

  count(filter: Omit<ListFilter, 'limit'> = {}): number {
    const { clause, params } = this.where(filter);
    const row = this.get(`SELECT COUNT(*) AS n FROM deployments ${clause}`, params);
    return (row?.n as number) ?? 0;
  }


  // --- what runs ----------------------------------------------------------------------------------

  /** Every app's current deployment that has served (running, stopped or exited), or one app's. */
  currentDeployments(app?: string): Deployment[] {
    const statuses = CURRENT_STATUSES.map((s) => `'${s}'`).join(', ');
    return this.all(
      `SELECT d.* FROM apps a JOIN deployments d ON d.id = a.current_id
       WHERE d.status IN (${statuses}) ${app === undefined ? '' : 'AND a.name = :app'} ORDER BY a.name`,
      app === undefined ? {} : { app },
    ).map(fromRow);
  }

  /**
   * currentDeployments(), only what a read-only check compares with the engine: no configuration to parse, so
   * `deploy ls` pays next to nothing for it.
   */
  currentStates(app?: string): CurrentState[] {
    const statuses = CURRENT_STATUSES.map((s) => `'${s}'`).join(', ');
    return this.all(
      `SELECT d.id, d.app, d.version, d.status, d.endpoint, d.container_id AS containerId, d.exit_code AS exitCode,
              d.exited_at AS exitedAt, d.checked_at AS checkedAt
       FROM apps a JOIN deployments d ON d.id = a.current_id
       WHERE d.status IN (${statuses}) ${app === undefined ? '' : 'AND a.name = :app'} ORDER BY a.name`,
      app === undefined ? {} : { app },
    ) as unknown as CurrentState[];
  }

  /** Apps with a deployment still being worked on (queued, building, starting), according to the store. */
  appsInProgress(): Set<string> {
    return new Set(this.all(`SELECT DISTINCT app FROM deployments WHERE status IN ('queued', 'building', 'starting')`).map((r) => r.app as string));
  }

  /** Did a deployment of the app begin or end at or after `at` (a switch-over that may have moved containers)? */
  deploymentActivitySince(app: string, at: number): boolean {
    return this.get('SELECT 1 AS yes FROM deployments WHERE app = :app AND (created_at >= :at OR finished_at >= :at) LIMIT 1', { app, at }) !== undefined;
  }

  /** Notes that these records' states were just compared with their engine. */
  markChecked(ids: readonly string[], at: number): void {
    if (ids.length === 0) return;
    const params: Row = { at };
    ids.forEach((id, i) => (params[`i${i}`] = id));
    this.run(`UPDATE deployments SET checked_at = :at WHERE id IN (${ids.map((_, i) => `:i${i}`).join(', ')})`, params);
  }

  /** When an engine last answered a read-only check, and when it last did not (and why). */
  engineCheck(endpoint: string): { answeredAt: number | null; failedAt: number | null; reason: string | null } {
    const row = this.get('SELECT answered_at, failed_at, reason FROM engine_checks WHERE endpoint = :endpoint', { endpoint });
    return {
      answeredAt: (row?.answered_at as number | null | undefined) ?? null,
      failedAt: (row?.failed_at as number | null | undefined) ?? null,
      reason: (row?.reason as string | null | undefined) ?? null,
    };
  }

  recordEngineCheck(endpoint: string, at: number, failure: string | null): void {
    this.run(
      failure === null
        ? `INSERT INTO engine_checks (endpoint, answered_at) VALUES (:endpoint, :at)
           ON CONFLICT (endpoint) DO UPDATE SET answered_at = excluded.answered_at, failed_at = NULL, reason = NULL`
        : `INSERT INTO engine_checks (endpoint, failed_at, reason) VALUES (:endpoint, :at, :failure)
           ON CONFLICT (endpoint) DO UPDATE SET failed_at = excluded.failed_at, reason = excluded.reason`,
      failure === null ? { endpoint, at } : { endpoint, at, failure },
    );
  }

  /**
   * Apps this store deployed itself: it holds a record of the app that it made (deploy, redeploy, rollback
   * from here), not only records `deploy sync` brought in. What `prune` without --app acts on.
   */
  deployedHere(app: string): boolean {
    return this.get('SELECT 1 AS yes FROM deployments WHERE app = :app AND adopted = 0 LIMIT 1', { app }) !== undefined;
  }

  /** Marks deployments as replaced by a rollback (the delivery metrics count them; rollback never picks them). */
  markRolledBack(app: string, ids: readonly string[]): string[] {
    const marked: string[] = [];
    this.transaction(() => {
      for (const id of ids) {
        const row = this.get('SELECT rolled_back FROM deployments WHERE id = :id AND app = :app', { id, app });
        if (!row || row.rolled_back === 1) continue;
        this.run('UPDATE deployments SET rolled_back = 1 WHERE id = :id', { id });
        marked.push(id);
      }
    });
    return marked;
  }

  /** Every app this store has a row for (deployed, configured, or synced with --app / --all). */
  appNames(): string[] {
    return this.all('SELECT name FROM apps ORDER BY name').map((r) => r.name as string);
  }

  /** `deploy destroy`: removes an app's stored settings (env vars, secrets); with `records`, its whole history. */
  forgetApp(app: string, records: boolean): { settings: number; records: number } {
    return this.transaction(() => {
      const settings = (this.get('SELECT COUNT(*) AS n FROM app_config WHERE app = :app', { app })?.n as number) ?? 0;
      this.run('DELETE FROM app_config WHERE app = :app', { app });
      if (!records) {
        this.run('UPDATE apps SET current_id = NULL WHERE name = :app', { app });
        return { settings, records: 0 };
      }
      const n = (this.get('SELECT COUNT(*) AS n FROM deployments WHERE app = :app', { app })?.n as number) ?? 0;
      this.run('DELETE FROM events WHERE deployment_id IN (SELECT id FROM deployments WHERE app = :app)', { app });
      this.run('DELETE FROM logs WHERE deployment_id IN (SELECT id FROM deployments WHERE app = :app)', { app });
      this.run('DELETE FROM deployments WHERE app = :app', { app });
      this.run('DELETE FROM apps WHERE name = :app', { app });
      return { settings, records: n };
    });
  }

  // --- app configuration ------------------------------------------------------------------------

  /** The app's stored configuration: env vars and settings (values as JSON text for settings). */
  appConfig(app: string): AppConfigRow[] {
    return this.all('SELECT kind, key, value, secret, updated_at FROM app_config WHERE app = :app ORDER BY kind, key', { app }).map((r) => ({
      kind: r.kind as AppConfigRow['kind'],
      key: r.key as string,
      value: r.value as string,
      secret: r.secret === 1,
      updatedAt: r.updated_at as number,
    }));
  }

  /** Sets and removes configuration entries of an app in one transaction. */
  changeAppConfig(app: string, set: ReadonlyArray<Omit<AppConfigRow, 'updatedAt'>>, unset: ReadonlyArray<Pick<AppConfigRow, 'kind' | 'key'>>, at: number): void {
    this.transaction(() => {
      this.db.prepare('INSERT INTO apps (name, created_at) VALUES (:app, :at) ON CONFLICT (name) DO NOTHING').run({ app, at });
      for (const e of set) {
        this.db
          .prepare(
            `INSERT INTO app_config (app, kind, key, value, secret, updated_at) VALUES (:app, :kind, :key, :value, :secret, :at)
             ON CONFLICT (app, kind, key) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at`,
          )
          .run({ app, kind: e.kind, key: e.key, value: e.value, secret: e.secret ? 1 : 0, at });
      }
      for (const e of unset) {
        this.db.prepare('DELETE FROM app_config WHERE app = :app AND kind = :kind AND key = :key').run({ app, kind: e.kind, key: e.key });
      }
    });
  }

  /**
   * Marks a deployment that just became healthy as the first of its commit to do so (lead time for changes
   * counts from the commit to that one), unless an earlier one was.
   */
  markFirstReady(id: string): void {
    this.run(
      `UPDATE deployments SET first_ready = 1 WHERE id = :id AND kind = 'deploy' AND ready_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM deployments o WHERE o.app = deployments.app AND o.commit_sha = deployments.commit_sha
                         AND o.first_ready = 1 AND o.id != deployments.id)`,
      { id },
    );
  }

  /** Marks again which deployment of each commit of an app was the first healthy one (after a sync added some). */
  recomputeFirstReady(app: string): void {
    this.transaction(() => {
      this.run('UPDATE deployments SET first_ready = 0 WHERE app = :app AND first_ready = 1', { app });
      this.run(
        `UPDATE deployments SET first_ready = 1 WHERE id IN (SELECT id FROM (
           SELECT id, ROW_NUMBER() OVER (PARTITION BY commit_sha ORDER BY ready_at, id) AS n FROM deployments
           WHERE app = :app AND kind = 'deploy' AND ready_at IS NOT NULL) WHERE n = 1)`,
        { app },
      );
    });
  }

  // --- statistics ---------------------------------------------------------------------------------

  statistics(filter: StatsFilter): RawStatistics {
    return this.guard(() => queryStatistics(this.db, filter));
  }

  /** How many deployments of each status match a filter (the summary under `deploy ls`). */
  statusCounts(filter: Omit<ListFilter, 'limit' | 'statuses'>): Partial<Record<Status, number>> {
    const { clause, params } = this.where(filter);
    const rows = this.all(`SELECT status, COUNT(*) AS n FROM deployments ${clause} GROUP BY status`, params);
    return Object.fromEntries(rows.map((r) => [r.status as Status, r.n as number]));
  }


  // --- events and logs ----------------------------------------------------------------------------

  addEvent(deploymentId: string, at: number, type: string, message: string): void {
    this.run('INSERT INTO events (deployment_id, at, type, message) VALUES (:deploymentId, :at, :type, :message)', {
      deploymentId,
      at,
      type,
      message,
    });
  }

  events(deploymentId: string): DeploymentEvent[] {
    return this.all('SELECT * FROM events WHERE deployment_id = :deploymentId ORDER BY id', { deploymentId }).map((r) => ({
      deploymentId: r.deployment_id as string,
      at: r.at as number,
      type: r.type as string,
      message: r.message as string,
    }));
  }

  saveLog(deploymentId: string, kind: LogKind, content: Buffer, truncated: boolean, at: number): void {
    this.run(
      `INSERT INTO logs (deployment_id, kind, content, truncated, saved_at) VALUES (:deploymentId, :kind, :content, :truncated, :at)
       ON CONFLICT (deployment_id, kind) DO UPDATE SET content = excluded.content, truncated = excluded.truncated, saved_at = excluded.saved_at`,
      { deploymentId, kind, content, truncated: truncated ? 1 : 0, at },
    );
  }

  getLog(deploymentId: string, kind: LogKind): KeptLog | null {
    const row = this.get('SELECT content, truncated, saved_at FROM logs WHERE deployment_id = :deploymentId AND kind = :kind', {
      deploymentId,
      kind,
    });
    if (!row) return null;
    return { content: Buffer.from(row.content as Uint8Array), truncated: row.truncated === 1, savedAt: row.saved_at as number };
  }
}
