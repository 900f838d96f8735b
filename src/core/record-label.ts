import type { DeployConfig, Deployment, Kind } from './types.js';

/**
 * A deployment as the engine keeps it, in one label on its image and its container: enough to rebuild the
 * record on another machine (`deploy sync`), secret values left out.
 */
export interface RecordLabel {
  id: string;
  app: string;
  version: number;
  kind: Kind;
  parentId: string | null;
  source: string;
  subdir: string;
  ref: string;
  commit: string;
  commitSubject: string;
  commitAuthor: string;
  commitTime: number | null;
  dirty: boolean;
  image: string | null;
  config: DeployConfig;
  createdAt: number;
  buildStartedAt: number | null;
  buildFinishedAt: number | null;
  actor: string;
  origin: Deployment['origin'];
}

export function recordLabel(d: Deployment): string {
  const config: DeployConfig = {
    ...d.config,
    env: Object.fromEntries(Object.entries(d.config.env).map(([k, v]) => [k, v.secret ? { value: '', secret: true } : v])),
  };
  const label: RecordLabel = {
    id: d.id,
    app: d.app,
    version: d.version,
    kind: d.kind,
    parentId: d.parentId,
    source: d.source,
    subdir: d.subdir,
    ref: d.ref,
    commit: d.commit,
    commitSubject: d.commitSubject,
    commitAuthor: d.commitAuthor,
    commitTime: d.commitTime,
    dirty: d.dirty,
    image: d.image,
    config,
    createdAt: d.createdAt,
    buildStartedAt: d.buildStartedAt,
    buildFinishedAt: d.buildFinishedAt,
    actor: d.actor,
    origin: d.origin,
  };
  return JSON.stringify(label);
}

/** Reads a record label; null when it is missing or not one of ours. */
export function parseRecordLabel(raw: string | undefined): RecordLabel | null {
  if (!raw) return null;
  try {
    const r = JSON.parse(raw) as Partial<RecordLabel>;
    if (typeof r.id !== 'string' || typeof r.app !== 'string' || typeof r.version !== 'number' || typeof r.commit !== 'string' || !r.config) return null;
    return r as RecordLabel;
  } catch {
    return null;
  }
}
