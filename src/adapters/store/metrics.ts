import type { RawStatistics } from '../../core/stats.js';
import type { Status } from '../../core/types.js';
import { whereOf, type ListFilter } from './deployment-rows.js';
import type { Sql } from './sql.js';
import { hasStaleDays, queryStatistics, refreshRollups, type StatsFilter } from './statistics.js';

/**
 * The delivery metrics (`deploy stats`) and the summary under `deploy ls`: the aggregate queries, and the marks
 * kept on each deployment as it happens so that they stay fast (the first healthy deployment of each commit).
 */
export class Metrics {
  constructor(private readonly sql: Sql) {}

  /**
   * The figures of `deploy stats`. The days writes have marked out of date are recomputed and kept first (after a
   * deploy, its app's day or two). Keeping them is bookkeeping of a reading command: it does not run the store's
   * damage check first (as `ls` noting a status does not; SQLite still refuses to change a damaged page), and
   * when it cannot be done (a store that cannot be changed, a full disk, a writer holding the store past the busy
   * timeout) the marked days are computed from their records for this answer alone, so stats still answers.
   */
  statistics(filter: StatsFilter): RawStatistics {
    this.sql.read((db) => {
      if (this.sql.readOnly || db.isTransaction || !hasStaleDays(db)) return;
      try {
        db.exec('BEGIN IMMEDIATE');
        refreshRollups(db);
        db.exec('COMMIT');
      } catch (error) {
        if (db.isTransaction) db.exec('ROLLBACK');
        if ((error as { code?: string }).code !== 'ERR_SQLITE_ERROR') throw error;
      }
    });
    return this.sql.read((db) => queryStatistics(db, filter));
  }

  /**
   * How many deployments of each status match a filter (the summary under `deploy ls`); with `statuses`, of those
   * alone, each counted through the status index (the superseded ones, most of a long history, are then never
   * visited).
   */
  statusCounts(filter: Omit<ListFilter, 'limit'>): Partial<Record<Status, number>> {
    const { clause, params } = whereOf(filter);
    const rows = this.sql.all(`SELECT status, COUNT(*) AS n FROM deployments ${clause} GROUP BY status`, params);
    return Object.fromEntries(rows.map((r) => [r.status as Status, r.n as number]));
  }

  /**
   * Marks a deployment that just became healthy as the first of its commit to do so (lead time for changes
   * counts from the commit to that one), unless an earlier one was.
   */
  markFirstReady(id: string): void {
    this.sql.run(
      `UPDATE deployments SET first_ready = 1 WHERE id = :id AND kind = 'deploy' AND ready_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM deployments o WHERE o.app = deployments.app AND o.commit_sha = deployments.commit_sha
                         AND o.first_ready = 1 AND o.id != deployments.id)`,
      { id },
    );
  }

  /** Marks again which deployment of each commit of an app was the first healthy one (after a sync added some). */
  recomputeFirstReady(app: string): void {
    this.sql.transaction(() => {
      this.sql.run('UPDATE deployments SET first_ready = 0 WHERE app = :app AND first_ready = 1', { app });
      this.sql.run(
        `UPDATE deployments SET first_ready = 1 WHERE id IN (SELECT id FROM (
           SELECT id, ROW_NUMBER() OVER (PARTITION BY commit_sha ORDER BY ready_at, id) AS n FROM deployments
           WHERE app = :app AND kind = 'deploy' AND ready_at IS NOT NULL) WHERE n = 1)`,
        { app },
      );
    });
  }
}
