import { completeConfig } from './setting-table.js';
import { ROLLED_BACK_HISTORY, type Deployment } from './types.js';

/**
 * What a deployment's label carries, on its image and its container: what it is and where it came from —
 * enough to rebuild the record on another machine (`deploy sync`) — and nothing of where it runs now.
 */
const LABEL_FIELDS = [
  'id',
  'app',
  'version',
  'kind',
  'parentId',
  'source',
  'subdir',
  'ref',
  'commit',
  'commitSubject',
  'commitAuthor',
  'commitTime',
  'dirty',
  'image',
  // The registry digest a release was pushed under (set before its container is made): a store rebuilt by sync
  // can pull it again on another engine. On an image's own label it is not known yet (the push comes after).
  'imageDigest',
  'config',
  'createdAt',
  'buildStartedAt',
  'buildFinishedAt',
  'actor',
  'origin',
  // The ids the app had been rolled back away from when this deployment was made (newest first, bounded):
  // the app's current container always carries the history, so a store rebuilt by sync marks them.
  'rolledBackFrom',
  // The ids of the app's deployments that had served when this one was made: an image another store finds
  // without a container is a release that served only if the current container's label names it.
  'servedBefore',
] as const satisfies ReadonlyArray<keyof Deployment>;

export type RecordLabel = Pick<Deployment, (typeof LABEL_FIELDS)[number]>;

function pick(from: RecordLabel): RecordLabel {
  return Object.fromEntries(LABEL_FIELDS.map((k) => [k, from[k]])) as RecordLabel;
}

/**
 * Longest commit subject a label carries: the engine refuses labels past its request limits (a 2 MB subject gets
 * a 431), and a label is for rebuilding the record elsewhere, where a cut subject says it was cut. The store keeps
 * the whole subject.
 */
export const LABEL_SUBJECT_MAX = 1_000;

/** The label of a deployment, secret values left out (the engine holds them in the container only). */
export function recordLabel(d: Deployment): string {
  const env = Object.fromEntries(
    Object.entries(d.config.env).map(([k, v]) => [k, v.secret ? { value: '', secret: true } : v]),
  );
  const chars = [...d.commitSubject];
  const commitSubject =
    chars.length > LABEL_SUBJECT_MAX ? `${chars.slice(0, LABEL_SUBJECT_MAX - 1).join('')}…` : d.commitSubject;
  return JSON.stringify({ ...pick(d), commitSubject, config: { ...d.config, env } } satisfies RecordLabel);
}

/** Reads a record label; null when it is missing or not one of ours. */
export function parseRecordLabel(raw: string | undefined): RecordLabel | null {
  if (!raw) return null;
  try {
    const r = JSON.parse(raw) as Partial<RecordLabel>;
    if (
      typeof r.id !== 'string' ||
      typeof r.app !== 'string' ||
      typeof r.version !== 'number' ||
      typeof r.commit !== 'string' ||
      !r.config
    )
      return null;
    // Only the fields a label has: anything else written into it (by hand, by a newer version) is dropped.
    // Labels written before the rolled-back history existed have none.
    const ids = (list: unknown) =>
      Array.isArray(list)
        ? list
            .filter((x): x is string => typeof x === 'string' && /^[a-z0-9]{1,32}$/.test(x))
            .slice(0, ROLLED_BACK_HISTORY)
        : [];
    // Labels written before a setting existed get its default.
    const config = completeConfig(r.config);
    return pick({
      ...(r as RecordLabel),
      config,
      rolledBackFrom: ids(r.rolledBackFrom),
      servedBefore: ids(r.servedBefore),
    });
  } catch {
    return null;
  }
}
