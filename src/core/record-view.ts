import { secretKeys } from './config.js';
import { formatPort } from './ports.js';
import type { DeployConfig, Deployment } from './types.js';
import { formatVolume } from './volumes.js';

/** What every output shows in place of a secret value. */
export const SECRET_MASK = '********';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The configuration snapshot as output shows it: ports written as specs, secret values masked. */
export function publicConfig(c: DeployConfig) {
  return {
    dockerfile: c.dockerfile,
    context: c.context,
    buildArgs: c.buildArgs,
    env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, v.secret ? SECRET_MASK : v.value])),
    secrets: secretKeys(c.env),
    ports: c.ports.map(formatPort),
    volumes: (c.volumes ?? []).map(formatVolume),
    healthCheck: c.healthCheck,
    restart: c.restart,
    noCache: c.noCache,
    pull: c.pull,
    retention: c.retention,
  };
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
    containerId: d.containerId,
    containerName: d.containerName,
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
