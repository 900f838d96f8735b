import { describe, expect, it } from 'vitest';
import { compensations, switchSteps } from '../../src/core/switch-over.js';

describe('switch-over steps', () => {
  it('starts the new release beside the old one, or stops the old one first when they share a host port', () => {
    expect(switchSteps({ strategy: 'start-first', replacing: true })).toEqual(['create-new', 'gate-new', 'prove-new', 'retire-old']);
    expect(switchSteps({ strategy: 'stop-first', replacing: true })).toEqual(['stop-old', 'create-new', 'gate-new', 'prove-new', 'retire-old']);
    expect(switchSteps({ strategy: 'stop-first', replacing: false })).toEqual(['create-new', 'gate-new', 'prove-new']);
    expect(switchSteps({ strategy: 'start-first', replacing: true, routed: true })).toEqual(['create-new', 'gate-new', 'route-new', 'prove-new', 'retire-old']);
  });

  it('undoes what was begun, newest first, and nothing once the old release is being retired', () => {
    expect(compensations(['stop-old'])).toEqual(['start-old']);
    expect(compensations(['stop-old', 'create-new', 'gate-new'])).toEqual(['remove-new', 'start-old']);
    expect(compensations(['create-new', 'gate-new', 'route-new', 'prove-new'])).toEqual(['route-old', 'remove-new']);
    expect(compensations(['create-new'])).toEqual(['remove-new']);
    expect(compensations(['create-new', 'gate-new', 'prove-new', 'retire-old'])).toEqual([]);
    expect(compensations([])).toEqual([]);
  });
});
