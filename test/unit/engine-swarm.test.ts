import { describe, expect, it } from 'vitest';
import {
  toServiceInfo,
  toSwarmNodeInfo,
  toTaskInfo,
  withTaskDetails,
} from '../../src/adapters/docker/engine/services.js';
import { toEngineInfo } from '../../src/adapters/docker/engine/system.js';
import { freeSubnetPrefix, networksIn } from '../helpers/swarm.js';

describe('toEngineInfo (GET /info)', () => {
  it('reads an engine in no swarm as inactive, not a manager, with no ids', () => {
    const info = toEngineInfo({
      Name: 'host',
      ServerVersion: '20.10.24',
      OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      SecurityOptions: ['name=seccomp,profile=default'],
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '' },
    });
    expect(info).toEqual({
      name: 'host',
      serverVersion: '20.10.24',
      operatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      rootless: false,
      swarm: {
        state: 'inactive',
        nodeId: null,
        nodeAddress: null,
        manager: false,
        clusterId: null,
        nodes: null,
        managers: null,
        error: '',
      },
    });
  });

  it('reads a manager and a worker of an active swarm', () => {
    const manager = toEngineInfo({
      Name: 'n1',
      ServerVersion: '20.10.24',
      Swarm: {
        NodeID: 'abc',
        NodeAddr: '10.1.2.11',
        LocalNodeState: 'active',
        ControlAvailable: true,
        Nodes: 3,
        Managers: 1,
        Cluster: { ID: 'cluster1' },
      },
    });
    expect(manager.swarm).toMatchObject({ state: 'active', manager: true, nodeId: 'abc', clusterId: 'cluster1' });
    expect([manager.swarm.nodes, manager.swarm.managers]).toEqual([3, 1]);
    const worker = toEngineInfo({ Swarm: { NodeID: 'def', LocalNodeState: 'active', ControlAvailable: false } });
    expect(worker.swarm).toMatchObject({
      state: 'active',
      manager: false,
      nodeId: 'def',
      clusterId: null,
      nodes: null,
    });
  });

  it('never calls a node that is not active a manager, and reads a missing Swarm as inactive', () => {
    expect(toEngineInfo({ Swarm: { LocalNodeState: 'locked', ControlAvailable: true } }).swarm.manager).toBe(false);
    expect(toEngineInfo({}).swarm).toMatchObject({ state: 'inactive', manager: false });
    expect(toEngineInfo({ Swarm: null }).swarm.state).toBe('inactive');
    expect(toEngineInfo({ SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'] }).rootless).toBe(true);
    expect(toEngineInfo({ SecurityOptions: null }).rootless).toBe(false);
  });
});

describe('services, tasks and nodes as the engine lists them', () => {
  const spec = {
    Name: 'web',
    Labels: { a: 'b' },
    TaskTemplate: { ContainerSpec: { Image: 'busybox:1.36' } },
    Mode: { Replicated: { Replicas: 3 } },
  };

  it('a service: version index, replicas (null when global), times, update status', () => {
    expect(
      toServiceInfo({
        ID: 's1',
        Version: { Index: 42 },
        CreatedAt: '2026-12-02T09:00:00.123456789Z',
        UpdatedAt: '0001-01-01T00:00:00Z',
        Spec: spec,
        UpdateStatus: { State: 'completed', Message: 'update completed' },
      }),
    ).toEqual({
      id: 's1',
      name: 'web',
      version: 42,
      labels: { a: 'b' },
      replicas: 3,
      spec,
      previousSpec: null,
      updateState: 'completed',
      updateMessage: 'update completed',
      createdAt: Date.parse('2026-12-02T09:00:00.123Z'),
      updatedAt: null,
    });
    expect(toServiceInfo({ ID: 's2', Spec: { ...spec, Mode: { Global: {} } } }).replicas).toBeNull();
    expect(toServiceInfo({ ID: 's3', Spec: { ...spec, Mode: {} } }).replicas).toBe(1);
  });

  it('a task: node, slot, state, desired state, error, container', () => {
    expect(
      toTaskInfo({
        ID: 't1',
        ServiceID: 's1',
        NodeID: 'n1',
        Slot: 2,
        Spec: { ContainerSpec: { Image: 'busybox:1.36', Env: ['A=1'] } },
        Status: { State: 'rejected', Message: 'preparing', Err: 'No such image: x:1' },
        DesiredState: 'shutdown',
      }),
    ).toMatchObject({
      id: 't1',
      serviceId: 's1',
      nodeId: 'n1',
      slot: 2,
      state: 'rejected',
      desiredState: 'shutdown',
      error: 'No such image: x:1',
      containerId: null,
      image: 'busybox:1.36',
      env: ['A=1'],
    });
    // An ended task's container exit code and when it ended; a running one's code (0, or -1 while it stops) is not one.
    const ended = toTaskInfo({
      ID: 't3',
      ServiceID: 's1',
      Status: {
        State: 'failed',
        Timestamp: '2026-12-02T10:04:59.054975951Z',
        Err: 'task: non-zero exit (3)',
        ContainerStatus: { ContainerID: 'c3', ExitCode: 3 },
      },
    });
    expect(ended).toMatchObject({ exitCode: 3, stateSince: Date.parse('2026-12-02T10:04:59.054Z'), containerId: 'c3' });
    const stopping = { ID: 't4', ServiceID: 's1', Status: { State: 'running', ContainerStatus: { ExitCode: -1 } } };
    expect(toTaskInfo(stopping).exitCode).toBeNull();
    // Not yet scheduled: no node, no status.
    expect(toTaskInfo({ ID: 't2', ServiceID: 's1' })).toMatchObject({ nodeId: '', state: 'new', slot: null, env: [] });
  });

  it('a node: a manager listening on 0.0.0.0 is placed by its manager address', () => {
    const node = toSwarmNodeInfo({
      ID: 'n1',
      Description: { Hostname: 'one', Engine: { EngineVersion: '20.10.24' } },
      Spec: { Role: 'manager', Availability: 'active', Labels: {} },
      Status: { State: 'ready', Addr: '0.0.0.0' },
      ManagerStatus: { Leader: true, Addr: '10.1.2.11:2377' },
    });
    expect(node).toEqual({
      id: 'n1',
      hostname: 'one',
      address: '10.1.2.11',
      state: 'ready',
      availability: 'active',
      role: 'manager',
      leader: true,
      engineVersion: '20.10.24',
      labels: {},
    });
    const worker = toSwarmNodeInfo({
      ID: 'n2',
      Spec: { Role: 'worker', Availability: 'drain' },
      Status: { State: 'down', Addr: '10.1.2.12' },
    });
    expect(worker).toMatchObject({ address: '10.1.2.12', role: 'worker', leader: false, availability: 'drain' });
  });
});

describe('withTaskDetails (service logs read with details=true)', () => {
  const details = 'com.docker.swarm.node.id=N1,com.docker.swarm.service.id=S1,com.docker.swarm.task.id=T1';

  it('takes the task and node off the front of the line', () => {
    expect(withTaskDetails({ time: 5, stream: 'stderr', message: `${details} hello, a=b world` })).toEqual({
      time: 5,
      stream: 'stderr',
      message: 'hello, a=b world',
      taskId: 'T1',
      nodeId: 'N1',
    });
    expect(withTaskDetails({ time: null, stream: 'stdout', message: `${details} ` }).message).toBe('');
  });

  it('leaves a line without task details as it is', () => {
    const plain = { time: null, stream: 'stdout' as const, message: 'key=value and more' };
    expect(withTaskDetails(plain)).toEqual({ ...plain, taskId: '', nodeId: '' });
    expect(withTaskDetails({ ...plain, message: 'no details here' }).message).toBe('no details here');
  });
});

describe("the swarm harness's choice of network", () => {
  it('reads the networks of ip addr / ip route output', () => {
    expect(networksIn('inet 172.17.0.1/16 brd ...\n10.160.3.0/24 dev x\ndefault via 192.0.2.1')).toEqual([
      [((172 << 24) | (17 << 16) | 1) >>> 0, 16],
      [((10 << 24) | (160 << 16) | (3 << 8)) >>> 0, 24],
    ]);
  });

  it('picks a 10.160-199.x.0/24 that overlaps nothing in use, and gives up when everything is', () => {
    // random() = 0 first gives 10.160.0., which a /16 covers; then 10.199.255. (random just under 1).
    const seq = [0, 0, 0.999, 0.999];
    const used = networksIn('10.160.0.0/16');
    expect(freeSubnetPrefix(used, () => seq.shift() ?? 0.5)).toBe('10.199.255.');
    expect(freeSubnetPrefix([], () => 0)).toBe('10.160.0.');
    expect(freeSubnetPrefix(networksIn('10.0.0.0/8'))).toBeNull();
  });
});
