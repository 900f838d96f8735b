import type { RecordLabel } from './record-label.js';
import type { Deployment } from './types.js';

/**
 * The deployments of an app that rollbacks replaced, as far as the records show: every id a label's history
 * names, and the newest served deployment before each served rollback — when no version lies unknown between
 * them (a missing version may be the one that really served: then the place proves nothing).
 */
export function rolledBackIds(
  records: ReadonlyArray<Pick<Deployment, 'id' | 'version' | 'kind' | 'readyAt'>>,
  labels: ReadonlyArray<Pick<RecordLabel, 'rolledBackFrom'>>,
): string[] {
  const ids = new Set(labels.flatMap((l) => l.rolledBackFrom ?? []));
  const byVersion = new Map(records.map((d) => [d.version, d]));
  for (const rb of records) {
    if (rb.kind !== 'rollback' || rb.readyAt === null) continue;
    for (let v = rb.version - 1; v >= 1; v--) {
      const d = byVersion.get(v);
      if (!d) break;
      if (d.readyAt === null) continue; // failed: it never served
      ids.add(d.id);
      break;
    }
  }
  return [...ids];
}
