import { completeConfig } from '../../core/setting-table.js';
import type { DeployConfig, Deployment, Status } from '../../core/types.js';
import { workloadOf } from '../../core/workload.js';
import type { Params, SqlRow } from './sql.js';

/** How a Deployment is kept in the `deployments` table: its columns, and the conversions both ways. */

/** Columns of a deployment, in the order of the Deployment fields they hold. */
export const COLUMNS: ReadonlyArray<[keyof Deployment, string]> = [
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
  ['imageDigest', 'image_digest'],
  ['runtime', 'runtime'],
  ['workload', 'workload'],
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
export const COLUMN_OF = new Map(COLUMNS);

export function toColumn(key: keyof Deployment, value: unknown): Params[string] {
  if (key === 'config') return JSON.stringify(value);
  if (key === 'worker' || key === 'overrides')
    return value === null || value === undefined ? null : JSON.stringify(value);
  if (key === 'rolledBackFrom' || key === 'servedBefore')
    return Array.isArray(value) && value.length > 0 ? JSON.stringify(value) : null;
  if (key === 'dirty' || key === 'rolledBack') return value ? 1 : 0;
  return value as Params[string];
}

/** The SET term that keeps a deployment's workload equal to the workload id a patch writes as containerId (workloadOf). */
export const WORKLOAD_FOLLOWS_CONTAINER = 'workload = :container_id';

/** The parameters of an INSERT of a whole record: every column, and its error. */
export function toRow(d: Deployment): Params {
  const params: Params = {};
  for (const [key, column] of COLUMNS) params[column] = toColumn(key, key === 'workload' ? workloadOf(d) : d[key]);
  params.error_code = d.error?.code ?? null;
  params.error_message = d.error?.message ?? null;
  return params;
}

export function fromRow(row: SqlRow): Deployment {
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
  d.imageDigest = (row.image_digest as string | null | undefined) ?? null;
  d.workload = (row.workload as string | null | undefined) ?? null;
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

/** The WHERE clause of a filter, and its parameters. */
export function whereOf(filter: Omit<ListFilter, 'limit'>): { clause: string; params: Params } {
  const where: string[] = [];
  const params: Params = {};
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
