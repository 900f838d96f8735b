import { describe, expect, it } from 'vitest';
import { imageLocations } from '../../src/core/image-place.js';
import { makeConfig, makeDeployment } from '../helpers/unit.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;
const ID = `sha256:${'1'.repeat(64)}`;

describe('imageLocations: where a release image lives, as the records tell it', () => {
  const pushed = makeDeployment({
    app: 'web',
    version: 1,
    imageId: ID,
    imageDigest: DIGEST,
    endpoint: 'unix:///var/run/docker.sock',
    config: makeConfig({ registry: 'registry.example.com/team' }),
  });

  it('names the registry reference of a pushed release, and the engines whose records ran the same image', () => {
    const records = [
      pushed,
      makeDeployment({
        app: 'web',
        version: 2,
        imageId: `sha256:${'2'.repeat(64)}`,
        endpoint: 'unix:///var/run/docker.sock',
      }),
      makeDeployment({ app: 'web', version: 4, imageId: ID, endpoint: 'tcp://b:2376' }),
      makeDeployment({ app: 'web', version: 3, imageId: ID, endpoint: 'tcp://b:2376' }),
      makeDeployment({ app: 'api', version: 1, imageId: ID, endpoint: 'tcp://c:2376' }),
    ];
    expect(imageLocations(pushed, records)).toEqual({
      registry: `registry.example.com/team/web@${DIGEST}`,
      engines: [
        { endpoint: 'unix:///var/run/docker.sock', versions: [1] },
        { endpoint: 'tcp://b:2376', versions: [3, 4] },
      ],
    });
  });

  it('has no registry for a release that was not pushed (its digest is its image id, or no registry is set)', () => {
    expect(imageLocations({ ...pushed, imageDigest: ID }, [pushed]).registry).toBeNull();
    expect(imageLocations({ ...pushed, config: makeConfig({ registry: null }) }, [pushed]).registry).toBeNull();
  });

  it('is nowhere for a release that never had an image', () => {
    const failed = { ...pushed, imageId: null, imageDigest: null };
    expect(imageLocations(failed, [failed])).toEqual({ registry: null, engines: [] });
  });
});
