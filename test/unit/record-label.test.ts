import { describe, expect, it } from 'vitest';
import { parseRecordLabel, recordLabel } from '../../src/core/record-label.js';
import { makeConfig, makeDeployment } from '../helpers/unit.js';

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
      id: d.id,
      app: d.app,
      version: d.version,
      kind: 'redeploy',
      parentId: 'zzzz9999',
      source: d.source,
      subdir: d.subdir,
      ref: d.ref,
      commit: d.commit,
      commitSubject: d.commitSubject,
      commitAuthor: d.commitAuthor,
      commitTime: d.commitTime,
      dirty: d.dirty,
      image: d.image,
      imageDigest: d.imageDigest,
      config: {
        ...d.config,
        env: { GREETING: { value: 'hello', secret: false }, API_TOKEN: { value: '', secret: true } },
      },
      createdAt: d.createdAt,
      buildStartedAt: d.buildStartedAt,
      buildFinishedAt: d.buildFinishedAt,
      actor: d.actor,
      origin: d.origin,
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
