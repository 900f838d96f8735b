import { afterEach, describe, expect, it } from 'vitest';
import { get, serveWeb, sleep, startRouter, startUpstream, testRoute, type Harness, type Upstream } from './helpers.js';

let harness: Harness;
let v1: Upstream;
afterEach(async () => {
  await harness?.close();
  await v1?.close();
});

describe('pause and resume', () => {
  it('answers 503 with the paused page while paused, and serves again on resume', async () => {
    harness = startRouter();
    v1 = await startUpstream('v1');
    const pool = await serveWeb(harness, v1, {}, 2);
    expect(await harness.router.pause('web', 0)).toEqual({ app: 'web', paused: { holdMs: 0 } });
    const paused = await get(pool);
    expect(paused.status).toBe(503);
    expect(paused.text).toContain('503 Paused');
    expect(paused.headers['retry-after']).toBe('5');
    expect((harness.router.status('web') as { state: string }).state).toBe('paused');
    expect(v1.seen).toEqual([]);
    await harness.router.resume('web');
    expect((await get(pool)).text).toBe('v1');
    await pool.close();
  });

  it('holds requests while paused with a hold, and lets them through on resume', async () => {
    harness = startRouter();
    v1 = await startUpstream('v1');
    const pool = await serveWeb(harness, v1, {}, 4);
    await harness.router.pause('web', 5_000);
    const held = [get(pool), get(pool)];
    await sleep(300);
    expect(v1.seen).toEqual([]);
    const resumedAt = Date.now();
    await harness.router.resume('web');
    const answers = await Promise.all(held);
    expect(answers.map((a) => a.text)).toEqual(['v1', 'v1']);
    // Released by the resume, not by the 5 s hold running out.
    expect(Date.now() - resumedAt).toBeLessThan(2_000);
    await pool.close();
  });

  it('answers 503 when the hold runs out', async () => {
    harness = startRouter();
    v1 = await startUpstream('v1');
    const pool = await serveWeb(harness, v1);
    await harness.router.pause('web', 300);
    const started = Date.now();
    const answer = await get(pool);
    expect(answer.status).toBe(503);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(v1.seen).toEqual([]);
    await pool.close();
  });

  it('stays paused across a deploy, and the state file says so', async () => {
    harness = startRouter();
    v1 = await startUpstream('v1');
    const v2 = await startUpstream('v2');
    await harness.router.deploy(testRoute('web', v1.address));
    await harness.router.pause('web', 0);
    const pool = await serveWeb(harness, v2);
    expect((await get(pool)).status).toBe(503);
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync(harness.stateFile, 'utf8')).apps[0].paused).toEqual({ holdMs: 0 });
    await harness.router.resume('web');
    expect((await get(pool)).text).toBe('v2');
    await pool.close();
    await v2.close();
  });
});
