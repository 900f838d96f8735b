import { describe, expect, it } from 'vitest';
import { parseRecordLabel, recordLabel } from '../../src/core/record-label.js';
import type { Deployment } from '../../src/core/types.js';
import { makeConfig, makeDeployment } from '../helpers/unit.js';

/** The named fields of d with their values. */
function fieldsOf<K extends keyof Deployment>(d: Deployment, ...keys: K[]): Pick<Deployment, K> {
  return Object.fromEntries(keys.map((k) => [k, d[k]])) as Pick<Deployment, K>;
}

describe('the record label on images and containers', () => {
  const d = makeDeployment({
    kind: 'redeploy',
    parentId: 'zzzz9999',
    config: makeConfig({
      env: { GREETING: { value: 'hello', secret: false }, API_TOKEN: { value: 's3cret-token', secret: true } },
    }),
  });

  it('carries what the deployment is and where it came from, and reads back to the same', () => {
    const label = parseRecordLabel(recordLabel(d));
    expect(label).toEqual({
      // The record's own fields, as they are: what it is, where it came from, its image, who made it and when.
      ...fieldsOf(d, 'id', 'app', 'version'),
      ...fieldsOf(d, 'source', 'subdir', 'ref', 'commit', 'commitSubject', 'commitAuthor', 'commitTime', 'dirty'),
      ...fieldsOf(d, 'image', 'imageDigest'),
      ...fieldsOf(d, 'createdAt', 'buildStartedAt', 'buildFinishedAt', 'actor', 'origin'),
      kind: 'redeploy',
      parentId: 'zzzz9999',
      config: {
        ...d.config,
        env: { GREETING: { value: 'hello', secret: false }, API_TOKEN: { value: '', secret: true } },
      },
      rolledBackFrom: [],
      servedBefore: [],
    });
  });

  it('never holds a secret value, nor where the deployment runs now', () => {
    const raw = recordLabel(d);
    expect(raw).not.toContain('s3cret-token');
    for (const key of ['status', 'containerId', 'endpoint', 'readyAt', 'worker'])
      expect(Object.keys(JSON.parse(raw) as object)).not.toContain(key);
  });

  it('drops fields a label should not have, and refuses what is not a label', () => {
    const tampered = JSON.stringify({
      ...(JSON.parse(recordLabel(d)) as object),
      status: 'running',
      worker: { machine: 'x', pid: 1 },
    });
    expect(Object.keys(parseRecordLabel(tampered) ?? {})).not.toContain('status');
    expect(Object.keys(parseRecordLabel(tampered) ?? {})).not.toContain('worker');
    expect(parseRecordLabel(undefined)).toBeNull();
    expect(parseRecordLabel('not json')).toBeNull();
    expect(parseRecordLabel(JSON.stringify({ id: 'abc', app: 'web' }))).toBeNull();
  });
});

describe('a huge commit subject', () => {
  it('is cut in the label (the engine refuses huge labels), whole in the record', async () => {
    const { recordLabel, parseRecordLabel, LABEL_SUBJECT_MAX } = await import('../../src/core/record-label.js');
    const { makeDeployment } = await import('../helpers/unit.js');
    const d = makeDeployment({ commitSubject: 'x'.repeat(2_000_000) });
    const label = recordLabel(d);
    expect(label.length).toBeLessThan(20_000);
    const back = parseRecordLabel(label);
    expect([...(back?.commitSubject ?? '')]).toHaveLength(LABEL_SUBJECT_MAX);
    expect(back?.commitSubject.endsWith('…')).toBe(true);
    expect(d.commitSubject).toHaveLength(2_000_000);
  });
});
