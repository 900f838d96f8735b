import { describe, expect, it } from 'vitest';
import { LABEL } from '../../src/core/names.js';
import { planImagePrune, type EngineImage } from '../../src/core/prune.js';
import { recordLabel } from '../../src/core/record-label.js';
import type { Deployment } from '../../src/core/types.js';
import { makeDeployment } from '../helpers/unit.js';

const image = (id: string, app: string, builtBy: string | null): EngineImage => ({
  id,
  tags: [`deploy/${app}:${builtBy ?? 'x'}`],
  labels: builtBy === null ? {} : { [LABEL.record]: recordLabel(makeDeployment({ id: builtBy, app })) },
});

function deployment(
  version: number,
  status: Deployment['status'],
  imageId: string | null,
  ready = true,
  app = 'web',
): Deployment {
  return makeDeployment({
    id: `dep${version}xxxx`.slice(0, 8),
    app,
    version,
    status,
    imageId,
    createdAt: version * 1000,
    readyAt: ready ? version * 1000 + 500 : null,
  });
}

describe('planImagePrune', () => {
  const deployments = [
    deployment(1, 'superseded', 'sha:1'),
    deployment(2, 'superseded', 'sha:2'),
    deployment(3, 'failed', 'sha:3', false),
    deployment(4, 'superseded', 'sha:4'),
    deployment(5, 'running', 'sha:5'),
  ];
  const images = [
    image('sha:1', 'web', 'dep1xxxx'),
    image('sha:2', 'web', 'dep2xxxx'),
    image('sha:3', 'web', 'dep3xxxx'),
    image('sha:4', 'web', 'dep4xxxx'),
    image('sha:5', 'web', 'dep5xxxx'),
  ];

  it('keeps the running image plus the newest N successful others, and removes the rest', () => {
    const plan = planImagePrune('web', images, deployments, 2);
    expect(plan.remove.map((i) => i.id)).toEqual(['sha:1', 'sha:3']);
    expect(plan.keep.map((i) => [i.id, i.why])).toEqual([
      ['sha:2', 'rollback target v2'],
      ['sha:4', 'rollback target v4'],
      ['sha:5', 'running v5'],
    ]);
  });

  it('counts an image shared by several deployments once', () => {
    const shared = [...deployments, deployment(6, 'running', 'sha:4')].map((d) =>
      d.version === 5 ? { ...d, status: 'superseded' as const } : d,
    );
    const plan = planImagePrune('web', images, shared, 1);
    // v6 runs sha:4; the one rollback target besides it is v5's sha:5.
    expect(plan.keep.map((i) => i.id).sort()).toEqual(['sha:4', 'sha:5']);
    expect(plan.remove.map((i) => i.id)).toEqual(['sha:1', 'sha:2', 'sha:3']);
  });

  it("never removes a stopped-but-current or in-progress deployment's image, whatever the retention", () => {
    const ds = [
      deployment(1, 'stopped', 'sha:1'),
      deployment(2, 'building', 'sha:2', false),
      deployment(3, 'superseded', 'sha:3'),
    ];
    const plan = planImagePrune('web', images.slice(0, 3), ds, 1);
    expect(plan.remove).toEqual([]);
  });

  it("never touches other apps' images, images deploy did not make, or builds this store does not know", () => {
    const foreign = [image('sha:9', 'api', 'dep9xxxx'), image('sha:8', 'web', null), image('sha:7', 'web', 'otherbox')];
    const plan = planImagePrune('web', foreign, deployments, 0);
    expect(plan.remove).toEqual([]);
    expect(plan.keep.map((i) => i.why)).toEqual([
      'another app, or not made by deploy',
      'another app, or not made by deploy',
      'built by a deployment this store does not know',
    ]);
  });
});
