import { describe, expect, it } from 'vitest';
import { containerName, LABEL, unprovenName } from '../../src/core/names.js';
import {
  eventsToRead,
  planRecovery,
  restartCurrent,
  type AppContainer,
  type RecoveryInput,
} from '../../src/core/recovery-plan.js';
import type { Deployment } from '../../src/core/types.js';
import { makeVersion } from '../helpers/unit.js';

const URL = 'unix:///var/run/docker.sock';
const OTHER = 'tcp://10.0.0.2:2376';
const T = Date.UTC(2026, 5, 1, 12, 0, 0);

/** Version `version` of app web, made a minute after the one before. */
function deployment(version: number, overrides: Partial<Deployment> = {}): Deployment {
  return makeVersion(version, { createdAt: T + version * 60_000, ...overrides });
}

function unproven(d: Deployment, id = `u-${d.id}`): AppContainer {
  return {
    id,
    name: unprovenName(containerName(d.app, d.version, d.id)),
    labels: { [LABEL.app]: d.app, [LABEL.id]: d.id },
  };
}

function input(overrides: Partial<RecoveryInput> = {}): RecoveryInput {
  return {
    endpoint: URL,
    inProgress: [],
    interruptedOrFailed: [],
    events: new Map(),
    containers: [],
    named: [],
    current: null,
    runningOrStopped: [],
    ...overrides,
  };
}

const NO_PROCESS = 'no process was working on it';

describe('recovery: deployments no process works on', () => {
  it('marks one left in progress interrupted and removes the container it left, with the image it built (it never served)', () => {
    const v1 = deployment(1);
    const v2 = deployment(2, { status: 'starting', readyAt: null, finishedAt: null });
    const plan = planRecovery(
      input({
        inProgress: [v2],
        current: v1,
        runningOrStopped: [v1],
        containers: [{ id: 'c-dep1xyz', name: v1.containerName as string, labels: {} }],
      }),
    );
    expect(plan).toEqual({
      actions: [
        { kind: 'mark-interrupted', deployment: v2, why: NO_PROCESS },
        { kind: 'remove-container', deployment: { ...v2, status: 'interrupted' }, image: 'deploy/web:dep2xyz' },
      ],
      current: v1,
      stopsInFlight: false,
      lookAt: 'c-dep1xyz',
    });
  });

  it("leaves deployments of another engine to that engine's recovery", () => {
    const v2 = deployment(2, { status: 'building', endpoint: OTHER });
    const failed = deployment(3, { status: 'failed', endpoint: OTHER });
    expect(planRecovery(input({ inProgress: [v2], interruptedOrFailed: [failed] })).actions).toEqual([]);
  });

  it('removes what failed and interrupted deployments left, newest first, keeping an image that served or that another deployment built', () => {
    const served = deployment(2, { status: 'failed' });
    const reused = deployment(3, { status: 'interrupted', readyAt: null, image: 'deploy/web:dep1xyz' });
    const gone = deployment(4, { status: 'failed', readyAt: null, containerId: null });
    const fresh = deployment(5, { status: 'queued', readyAt: null, containerId: null });
    expect(planRecovery(input({ inProgress: [fresh], interruptedOrFailed: [gone, reused, served] })).actions).toEqual([
      { kind: 'mark-interrupted', deployment: fresh, why: NO_PROCESS },
      { kind: 'remove-container', deployment: reused, image: null },
      { kind: 'remove-container', deployment: served, image: null },
    ]);
  });
});

describe('recovery: an interrupted stop-first switch-over', () => {
  it('notes, once, each interrupted switch-over that had begun stopping the deployment it replaced: a stop may be in flight', () => {
    const v1 = deployment(1);
    const dying = deployment(2, { status: 'starting', readyAt: null, containerId: null, finishedAt: null });
    const earlier = deployment(3, { status: 'interrupted', readyAt: null, containerId: null, finishedAt: T });
    const seen = deployment(4, { status: 'interrupted', readyAt: null, containerId: null, finishedAt: T });
    const events = new Map([
      [dying.id, ['starting', 'stopping-old']],
      [earlier.id, ['starting', 'stopping-old', 'interrupted']],
      [seen.id, ['stopping-old', 'interrupted', 'recovered']],
    ]);
    const plan = planRecovery(
      input({ inProgress: [dying], interruptedOrFailed: [seen, earlier], events, current: v1, runningOrStopped: [v1] }),
    );
    expect(plan).toEqual({
      actions: [
        { kind: 'mark-interrupted', deployment: dying, why: NO_PROCESS },
        { kind: 'note-recovered', deployment: { ...earlier } },
        { kind: 'note-recovered', deployment: { ...dying, status: 'interrupted' } },
      ],
      current: v1,
      stopsInFlight: true,
      lookAt: v1.containerId,
    });
  });

  it('reads the events of the interrupted records on this engine only', () => {
    const dying = deployment(2, { status: 'starting', finishedAt: null });
    const done = deployment(3, { status: 'interrupted', finishedAt: T });
    const unfinished = deployment(4, { status: 'interrupted', finishedAt: null });
    const failed = deployment(5, { status: 'failed', finishedAt: T });
    const elsewhere = deployment(6, { status: 'interrupted', finishedAt: T, endpoint: OTHER });
    expect(
      eventsToRead({ endpoint: URL, inProgress: [dying], interruptedOrFailed: [elsewhere, failed, unfinished, done] }),
    ).toEqual([dying.id, done.id]);
  });

  it('starts the current deployment again: after the stop in flight when there may be one, at once when it is down', () => {
    expect(restartCurrent({ running: true, restarting: false }, true)).toBe('wait-then-start');
    expect(restartCurrent({ running: false, restarting: false }, true)).toBe('start');
    expect(restartCurrent({ running: false, restarting: false }, false)).toBe('start');
    expect(restartCurrent({ running: true, restarting: false }, false)).toBeNull();
    expect(restartCurrent({ running: false, restarting: true }, false)).toBeNull();
    expect(restartCurrent(null, true)).toBeNull();
  });
});

describe('recovery: containers that never passed their health gate', () => {
  it('removes each, marking its record interrupted when still in progress and keeping its logs when the record is on this engine', () => {
    const v1 = deployment(1);
    const here = deployment(2, { status: 'starting', readyAt: null, containerId: null });
    const there = deployment(3, { status: 'starting', readyAt: null, containerId: null, endpoint: OTHER });
    const stranger: AppContainer = { id: 'u-none', name: 'web-v9-zzzz.starting', labels: { [LABEL.app]: 'web' } };
    const proven: AppContainer = {
      id: 'c-dep1xyz',
      name: v1.containerName as string,
      labels: { [LABEL.app]: 'web', [LABEL.id]: v1.id },
    };
    const plan = planRecovery(
      input({
        inProgress: [here],
        containers: [proven, unproven(here), unproven(there), stranger],
        named: [here, there],
        current: v1,
        runningOrStopped: [v1],
      }),
    );
    expect(plan.actions).toEqual([
      { kind: 'mark-interrupted', deployment: here, why: NO_PROCESS },
      {
        kind: 'remove-unproven',
        container: unproven(here),
        deployment: { ...here, status: 'interrupted' },
        why: NO_PROCESS,
        keepLogs: true,
        markInterrupted: false,
      },
      {
        kind: 'remove-unproven',
        container: unproven(there),
        deployment: there,
        why: NO_PROCESS,
        keepLogs: false,
        markInterrupted: true,
      },
      {
        kind: 'remove-unproven',
        container: stranger,
        deployment: null,
        why: NO_PROCESS,
        keepLogs: false,
        markInterrupted: false,
      },
    ]);
  });

  it('does not remove twice a container its record already named', () => {
    const v2 = deployment(2, { status: 'starting', readyAt: null, containerId: 'u-dep2xyz' });
    expect(planRecovery(input({ inProgress: [v2], containers: [unproven(v2)], named: [v2] })).actions).toEqual([
      { kind: 'mark-interrupted', deployment: v2, why: NO_PROCESS },
      { kind: 'remove-container', deployment: { ...v2, status: 'interrupted' }, image: 'deploy/web:dep2xyz' },
    ]);
  });
});

describe('recovery: a deployment that served, killed before it was made current or had retired the old one', () => {
  it('makes the newest one that passed its gate current, then retires the one it replaced', () => {
    const v1 = deployment(1);
    const v2 = deployment(2, { worker: null });
    const plan = planRecovery(input({ current: v1, runningOrStopped: [v2, v1] }));
    expect(plan).toEqual({
      actions: [
        { kind: 'make-current', deployment: v2 },
        { kind: 'retire', deployment: v1, by: v2 },
      ],
      current: v2,
      stopsInFlight: false,
      lookAt: v2.containerId,
    });
  });

  it('retires older running and stopped records of this engine only, and never a newer one nor one that never passed its gate', () => {
    const v1 = deployment(1, { status: 'stopped' });
    const v2 = deployment(2, { endpoint: OTHER });
    const v3 = deployment(3, { status: 'stopped' });
    const v4 = deployment(4, { readyAt: null });
    const plan = planRecovery(input({ current: v3, runningOrStopped: [v4, v3, v2, v1] }));
    expect(plan).toEqual({
      actions: [{ kind: 'retire', deployment: v1, by: v3 }],
      current: v3,
      stopsInFlight: false,
      lookAt: null,
    });
  });

  it('does nothing when all is as it should be', () => {
    const v1 = deployment(1);
    expect(planRecovery(input({ current: v1, runningOrStopped: [v1] }))).toEqual({
      actions: [],
      current: v1,
      stopsInFlight: false,
      lookAt: v1.containerId,
    });
    expect(planRecovery(input())).toEqual({ actions: [], current: null, stopsInFlight: false, lookAt: null });
    expect(planRecovery(input({ current: deployment(1, { endpoint: OTHER }) })).lookAt).toBeNull();
  });
});

describe('recovery: the front door first, before a release it may route to goes', () => {
  const port = { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 8080, protocol: 'tcp' as const };
  /** Version `version` of app web, behind the door (or publishing its port itself with `proxy: false`). */
  function routed(version: number, overrides: Partial<Deployment> = {}, proxy = true): Deployment {
    const d = deployment(version, overrides);
    return { ...d, config: { ...d.config, ports: [port], proxy } };
  }

  it('sends the door back to the current release before the interrupted one is removed', () => {
    const v1 = routed(1);
    const v2 = routed(2, { status: 'starting', readyAt: null, finishedAt: null });
    const plan = planRecovery(input({ inProgress: [v2], current: v1, runningOrStopped: [v1] }));
    expect(plan.actions.map((a) => a.kind)).toEqual(['mark-interrupted', 'door-to-current', 'remove-container']);
    expect(plan.actions[1]).toEqual({ kind: 'door-to-current', deployment: v1 });
  });

  it('does the same before an unproven container with no record is removed', () => {
    const v1 = routed(1);
    const stray = unproven(routed(2), 'stray');
    const plan = planRecovery(input({ current: v1, runningOrStopped: [v1], containers: [stray] }));
    expect(plan.actions.map((a) => a.kind)).toEqual(['door-to-current', 'remove-unproven']);
  });

  it('removes the route of an app with no current release, when what goes was routed', () => {
    const v1 = routed(1, { status: 'starting', readyAt: null, finishedAt: null });
    const plan = planRecovery(input({ inProgress: [v1] }));
    expect(plan.actions.map((a) => a.kind)).toEqual(['mark-interrupted', 'door-forget', 'remove-container']);
    expect(plan.actions[1]).toEqual({ kind: 'door-forget', app: 'web' });
  });

  it('leaves the door alone when nothing goes, when the app publishes its own ports, or when the current one is stopped', () => {
    const v1 = routed(1);
    expect(planRecovery(input({ current: v1, runningOrStopped: [v1] })).actions).toEqual([]);
    const direct = routed(1, {}, false);
    const v2 = routed(2, { status: 'starting', readyAt: null, finishedAt: null }, false);
    const kinds = (i: Partial<RecoveryInput>) => planRecovery(input(i)).actions.map((a) => a.kind);
    expect(kinds({ inProgress: [v2], current: direct, runningOrStopped: [direct] })).toEqual([
      'mark-interrupted',
      'remove-container',
    ]);
    const stopped = routed(1, { status: 'stopped' });
    const v3 = routed(3, { status: 'starting', readyAt: null, finishedAt: null });
    expect(kinds({ inProgress: [v3], current: stopped, runningOrStopped: [stopped] })).toEqual([
      'mark-interrupted',
      'remove-container',
    ]);
  });
});
