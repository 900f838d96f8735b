import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest, homeForTest } from '../helpers/app-fixture.js';
import { cli } from '../helpers/cli.js';
import { fetchText, imageExists } from '../helpers/docker.js';
import { run } from '../helpers/process.js';
import { fault } from './fault.js';

describe('histories that never lie across stores', () => {
  it("an image left by a deploy that failed is not read by another store's sync as a release that served", async ({
    task,
    onTestFinished,
  }) => {
    const report = fault(
      task,
      'the fresh store records v2 failed (never served); v1 stays current; rollback finds nothing older to go to',
    );
    const f = await appForTest({ prefix: 'hist', deployJson: { healthCheck: { path: '/', timeout: '20s' } } });
    await f.deploy();
    f.repo.commit('broken', { 'start.sh': 'sleep 2\nexit 3\n' });
    const { done } = f.startBin(['deploy', '--json'], { quiet: true });
    // While v2 waits for its gate, something else holds its image (a stand-in for whatever makes its removal fail,
    // a full disk among them): a container made from it, without our labels.
    const image = (
      await f.waitForNewest((d) => d.version === 2 && d.status === 'starting' && d.image !== null, 'v2 starting')
    ).image as string;
    const pin = await run('docker', [
      'create',
      '--label',
      'dev.deploy.record=',
      '--label',
      'dev.deploy.app=',
      '--label',
      'dev.deploy.id=',
      image,
      'true',
    ]);
    expect(pin.code, pin.stderr).toBe(0);
    onTestFinished(async () => void (await run('docker', ['rm', '-f', pin.stdout.trim()])));
    expect((await done).code).toBe(EXIT_CODES.health_failed);
    expect(imageExists(image)).toBe(true);

    const env = { DEPLOY_HOME: homeForTest() };
    expect((await cli(['sync', '--all'], { env })).code).toBe(0);
    const rows = (await cli(['ls', '--app', f.app, '--json'], { env })).json<PublicRecord[]>();
    expect(rows.map((d) => [d.version, d.status])).toEqual([
      [2, 'failed'],
      [1, 'running'],
    ]);
    expect(rows[0]?.readyAt).toBeNull();
    const rollback = await cli(['rollback', f.app, '--yes', '--json'], { env });
    expect(rollback.code).toBe(EXIT_CODES.not_found);
    expect(await fetchText(f.port)).toBe('one');
    report('v2 imported failed (its image without a served mark in v1 label history); rollback exit 3; v1 serves');
  });
});
