import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { EngineLocalImages } from '../../src/adapters/images/engine-local.js';
import { LABEL } from '../../src/core/names.js';
import { recordLabel } from '../../src/core/record-label.js';
import { makeDeployment } from '../helpers/unit.js';

const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();

describe('the images seam: images kept on the engine that built them', () => {
  let engine: Engine;
  let images: EngineLocalImages;
  const app = `img-${Math.random().toString(36).slice(2, 8)}`;
  const tag = `deploy/${app}:one`;
  let id = '';

  beforeAll(async () => {
    engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
    images = new EngineLocalImages(engine);
    const label = recordLabel(makeDeployment({ app, id: 'imgone01' }));
    id = execFileSync('docker', ['build', '-q', '-t', tag, '--label', `${LABEL.record}=${label}`, '-'], {
      input: 'FROM busybox:1.36\nEXPOSE 8080\n',
      encoding: 'utf8',
    }).trim();
  });
  afterAll(() => {
    try {
      docker('rm', '-f', `${app}-user`);
      docker('rmi', '-f', tag);
    } catch {
      // gone already
    }
    engine.close();
  });

  it("locates a release's image by its id first, else by its tag, and says when it is not there", async () => {
    expect((await images.locate({ image: null, imageId: id }))?.id).toBe(id);
    expect((await images.locate({ image: tag, imageId: null }))?.id).toBe(id);
    // A tag moved by hand does not hide the release's own image: the id decides.
    expect((await images.locate({ image: 'busybox:1.36', imageId: id }))?.id).toBe(id);
    expect(await images.locate({ image: `deploy/${app}:gone`, imageId: null })).toBeNull();
    expect(await images.locate({ image: null, imageId: null })).toBeNull();
    const info = await images.inspect(tag);
    expect(info).toMatchObject({ id, exposed: ['8080/tcp'], digest: null, hasHealthcheck: false });
  });

  it('lists the images of an app by their record label, and removes one only when nothing uses it', async () => {
    expect((await images.list(app)).map((i) => i.id)).toEqual([id]);
    expect((await images.list()).some((i) => i.app === app)).toBe(true);
    expect(await images.list(`${app}-other`)).toEqual([]);
    docker('create', '--name', `${app}-user`, tag);
    expect(await images.remove(id)).toBe(false);
    docker('rm', '-f', `${app}-user`);
    expect(await images.remove(tag)).toBe(true);
    expect(await images.inspect(tag)).toBeNull();
    expect(await images.remove(tag)).toBe(false);
  });
});
