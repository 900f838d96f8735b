import { secretKeys } from './config.js';
import { completeConfig, readSetting, SETTINGS } from './setting-table.js';
import type { DeployConfig, Deployment, HealthCheck } from './types.js';

/** What every output shows in place of a secret value. */
export const SECRET_MASK = '********';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The configuration snapshot as output shows it: every setting in its deploy.json form (ports and volumes
 * written as specs), the health check as kept, secret values masked.
 */
export interface PublicConfig {
  env: Record<string, string>;
  secrets: string[];
  ports: string[];
  volumes: string[];
  buildArgs: Record<string, string>;
  healthCheck: HealthCheck;
  noCache: boolean;
  pull: boolean;
  /** Every other setting of the table, in its deploy.json form. */
  [setting: string]: unknown;
}

export function publicConfig(config: DeployConfig): PublicConfig {
  const c = completeConfig(config);
  const out: Record<string, unknown> = {
    env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, v.secret ? SECRET_MASK : v.value])),
    secrets: secretKeys(c.env),
  };
  for (const d of SETTINGS) {
    if (d.notInSnapshot || d.group) continue;
    const v = readSetting(c, d);
    out[d.name] = d.json ? d.json(v) : v;
  }
  return { ...out, healthCheck: c.healthCheck, noCache: c.noCache, pull: c.pull } as PublicConfig;
}

/**
 * The exportable record: what `--json`, `ls --json` and `inspect --json` print. camelCase, ISO times,
 * secret values masked. The only way a record leaves the tool.
 */
export function publicRecord(d: Deployment) {
  return {
    id: d.id,
    version: d.version,
    app: d.app,
    kind: d.kind,
    parentId: d.parentId,
    status: d.status,
    // Rolled back away from: a rollback (or the front door's fallback) replaced it; what ls shows as "(rolled back)".
    rolledBack: d.rolledBack,
    source: d.source,
    subdir: d.subdir,
    ref: d.ref,
    commit: d.commit,
    commitSubject: d.commitSubject,
    commitAuthor: d.commitAuthor,
    commitTime: iso(d.commitTime),
    dirty: d.dirty,
    image: d.image,
    imageId: d.imageId,
    imageDigest: d.imageDigest,
    runtime: d.runtime,
    workload: d.workload,
    // A documented contract: a container deployment's record names its container as it always has.
    ...(d.runtime === 'container' ? { containerId: d.containerId, containerName: d.containerName } : {}),
    endpoint: d.endpoint,
    noCache: d.config.noCache,
    config: publicConfig(d.config),
    createdAt: iso(d.createdAt),
    buildStartedAt: iso(d.buildStartedAt),
    buildFinishedAt: iso(d.buildFinishedAt),
    startedAt: iso(d.startedAt),
    readyAt: iso(d.readyAt),
    finishedAt: iso(d.finishedAt),
    actor: d.actor,
    origin: d.origin,
    error: d.error,
    supersededBy: d.supersededBy,
    // Status `exited`: how its container ended (code null: removed outside the tool), and when.
    exitCode: d.exitCode ?? null,
    exitedAt: iso(d.exitedAt ?? null),
  };
}

export type PublicRecord = ReturnType<typeof publicRecord>;
