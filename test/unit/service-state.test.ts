import { describe, expect, it } from 'vitest';
import type { ServiceInfo, TaskInfo } from '../../src/adapters/docker/engine/types.js';
import { serviceState } from '../../src/adapters/runtime/services.js';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);

function service(overrides: Partial<ServiceInfo> = {}, healthTest?: string[]): ServiceInfo {
  return {
    id: 'svc1',
    name: 'web-v3-abcd2345',
    version: 7,
    labels: { 'dev.deploy.app': 'web' },
    replicas: 1,
    spec: {
      Name: 'web-v3-abcd2345',
      TaskTemplate: {
        ContainerSpec: {
          Image: 'busybox:1.36',
          Env: ['A=1'],
          ...(healthTest ? { Healthcheck: { Test: healthTest } } : {}),
        },
      },
    },
    previousSpec: null,
    updateState: null,
    updateMessage: '',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function task(
  id: string,
  slot: number,
  state: string,
  desiredState: string,
  at: number,
  more: Partial<TaskInfo> = {},
): TaskInfo {
  return {
    id,
    serviceId: 'svc1',
    nodeId: 'n1',
    slot,
    state,
    desiredState,
    error: '',
    message: '',
    containerId: state === 'pending' ? null : `c-${id}`,
    exitCode: null,
    stateSince: at,
    image: 'busybox:1.36',
    env: [],
    createdAt: at - 100,
    updatedAt: at,
    ...more,
  };
}

describe('serviceState: a service and its tasks as a WorkloadState', () => {
  it('a created service (0 replicas, no task) is created, not running, exit code 0', () => {
    expect(serviceState(service({ replicas: 0 }), [])).toEqual({
      id: 'svc1',
      name: 'web-v3-abcd2345',
      running: false,
      restarting: false,
      status: 'created',
      exitCode: 0,
      restartCount: 0,
      health: null,
      labels: { 'dev.deploy.app': 'web' },
      error: '',
      imageId: 'busybox:1.36',
      env: ['A=1'],
      startedAt: null,
      finishedAt: null,
    });
  });

  it('runs when its wanted tasks run; an unproven one is named NAME.starting; a health command makes a running task healthy', () => {
    const info = service({ labels: { 'dev.deploy.unproven': 'true' } }, ['CMD-SHELL', 'true']);
    const state = serviceState(info, [task('t1', 1, 'running', 'running', T0 + 1000)]);
    expect(state).toMatchObject({
      name: 'web-v3-abcd2345.starting',
      running: true,
      status: 'running',
      health: 'healthy',
      startedAt: T0 + 1000,
      finishedAt: null,
    });
    expect(serviceState(info, [task('t1', 1, 'starting', 'running', T0)])).toMatchObject({
      running: false,
      status: 'starting',
      health: 'starting',
    });
    // NONE turns the image's check off: no health.
    expect(serviceState(service({}, ['NONE']), [task('t1', 1, 'running', 'running', T0)]).health).toBeNull();
  });

  it('counts failed tasks replaced in their slot as restarts; one waiting out the restart delay is restarting', () => {
    const tasks = [
      task('t3', 1, 'ready', 'ready', T0 + 3000),
      task('t2', 1, 'failed', 'shutdown', T0 + 2000, { exitCode: 4, error: 'task: non-zero exit (4)' }),
      task('t1', 1, 'failed', 'shutdown', T0 + 1000, { exitCode: 2, error: 'task: non-zero exit (2)' }),
    ];
    expect(serviceState(service(), tasks)).toMatchObject({
      running: false,
      restarting: true,
      status: 'restarting',
      restartCount: 2,
      exitCode: 4,
      error: 'task: non-zero exit (4)',
      finishedAt: T0 + 2000,
    });
    // The last failure, not replaced: exited with its code.
    expect(serviceState(service(), tasks.slice(1))).toMatchObject({ status: 'exited', restartCount: 1, exitCode: 4 });
  });

  it('a service scaled to 0 reports the exit its stop kept in a label, which it does not list among its labels', () => {
    const info = service({
      replicas: 0,
      labels: { 'dev.deploy.app': 'web', 'dev.deploy.last-exit': JSON.stringify({ exitCode: 143, finishedAt: T0 }) },
    });
    expect(serviceState(info, [])).toMatchObject({
      running: false,
      status: 'exited',
      exitCode: 143,
      finishedAt: T0,
      labels: { 'dev.deploy.app': 'web' },
    });
  });

  it('a task the nodes refused: not running, its error said, no exit code of its own', () => {
    const refused = task('t1', 1, 'rejected', 'shutdown', T0, { error: 'No such image: x:1', containerId: null });
    expect(serviceState(service(), [refused])).toMatchObject({
      running: false,
      status: 'exited',
      exitCode: -1,
      error: 'No such image: x:1',
    });
  });
});
