import type { DeploymentEvent } from '../../core/types.js';
import type { Sql } from './sql.js';

export type LogKind = 'build' | 'runtime';

export interface KeptLog {
  content: Buffer;
  truncated: boolean;
  savedAt: number;
}

export interface EngineCheck {
  answeredAt: number | null;
  failedAt: number | null;
  reason: string | null;
}

/**
 * What happened, kept beside the records: each deployment's events and its kept build and runtime logs (tables
 * `events`, `logs`), and when each engine last answered a check or failed to (`engine_checks`).
 */
export class History {
  constructor(private readonly sql: Sql) {}

  // --- events -------------------------------------------------------------------------------------

  addEvent(deploymentId: string, at: number, type: string, message: string): void {
    this.sql.run('INSERT INTO events (deployment_id, at, type, message) VALUES (:deploymentId, :at, :type, :message)', {
      deploymentId,
      at,
      type,
      message,
    });
  }

  events(deploymentId: string): DeploymentEvent[] {
    return this.sql
      .all('SELECT * FROM events WHERE deployment_id = :deploymentId ORDER BY id', { deploymentId })
      .map((r) => ({
        deploymentId: r.deployment_id as string,
        at: r.at as number,
        type: r.type as string,
        message: r.message as string,
      }));
  }

  // --- kept logs ----------------------------------------------------------------------------------

  saveLog(deploymentId: string, kind: LogKind, content: Buffer, truncated: boolean, at: number): void {
    this.sql.run(
      `INSERT INTO logs (deployment_id, kind, content, truncated, saved_at) VALUES (:deploymentId, :kind, :content, :truncated, :at)
       ON CONFLICT (deployment_id, kind) DO UPDATE SET content = excluded.content, truncated = excluded.truncated, saved_at = excluded.saved_at`,
      { deploymentId, kind, content, truncated: truncated ? 1 : 0, at },
    );
  }

  getLog(deploymentId: string, kind: LogKind): KeptLog | null {
    const row = this.sql.get(
      'SELECT content, truncated, saved_at FROM logs WHERE deployment_id = :deploymentId AND kind = :kind',
      {
        deploymentId,
        kind,
      },
    );
    if (!row) return null;
    return {
      content: Buffer.from(row.content as Uint8Array),
      truncated: row.truncated === 1,
      savedAt: row.saved_at as number,
    };
  }

  // --- engine checks ------------------------------------------------------------------------------

  /** When an engine last answered a read-only check, and when it last did not (and why). */
  engineCheck(endpoint: string): EngineCheck {
    const row = this.sql.get('SELECT answered_at, failed_at, reason FROM engine_checks WHERE endpoint = :endpoint', {
      endpoint,
    });
    return {
      answeredAt: (row?.answered_at as number | null | undefined) ?? null,
      failedAt: (row?.failed_at as number | null | undefined) ?? null,
      reason: (row?.reason as string | null | undefined) ?? null,
    };
  }

  recordEngineCheck(endpoint: string, at: number, failure: string | null): void {
    this.sql.run(
      failure === null
        ? `INSERT INTO engine_checks (endpoint, answered_at) VALUES (:endpoint, :at)
           ON CONFLICT (endpoint) DO UPDATE SET answered_at = excluded.answered_at, failed_at = NULL, reason = NULL`
        : `INSERT INTO engine_checks (endpoint, failed_at, reason) VALUES (:endpoint, :at, :failure)
           ON CONFLICT (endpoint) DO UPDATE SET failed_at = excluded.failed_at, reason = excluded.reason`,
      failure === null ? { endpoint, at } : { endpoint, at, failure },
    );
  }
}
