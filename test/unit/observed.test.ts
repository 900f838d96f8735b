import { describe, expect, it } from 'vitest';
import { checkCurrent, describeContainer, observe } from '../../src/core/observed.js';
import { parseRecordLabel, recordLabel } from '../../src/core/record-label.js';
import { rolledBackIds } from '../../src/core/rolled-back.js';
import { makeDeployment } from '../helpers/unit.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const running = { status: 'running' as const, exitCode: null, exitedAt: null };
const stopped = { status: 'stopped' as const, exitCode: null, exitedAt: null };
const exited = (code: number | null) => ({ status: 'exited' as const, exitCode: code, exitedAt: NOW - 60_000 });

describe('what a served deployment is, from what the engine shows of its container', () => {
  it('leaves a record that matches the engine alone', () => {
    expect(observe(running, { state: 'running', exitCode: null }, NOW)).toBeNull();
    expect(observe(stopped, { state: 'exited', exitCode: 143 }, NOW)).toBeNull();
    expect(observe(exited(137), { state: 'exited', exitCode: 137 }, NOW)).toBeNull();
    expect(observe(exited(137), null, NOW)).toBeNull();
  });

  it('marks a running record exited when its container exited, was killed, crash-loops or is gone', () => {
    expect(observe(running, { state: 'exited', exitCode: 137, finishedAt: NOW - 5_000 }, NOW)).toEqual({
      status: 'exited',
      exitCode: 137,
      exitedAt: NOW - 5_000,
      why: 'its container exited with code 137 (killed), not stopped by deploy',
    });
    expect(observe(running, { state: 'exited', exitCode: 3 }, NOW)).toMatchObject({
      status: 'exited',
      exitCode: 3,
      exitedAt: NOW,
    });
    expect(observe(running, { state: 'restarting', exitCode: 1 }, NOW)).toMatchObject({
      status: 'exited',
      exitCode: 1,
      why: expect.stringContaining('restarting'),
    });
    expect(observe(running, null, NOW)).toMatchObject({
      status: 'exited',
      exitCode: null,
      why: expect.stringContaining('gone'),
    });
  });

  it('keeps a deliberate stop as stopped, whatever the exit code, even with the container gone', () => {
    expect(observe(stopped, { state: 'exited', exitCode: 137 }, NOW)).toBeNull();
    expect(observe(stopped, null, NOW)).toBeNull();
  });

  it('makes a record running again when its container runs again (restart policy, docker start)', () => {
    expect(observe(exited(137), { state: 'running', exitCode: null }, NOW)).toMatchObject({
      status: 'running',
      exitCode: null,
      exitedAt: null,
    });
    expect(observe(stopped, { state: 'running', exitCode: null }, NOW)).toMatchObject({ status: 'running' });
  });

  it('updates the exit code of an exited record that exited again differently', () => {
    expect(observe(exited(1), { state: 'exited', exitCode: 2 }, NOW)).toMatchObject({ status: 'exited', exitCode: 2 });
  });

  it('never touches records that are not served ones (in progress, superseded, failed)', () => {
    for (const status of ['queued', 'building', 'starting', 'superseded', 'failed', 'interrupted'] as const) {
      expect(observe({ status, exitCode: null, exitedAt: null }, null, NOW)).toBeNull();
    }
  });

  it('describes the container as deploy status shows it', () => {
    expect(describeContainer({ state: 'running', exitCode: null })).toBe('running');
    expect(describeContainer({ state: 'exited', exitCode: 137 })).toBe('exited (137)');
    expect(describeContainer({ state: 'restarting', exitCode: 1 })).toBe('restarting (1)');
    expect(describeContainer(null)).toBe('gone');
  });
});

describe("what a read-only command does about an app's current deployment", () => {
  const EVERY = 30_000;
  const current = { ...running, checkedAt: NOW - 5_000 };

  it('asks for an inspection when the listing says the container is down (for the time it exited), then records what it says', () => {
    const listed = { state: 'exited', exitCode: 137 };
    expect(checkCurrent(current, listed, undefined, NOW, EVERY)).toEqual({ kind: 'inspect' });
    expect(
      checkCurrent(current, listed, { state: 'exited', exitCode: 137, finishedAt: NOW - 2_000 }, NOW, EVERY),
    ).toEqual({
      kind: 'record',
      observation: {
        status: 'exited',
        exitCode: 137,
        exitedAt: NOW - 2_000,
        why: 'its container exited with code 137 (killed), not stopped by deploy',
      },
    });
  });

  it('goes by the listing when the inspection could not say, and by the inspection when the container runs again by now', () => {
    const listed = { state: 'exited', exitCode: 1 };
    expect(checkCurrent(current, listed, null, NOW, EVERY)).toEqual({
      kind: 'record',
      observation: {
        status: 'exited',
        exitCode: 1,
        exitedAt: NOW,
        why: 'its container exited with code 1, not stopped by deploy',
      },
    });
    expect(checkCurrent(current, listed, { state: 'running', exitCode: 0, finishedAt: null }, NOW, EVERY)).toEqual({
      kind: 'nothing',
    });
  });

  it('records a container gone without inspecting anything', () => {
    expect(checkCurrent(current, null, undefined, NOW, EVERY)).toEqual({
      kind: 'record',
      observation: {
        status: 'exited',
        exitCode: null,
        exitedAt: NOW,
        why: 'its container is gone from the engine (removed outside deploy)',
      },
    });
  });

  it('writes that it checked a record that is right only when the last check is old enough (or there was none)', () => {
    const up = { state: 'running', exitCode: null };
    expect(checkCurrent(current, up, undefined, NOW, EVERY)).toEqual({ kind: 'nothing' });
    expect(checkCurrent({ ...running, checkedAt: NOW - 31_000 }, up, undefined, NOW, EVERY)).toEqual({
      kind: 'mark-checked',
    });
    expect(checkCurrent({ ...running, checkedAt: null }, up, undefined, NOW, EVERY)).toEqual({ kind: 'mark-checked' });
    expect(checkCurrent({ ...stopped, checkedAt: null }, null, undefined, NOW, EVERY)).toEqual({
      kind: 'mark-checked',
    });
  });
});

describe('releases that rollbacks replaced, rebuilt from records', () => {
  const r = (version: number, kind: 'deploy' | 'rollback' | 'redeploy', served = true) => ({
    id: `id${version}`,
    version,
    kind,
    readyAt: served ? version : null,
  });

  it('names every id the labels carry in their history', () => {
    expect(rolledBackIds([], [{ rolledBackFrom: ['aaa'] }, { rolledBackFrom: ['bbb', 'aaa'] }]).sort()).toEqual([
      'aaa',
      'bbb',
    ]);
  });

  it('derives the served deployment just before a served rollback, skipping failed ones', () => {
    expect(rolledBackIds([r(1, 'deploy'), r(2, 'deploy'), r(3, 'deploy', false), r(4, 'rollback')], [])).toEqual([
      'id2',
    ]);
  });

  it('derives nothing across a version it does not know (that one may be what served) nor from a failed rollback', () => {
    expect(rolledBackIds([r(1, 'deploy'), r(3, 'rollback')], [])).toEqual([]);
    expect(rolledBackIds([r(1, 'deploy'), r(2, 'rollback', false)], [])).toEqual([]);
  });

  it('travels in the record label, bounded, and labels written before it read as an empty history', () => {
    const d = makeDeployment({ rolledBackFrom: ['k7m2x9qa', 'abcd2345'] });
    expect(parseRecordLabel(recordLabel(d))?.rolledBackFrom).toEqual(['k7m2x9qa', 'abcd2345']);
    const old = JSON.parse(recordLabel(d)) as Record<string, unknown>;
    delete old.rolledBackFrom;
    expect(parseRecordLabel(JSON.stringify(old))?.rolledBackFrom).toEqual([]);
    const long = { ...old, rolledBackFrom: [...Array.from({ length: 80 }, (_, i) => `id${i}`), 42, '../x'] };
    expect(parseRecordLabel(JSON.stringify(long))?.rolledBackFrom).toHaveLength(50);
  });
});
