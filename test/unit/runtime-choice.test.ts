import { describe, expect, it } from 'vitest';
import { wantedReplicas } from '../../src/adapters/runtime/services.js';
import { LABEL } from '../../src/core/names.js';
import { recordLabel } from '../../src/core/record-label.js';
import {
  hostPortTaskLimit,
  nodeRefusal,
  placementOf,
  runtimeKindOf,
  runtimeMove,
  runtimeRefusal,
  runtimeSettingOf,
} from '../../src/core/runtime-choice.js';
import { settingValueFromText } from '../../src/core/config-keys.js';
import { validateSettings } from '../../src/core/settings.js';
import type { DeployConfig } from '../../src/core/types.js';
import { makeConfig, makeDeployment, portMapping } from '../helpers/unit.js';

const manager = { state: 'active', manager: true, nodes: 2 };

describe('the runtime and replicas settings', () => {
  it('are checked in deploy.json and read from config set text', () => {
    expect(validateSettings({ runtime: 'swarm', replicas: 3 }, 'deploy.json')).toEqual({
      runtime: 'swarm',
      replicas: 3,
    });
    expect(() => validateSettings({ runtime: 'kubernetes' }, 'deploy.json')).toThrow(
      /runtime: expected "containers" or "swarm", found "kubernetes"/,
    );
    for (const bad of [0, 1.5, -2, '3', 1001])
      expect(() => validateSettings({ replicas: bad }, 'deploy.json')).toThrow(
        /replicas: expected a whole number from 1 to 1000/,
      );
    expect(settingValueFromText('replicas', '4')).toBe(4);
    expect(() => settingValueFromText('replicas', 'four')).toThrow(/replicas must be a whole number/);
  });

  it('nodes: Docker endpoints as -H or --context take them, each once; config set reads a comma list', () => {
    expect(
      validateSettings({ nodes: ['ssh://me@worker-1', 'worker-2', 'tcp://10.0.0.3:2376'] }, 'deploy.json'),
    ).toEqual({
      nodes: ['ssh://me@worker-1', 'worker-2', 'tcp://10.0.0.3:2376'],
    });
    expect(() => validateSettings({ nodes: ['ftp://x'] }, 'deploy.json')).toThrow(/"ftp:\/\/x" is neither a URL/);
    expect(() => validateSettings({ nodes: ['worker 2'] }, 'deploy.json')).toThrow(
      /"worker 2" is neither a URL \(ssh:\/\/, tcp:\/\/, unix:\/\/\) nor a docker context name/,
    );
    expect(() => validateSettings({ nodes: ['w1', 'w1'] }, 'deploy.json')).toThrow(/a node is listed twice/);
    expect(() => validateSettings({ nodes: 'w1' }, 'deploy.json')).toThrow(/expected an array of strings/);
    expect(settingValueFromText('nodes', 'ssh://me@w1, w2')).toEqual(['ssh://me@w1', 'w2']);
    expect(settingValueFromText('nodes', '')).toEqual([]);
  });

  it("choose the record's runtime kind, and back", () => {
    expect(runtimeKindOf({ runtime: 'swarm' })).toBe('service');
    expect(runtimeKindOf({ runtime: 'containers' })).toBe('container');
    expect(runtimeSettingOf('service')).toBe('swarm');
    expect(runtimeSettingOf('container')).toBe('containers');
  });
});

describe('runtimeRefusal: what a deploy refuses before anything is recorded', () => {
  it('refuses replicas above 1 on containers, naming --runtime swarm', () => {
    const e = runtimeRefusal('web', makeConfig({ replicas: 2 }), null);
    expect(e).toMatchObject({ code: 'config', exitCode: 8 });
    expect(e?.message).toBe(
      'replicas is 2, but web runs as one container (runtime containers): only a Swarm service runs replicas.',
    );
    expect(e?.hint).toMatch(/--runtime swarm/);
    expect(runtimeRefusal('web', makeConfig(), null)).toBeNull();
  });

  it('refuses runtime swarm on an engine outside a swarm, naming docker swarm init', () => {
    const e = runtimeRefusal('web', makeConfig({ runtime: 'swarm' }), {
      state: 'inactive',
      manager: false,
      nodes: null,
    });
    expect(e).toMatchObject({ code: 'config' });
    expect(e?.message).toBe('web is set to run on a swarm (runtime swarm), but the engine is not part of a swarm.');
    expect(e?.hint).toMatch(/docker swarm init/);
    expect(e?.hint).toMatch(/-H\/--context/);
  });

  it('refuses a worker, pointing at a manager', () => {
    const e = runtimeRefusal('web', makeConfig({ runtime: 'swarm' }), { state: 'active', manager: false, nodes: 3 });
    expect(e?.message).toMatch(/is a worker of a swarm, not a manager/);
    expect(e?.hint).toMatch(/a manager of the swarm/);
  });

  it('refuses what a service cannot carry, before the engine is asked', () => {
    const e = runtimeRefusal(
      'web',
      makeConfig({ runtime: 'swarm', proxy: false, ports: [portMapping(8080, 80, '127.0.0.1')] }),
      manager,
    );
    expect(e?.message).toMatch(/A Swarm service cannot carry these settings of web yet: port 127\.0\.0\.1:8080:80/);
    expect(
      runtimeRefusal('web', makeConfig({ runtime: 'swarm', replicas: 3, ports: [portMapping(8080)] }), manager),
    ).toBeNull();
  });
});

describe('runtimeMove and placementOf', () => {
  it('names a move between runtimes, and none when the runtime stays or nothing serves', () => {
    const container = makeDeployment({ runtime: 'container' });
    expect(runtimeMove(container, { runtime: 'swarm' })).toEqual({ from: 'containers', to: 'swarm' });
    expect(runtimeMove({ ...container, runtime: 'service' }, { runtime: 'containers' })).toEqual({
      from: 'swarm',
      to: 'containers',
    });
    expect(runtimeMove(container, { runtime: 'containers' })).toBeNull();
    expect(runtimeMove(null, { runtime: 'swarm' })).toBeNull();
  });

  it('pins the tasks to the building node without a registry; spreads them with one', () => {
    expect(placementOf({ registry: null }, 'node1')).toEqual(['node.id==node1']);
    expect(placementOf({ registry: '10.0.0.1:5000' }, 'node1')).toEqual([]);
  });

  it('without a registry, allows the building node and the nodes the image was loaded into: none of the others', () => {
    const swarm = ['m', 'w1', 'w2', 'w3'];
    expect(placementOf({ registry: null }, 'm', ['w1'], swarm)).toEqual(['node.id!=w2', 'node.id!=w3']);
    expect(placementOf({ registry: null }, 'm', ['w1', 'w2', 'w3'], swarm)).toEqual([]);
    expect(placementOf({ registry: null }, 'm', [], swarm)).toEqual(['node.id==m']);
    expect(placementOf({ registry: 'r:5000' }, 'm', ['w1'], swarm)).toEqual([]);
  });
});

describe("nodeRefusal: an endpoint in an app's nodes that is not a node of the manager's swarm", () => {
  const swarm = [
    { id: 'm', hostname: 'manager' },
    { id: 'w1', hostname: 'worker-1' },
  ];
  it('accepts a node of the swarm', () => {
    expect(nodeRefusal('web', 'ssh://w1', 'ssh://w1', 'w1', swarm, 'ssh://m')).toBeNull();
  });

  it('refuses (exit 8) an engine in no swarm or in another, naming the nodes the swarm has', () => {
    const none = nodeRefusal('web', 'box', 'ssh://box', null, swarm, 'ssh://m');
    expect(none).toMatchObject({
      code: 'config',
      message:
        "web's nodes name box (ssh://box), which is not a node of the swarm ssh://m manages: its engine is in no swarm.",
    });
    expect(none?.hint).toContain('lists manager, worker-1');
    expect(nodeRefusal('web', 'ssh://x', 'ssh://x', 'other', swarm, 'ssh://m')?.message).toMatch(
      /ssh:\/\/x, which is not a node .*: its engine is a node of another swarm\.$/,
    );
  });
});

describe("wantedReplicas: what a start scales a deployment's service to", () => {
  const d = makeDeployment({ config: makeConfig({ runtime: 'swarm', replicas: 3 }) });
  it('is the count deploy scale left, else the recorded replicas, else 1', () => {
    expect(wantedReplicas({ labels: { [LABEL.record]: recordLabel(d) } })).toBe(3);
    expect(wantedReplicas({ labels: { [LABEL.record]: recordLabel(d), [LABEL.replicas]: '5' } })).toBe(5);
    expect(wantedReplicas({ labels: {} })).toBe(1);
    expect(wantedReplicas({ labels: { [LABEL.replicas]: 'zero' } })).toBe(1);
  });
});

describe('hostPortTaskLimit: one task per node for a service publishing its own ports', () => {
  const swarm3 = { state: 'active', manager: true, nodes: 3 };
  const own = (o: Partial<DeployConfig>) =>
    makeConfig({ runtime: 'swarm', proxy: false, ports: [portMapping(8080)], ...o });

  it('refuses more replicas than the nodes that can get the image (the manager alone without a registry)', () => {
    const e = runtimeRefusal('web', own({ replicas: 2 }), swarm3);
    expect(e).toMatchObject({ code: 'config', exitCode: 8 });
    expect(e?.message).toBe(
      'web publishes port 8080 on each node that runs a task (proxy false), so it runs at most one task per node, and only 1 node can run it: 2 replicas would stay pending.',
    );
    expect(e?.hint).toMatch(/front door \(proxy true\), run at most 1, or .*a registry, or more endpoints in nodes/);
    // The manager and the app's nodes (each counted once).
    expect(runtimeRefusal('web', own({ replicas: 2, nodes: ['ssh://w1', 'ssh://w1'] }), swarm3)).toBeNull();
    expect(runtimeRefusal('web', own({ replicas: 3, nodes: ['ssh://w1'] }), swarm3)?.message).toMatch(
      /2 nodes can run it/,
    );
  });

  it('with a registry, every node of the swarm can', () => {
    expect(runtimeRefusal('web', own({ replicas: 3, registry: 'reg:5000' }), swarm3)).toBeNull();
    expect(hostPortTaskLimit('web', own({ registry: 'reg:5000' }), 4, swarm3)?.message).toMatch(
      /3 nodes can run it: 4 replicas/,
    );
  });

  it('leaves apps behind the front door, apps without ports and containers alone', () => {
    expect(hostPortTaskLimit('web', own({ proxy: true }), 5, swarm3)).toBeNull();
    expect(hostPortTaskLimit('web', own({ ports: [] }), 5, swarm3)).toBeNull();
    expect(hostPortTaskLimit('web', own({ runtime: 'containers' }), 5, swarm3)).toBeNull();
  });
});
