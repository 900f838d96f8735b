import { CURRENT_STATUSES, ROLLED_BACK_HISTORY, type Deployment, type Kind, type Status } from '../../core/types.js';
import type { Apps } from './apps.js';
import {
  COLUMN_OF,
  fromRow,
  toColumn,
  toRow,
  whereOf,
  WORKLOAD_FOLLOWS_CONTAINER,
  type ListFilter,
} from './deployment-rows.js';
import type { Params, Sql } from './sql.js';

/** A release kept running behind the front door (the condition of the index deployments_kept, migration 10). */
const KEPT = "container_id IS NOT NULL AND status = 'superseded' AND json_extract(config, '$.proxy') IN (1, 'tcp')";

/** Fields a new record starts without (the store fills them). */
type Later =
  | 'version'
  | 'supersededBy'
  | 'worker'
  | 'rolledBack'
  | 'exitCode'
  | 'exitedAt'
  | 'checkedAt'
  | 'rolledBackFrom'
  | 'servedBefore'
  | 'overrides';
export type NewDeployment = Omit<Deployment, Later> & {
  worker?: Deployment['worker'];
  overrides?: Deployment['overrides'];
};
export type DeploymentPatch = Partial<Omit<Deployment, 'id' | 'app' | 'version'>>;

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
export type CurrentState = Pick<
  Deployment,
  'id' | 'app' | 'version' | 'status' | 'endpoint' | 'containerId' | 'exitCode' | 'exitedAt' | 'checkedAt' | 'runtime'
>;

const CURRENT = CURRENT_STATUSES.map((s) => `'${s}'`).join(', ');

/** The `deployments` table: every deployment's record, written as it moves through its statuses. */
export class Deployments {
  constructor(
    private readonly sql: Sql,
    private readonly apps: Apps,
  ) {}

  // --- writing ------------------------------------------------------------------------------------

  /**
   * Inserts a deployment with the app's next version number, atomically across processes (the app's
   * deployments made from other machines are synced into the store first, so versions stay one sequence).
   */
  createDeployment(d: NewDeployment): Deployment {
    return this.sql.transaction(() => {
      const row = this.sql.get('SELECT COALESCE(MAX(version), 0) + 1 AS next FROM deployments WHERE app = :app', {
        app: d.app,
      });
      const version = row?.next as number;
      return this.insert({
        ...d,
        version,
        supersededBy: null,
        rolledBack: false,
        worker: d.worker ?? null,
        exitCode: null,
        exitedAt: null,
        checkedAt: null,
        rolledBackFrom: this.rolledBackHistory(d.app, d.kind),
        servedBefore: this.servedHistory(d.app),
        overrides: d.overrides ?? null,
      });
    });
  }

  /** The ids of the app's deployments that passed their health gate, newest first, for a new deployment's label. */
  private servedHistory(app: string): string[] {
    return this.sql
      .all(
        `SELECT id FROM deployments INDEXED BY deployments_served_by_version WHERE app = :app AND ready_at IS NOT NULL ORDER BY version DESC LIMIT :limit`,
        { app, limit: ROLLED_BACK_HISTORY },
      )
      .map((r) => r.id as string);
  }

  /**
   * The ids an app has been rolled back away from, newest first, for a new deployment's label: a rollback
   * also rolls back away from the current deployment it replaces (marked when it goes live; a rollback that
   * fails leaves no label behind, its container and any image it built being removed).
   */
  private rolledBackHistory(app: string, kind: Deployment['kind']): string[] {
    const ids = this.sql
      .all(
        `SELECT id FROM deployments INDEXED BY deployments_rolled_back_by_version WHERE app = :app AND rolled_back = 1 ORDER BY version DESC LIMIT :limit`,
        { app, limit: ROLLED_BACK_HISTORY },
      )
      .map((r) => r.id as string);
    if (kind === 'rollback') {
      const current = this.apps.getApp(app)?.currentId;
      if (current && !ids.includes(current)) ids.unshift(current);
    }
    return ids.slice(0, ROLLED_BACK_HISTORY);
  }

  /** Inserts a record as it is (from `deploy sync`: marked adopted); false when its id or its app@version is taken. */
  insertDeployment(d: Deployment): boolean {
    try {
      this.sql.transaction(() => {
        this.insert(d);
        this.sql.run('UPDATE deployments SET adopted = 1 WHERE id = :id', { id: d.id });
      });
      return true;
    } catch (error) {
      if (/UNIQUE constraint failed/.test((error as Error).message)) return false;
      throw error;
    }
  }

  private insert(full: Deployment): Deployment {
    const params = toRow(full);
    const cols = Object.keys(params);
    this.sql.run(
      `INSERT INTO deployments (${cols.join(', ')}) VALUES (${cols.map((c) => `:${c}`).join(', ')})`,
      params,
    );
    this.apps.ensure(full.app, full.createdAt);
    return full;
  }

  updateDeployment(id: string, patch: DeploymentPatch): void {
    const sets: string[] = [];
    const params: Params = { id };
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
    if ('containerId' in patch && !('workload' in patch)) sets.push(WORKLOAD_FOLLOWS_CONTAINER);
    if (sets.length === 0) return;
    this.sql.run(`UPDATE deployments SET ${sets.join(', ')} WHERE id = :id`, params);
  }

  /** Notes that these records' states were just compared with their engine. */
  markChecked(ids: readonly string[], at: number): void {
    if (ids.length === 0) return;
    const params: Params = { at };
    ids.forEach((id, i) => (params[`i${i}`] = id));
    this.sql.run(
      `UPDATE deployments SET checked_at = :at WHERE id IN (${ids.map((_, i) => `:i${i}`).join(', ')})`,
      params,
    );
  }

  /** Marks deployments as replaced by a rollback (the delivery metrics count them; rollback never picks them). */
  markRolledBack(app: string, ids: readonly string[]): string[] {
    const marked: string[] = [];
    this.sql.transaction(() => {
      for (const id of ids) {
        const row = this.sql.get('SELECT rolled_back FROM deployments WHERE id = :id AND app = :app', { id, app });
        if (!row || row.rolled_back === 1) continue;
        this.sql.run('UPDATE deployments SET rolled_back = 1 WHERE id = :id', { id });
        marked.push(id);
      }
    });
    return marked;
  }

  // --- reading one --------------------------------------------------------------------------------

  getDeployment(id: string): Deployment | null {
    const row = this.sql.get('SELECT * FROM deployments WHERE id = :id', { id });
    return row ? fromRow(row) : null;
  }

  getByVersion(app: string, version: number): Deployment | null {
    const row = this.sql.get('SELECT * FROM deployments WHERE app = :app AND version = :version', { app, version });
    return row ? fromRow(row) : null;
  }

  /** Deployments whose id starts with prefix (ids use only [a-z2-9], so '{' sorts after all of them). */
  findByIdPrefix(prefix: string, limit = 10): Deployment[] {
    return this.sql
      .all('SELECT * FROM deployments WHERE id >= :lo AND id < :hi ORDER BY created_at DESC LIMIT :limit', {
        lo: prefix,
        hi: `${prefix}{`,
        limit,
      })
      .map(fromRow);
  }

  // --- listing ------------------------------------------------------------------------------------

  /** Newest first. Ordered by created_at alone, so the index gives the order without a sort. */
  list(filter: ListFilter = {}): Deployment[] {
    const { clause, params } = whereOf(filter);
    return this.sql
      .all(`SELECT * FROM deployments ${clause} ORDER BY created_at DESC LIMIT :limit`, {
        ...params,
        limit: filter.limit ?? -1,
      })
      .map(fromRow);
  }

  /** list(), one record at a time: a whole history (`ls --json --all`) is never held in memory at once. */
  *iterate(filter: ListFilter = {}): Generator<Deployment> {
    const { clause, params } = whereOf(filter);
    for (const row of this.sql.iterate(`SELECT * FROM deployments ${clause} ORDER BY created_at DESC LIMIT :limit`, {
      ...params,
      limit: filter.limit ?? -1,
    })) {
      yield fromRow(row);
    }
  }

  /** What `deploy ls` shows, and only that: no configuration to parse, for long histories. */
  listRows(filter: ListFilter = {}): DeploymentRow[] {
    const { clause, params } = whereOf(filter);
    return this.sql.all(
      `SELECT id, version, app, status, commit_sha AS "commit", commit_subject AS commitSubject, dirty, image,
              created_at AS createdAt, started_at AS startedAt, ready_at AS readyAt, finished_at AS finishedAt, endpoint,
              kind, rolled_back AS rolledBack,
              (SELECT p.version FROM deployments p WHERE p.id = d.parent_id) AS parentVersion
       FROM deployments d ${clause} ORDER BY created_at DESC LIMIT :limit`,
      { ...params, limit: filter.limit ?? -1 },
    ) as unknown as DeploymentRow[];
  }

  count(filter: Omit<ListFilter, 'limit'> = {}): number {
    const { clause, params } = whereOf(filter);
    const row = this.sql.get(`SELECT COUNT(*) AS n FROM deployments ${clause}`, params);
    return (row?.n as number) ?? 0;
  }

  // --- what a process still answers for -----------------------------------------------------------

  /** Deployments a process still answers for: in progress, or serving but with its switch-over not finished. */
  working(): Deployment[] {
    return this.sql.all('SELECT * FROM deployments WHERE worker IS NOT NULL ORDER BY created_at DESC', {}).map(fromRow);
  }

  /** Failed or interrupted deployments whose container is still on their engine (its removal failed). */
  leftovers(): Deployment[] {
    return this.sql
      .all(
        "SELECT * FROM deployments INDEXED BY deployments_leftovers WHERE container_id IS NOT NULL AND status IN ('failed', 'interrupted')",
        {},
      )
      .map(fromRow);
  }

  /**
   * Superseded deployments that still have a container (of one app, or all): kept running for a bake window behind
   * the front door.
   */
  kept(app?: string): Deployment[] {
    return this.sql
      .all(
        `SELECT * FROM deployments INDEXED BY deployments_kept WHERE ${KEPT}${app === undefined ? '' : ' AND app = :app'}`,
        app === undefined ? {} : { app },
      )
      .map(fromRow);
  }

  /**
   * Whether anything needs recovering (asked by every command: three index look-ups). The leftovers are read
   * through their own small index: the status index would visit every failed record (30 ms at 100,000).
   */
  needsRecovery(): boolean {
    const row = this.sql.get(
      `SELECT EXISTS (SELECT 1 FROM deployments WHERE worker IS NOT NULL)
           OR EXISTS (SELECT 1 FROM deployments INDEXED BY deployments_leftovers WHERE container_id IS NOT NULL AND status IN ('failed', 'interrupted'))
           OR EXISTS (SELECT 1 FROM deployments WHERE status IN ('queued', 'building', 'starting'))
           OR EXISTS (SELECT 1 FROM deployments INDEXED BY deployments_kept WHERE ${KEPT}) AS n`,
    );
    return row?.n === 1;
  }

  /** Apps with a deployment still being worked on (queued, building, starting), according to the store. */
  appsInProgress(): Set<string> {
    return new Set(
      this.sql
        .all(`SELECT DISTINCT app FROM deployments WHERE status IN ('queued', 'building', 'starting')`)
        .map((r) => r.app as string),
    );
  }

  /** Did a deployment of the app begin or end at or after `at` (a switch-over that may have moved containers)? */
  deploymentActivitySince(app: string, at: number): boolean {
    return (
      this.sql.get(
        'SELECT 1 AS yes FROM deployments WHERE app = :app AND (created_at >= :at OR finished_at >= :at) LIMIT 1',
        { app, at },
      ) !== undefined
    );
  }

  // --- what runs ----------------------------------------------------------------------------------

  /** Every app's current deployment that has served (running, stopped or exited), or one app's. */
  currentDeployments(app?: string): Deployment[] {
    return this.sql
      .all(
        `SELECT d.* FROM apps a JOIN deployments d ON d.id = a.current_id
         WHERE d.status IN (${CURRENT}) ${app === undefined ? '' : 'AND a.name = :app'} ORDER BY a.name`,
        app === undefined ? {} : { app },
      )
      .map(fromRow);
  }

  /**
   * currentDeployments(), only what a read-only check compares with the engine: no configuration to parse, so
   * `deploy ls` pays next to nothing for it.
   */
  currentStates(app?: string): CurrentState[] {
    return this.sql.all(
      `SELECT d.id, d.app, d.version, d.status, d.endpoint, d.container_id AS containerId, d.exit_code AS exitCode,
              d.exited_at AS exitedAt, d.checked_at AS checkedAt, d.runtime
       FROM apps a JOIN deployments d ON d.id = a.current_id
       WHERE d.status IN (${CURRENT}) ${app === undefined ? '' : 'AND a.name = :app'} ORDER BY a.name`,
      app === undefined ? {} : { app },
    ) as unknown as CurrentState[];
  }
}
