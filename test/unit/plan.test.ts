import { describe, expect, it } from 'vitest';
import { planSwitch } from '../../src/core/plan.js';
import type { PortMapping } from '../../src/core/types.js';
import { makeConfig, makeDeployment, portMapping as mapping } from '../helpers/unit.js';

const serving = (ports: PortMapping[]) => makeDeployment({ status: 'running', config: makeConfig({ ports }) });

describe('planSwitch', () => {
  it('starts first and replaces nothing when nothing serves', () => {
    expect(planSwitch(null, [mapping(8080)])).toEqual({ strategy: 'start-first', replaces: null });
    expect(planSwitch(null, [])).toEqual({ strategy: 'start-first', replaces: null });
  });

  it('starts the new container first when no host port is shared', () => {
    const current = serving([mapping(8080)]);
    const plan = planSwitch(current, [mapping(8081)]);
    expect(plan).toEqual({ strategy: 'start-first', replaces: current });
    expect(plan.replaces).toBe(current);
  });

  it('starts first when either side publishes no port', () => {
    expect(planSwitch(serving([]), [mapping(8080)]).strategy).toBe('start-first');
    expect(planSwitch(serving([mapping(8080)]), []).strategy).toBe('start-first');
    expect(planSwitch(serving([]), []).strategy).toBe('start-first');
  });

  it('stops the old container first when they would bind the same host port', () => {
    const current = serving([mapping(8080, 80)]);
    const plan = planSwitch(current, [mapping(8080, 3000)]);
    expect(plan).toEqual({ strategy: 'stop-first', replaces: current });
    expect(plan.replaces).toBe(current);
  });

  it('stops first when any one of several ports is shared', () => {
    const current = serving([mapping(80), mapping(443)]);
    expect(planSwitch(current, [mapping(8443), mapping(443, 8443)]).strategy).toBe('stop-first');
  });

  it('stops first when a wildcard address overlaps a specific one', () => {
    expect(planSwitch(serving([mapping(8080, 80, '127.0.0.1')]), [mapping(8080, 80, '0.0.0.0')]).strategy).toBe(
      'stop-first',
    );
  });

  it('starts first when the same port is on a different protocol or a different address', () => {
    expect(planSwitch(serving([mapping(53, 53, '', 'udp')]), [mapping(53, 53, '', 'tcp')]).strategy).toBe(
      'start-first',
    );
    expect(planSwitch(serving([mapping(8080, 80, '127.0.0.1')]), [mapping(8080, 80, '127.0.0.2')]).strategy).toBe(
      'start-first',
    );
  });
});
