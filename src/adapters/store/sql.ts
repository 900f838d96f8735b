import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { DeployError } from '../../core/errors.js';
import { readOnlyError, storeError } from './database.js';

export type Params = Record<string, SQLInputValue>;
export type SqlRow = Record<string, unknown>;

/**
 * The store's one connection, shared by its tables (apps, deployments, app config, history, metrics): every
 * statement goes through here, so SQLite's faults become the store's messages, a read-only store refuses every
 * change, and a damaged one is reported before this process's first change.
 */
export class Sql {
  /** Checked once before this process's first change: a damaged store is reported, never written. */
  private checkedForDamage = false;
  /**
   * Each statement is prepared once per connection: compiling SQL costs more than running most of these
   * (a deployment's record takes a dozen statements), and a long run of writes (sync, the bench's generated
   * stores) would otherwise compile the same few texts thousands of times.
   */
  private readonly statements = new Map<string, StatementSync>();

  constructor(
    readonly path: string,
    private readonly db: DatabaseSync,
    /** Opened for reading only (a read-only mount, no write permission): every change is refused with exit 15. */
    readonly readOnly: boolean,
    private readonly readOnlyWhy: string,
  ) {}

  /**
   * Before the first change this process makes: refused on a read-only store, and the file checked (SQLite's
   * quick_check), so that damage is reported before anything is added to it.
   */
  beforeWrite(check: 'full' | 'light' = 'full'): void {
    if (this.readOnly) throw readOnlyError(this.path, this.readOnlyWhy);
    // A status noted by a reading command (ls) skips the check: it costs ~14 ms per 10,000 records, and SQLite
    // still refuses to change a page it finds damaged.
    if (this.checkedForDamage || check === 'light') return;
    const row = this.guard(() => this.db.prepare('PRAGMA quick_check(1)').get() as { quick_check: string } | undefined);
    if (row?.quick_check !== 'ok') {
      throw new DeployError(
        'store',
        `The store at ${this.path} is damaged (${row?.quick_check ?? 'no answer from its check'}); nothing was written to it.`,
        {
          hint: `It was left untouched. Move it aside (mv ${this.path} ${this.path}.broken) to start a new one, or restore it from a backup.`,
        },
      );
    }
    this.checkedForDamage = true;
  }

  close(): void {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }

  /** The statement for a text, prepared on its first use. */
  private prepared(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs fn in one write transaction (taken at once, so concurrent writers queue on the busy timeout). */
  transaction<T>(fn: () => T): T {
    this.beforeWrite();
    return this.guard(() =>
      // Inside another transaction (a rehearsal): a savepoint, undone on error like the whole would be.
      this.db.isTransaction
        ? this.between(fn, 'SAVEPOINT nested', 'RELEASE nested', 'ROLLBACK TO nested; RELEASE nested')
        : this.between(fn, 'BEGIN IMMEDIATE', 'COMMIT', 'ROLLBACK'),
    );
  }

  /** fn between `begin` and `end`; on error, `undo` (when a transaction is still open to undo) and the error again. */
  private between<T>(fn: () => T, begin: string, end: string, undo: string): T {
    this.db.exec(begin);
    try {
      const result = fn();
      this.db.exec(end);
      return result;
    } catch (error) {
      if (this.db.isTransaction) this.db.exec(undo);
      throw error;
    }
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

  /** Runs fn, turning SQLite's errors into the store's (exit 15, the file named, the next step). */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_SQLITE_ERROR') throw storeError(this.path, error);
      throw error;
    }
  }

  all(sql: string, params: Params = {}): SqlRow[] {
    return this.guard(() => this.prepared(sql).all(params) as SqlRow[]);
  }

  get(sql: string, params: Params = {}): SqlRow | undefined {
    return this.guard(() => this.prepared(sql).get(params) as SqlRow | undefined);
  }

  /** A change: refused on a read-only store. */
  run(sql: string, params: Params = {}): void {
    this.beforeWrite('light');
    this.guard(() => this.prepared(sql).run(params));
  }

  /**
   * The rows of a query one at a time, so a long answer is never held in memory at once. Prepared afresh: a
   * statement being iterated cannot serve another caller until it is done.
   */
  *iterate(sql: string, params: Params = {}): Generator<SqlRow> {
    const rows = this.guard(() => this.db.prepare(sql).iterate(params));
    for (;;) {
      const next = this.guard(() => rows.next());
      if (next.done) return;
      yield next.value as SqlRow;
    }
  }

  /** For a query module that runs its own statements (statistics.ts); its errors are still the store's. */
  read<T>(fn: (db: DatabaseSync) => T): T {
    return this.guard(() => fn(this.db));
  }
}
