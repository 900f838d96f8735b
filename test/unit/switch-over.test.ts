import { describe, expect, it } from 'vitest';
import {
  stepsOf,
  switchPlan,
  type Compensation,
  type SwitchOptions,
  type SwitchStep,
} from '../../src/core/switch-over.js';
import { runSwitchOver } from '../../src/services/traffic/run-switch-over.js';

describe('the switch-over plan of each strategy', () => {
  it("the app's first release: created, gated, proven; a failure before it serves removes it", () => {
    for (const strategy of ['start-first', 'stop-first'] as const) {
      expect(switchPlan({ strategy, replaces: 'nothing' })).toEqual({
        stages: [['create-new'], ['gate-new'], ['prove-new']],
        onFailure: { 'create-new': ['remove-new'], 'gate-new': ['remove-new'], 'prove-new': ['remove-new'] },
      });
    }
  });

  it('start-first: the new release starts beside the old one, which is retired once the new one serves', () => {
    expect(switchPlan({ strategy: 'start-first', replaces: 'serving' })).toEqual({
      stages: [['create-new'], ['gate-new'], ['prove-new'], ['retire-old']],
      onFailure: {
        'create-new': ['remove-new'],
        'gate-new': ['remove-new'],
        'prove-new': ['remove-new'],
        'retire-old': 'warn',
      },
    });
  });

  it('stop-first: the old release stops while the new one is created, and starts again after the new one is removed', () => {
    expect(switchPlan({ strategy: 'stop-first', replaces: 'serving' })).toEqual({
      stages: [['stop-old', 'create-new'], ['gate-new'], ['prove-new'], ['retire-old']],
      onFailure: {
        'stop-old': ['remove-new', 'start-old'],
        'create-new': ['remove-new', 'start-old'],
        'gate-new': ['remove-new', 'start-old'],
        'prove-new': ['remove-new', 'start-old'],
        'retire-old': 'warn',
      },
    });
  });

  it('a release that does not serve now (exited, stopped) is never stopped first, whatever the strategy, and is retired', () => {
    const idle = {
      stages: [['create-new'], ['gate-new'], ['prove-new'], ['retire-old']],
      onFailure: {
        'create-new': ['remove-new'],
        'gate-new': ['remove-new'],
        'prove-new': ['remove-new'],
        'retire-old': 'warn',
      },
    };
    expect(switchPlan({ strategy: 'stop-first', replaces: 'idle' })).toEqual(idle);
    expect(switchPlan({ strategy: 'start-first', replaces: 'idle' })).toEqual(idle);
  });

  it('behind a front door: traffic moves once the new release passed its gate, and moves back when proving it fails', () => {
    expect(switchPlan({ strategy: 'start-first', replaces: 'serving', routed: true })).toEqual({
      stages: [['create-new'], ['gate-new'], ['route-new'], ['prove-new'], ['retire-old']],
      onFailure: {
        'create-new': ['remove-new'],
        'gate-new': ['remove-new'],
        'route-new': ['route-old', 'remove-new'],
        'prove-new': ['route-old', 'remove-new'],
        'retire-old': 'warn',
      },
    });
    expect(switchPlan({ strategy: 'start-first', replaces: 'nothing', routed: true })).toEqual({
      stages: [['create-new'], ['gate-new'], ['route-new'], ['prove-new']],
      onFailure: {
        'create-new': ['remove-new'],
        'gate-new': ['remove-new'],
        'route-new': ['route-old', 'remove-new'],
        'prove-new': ['route-old', 'remove-new'],
      },
    });
  });

  it('lists the steps in order', () => {
    expect(stepsOf(switchPlan({ strategy: 'stop-first', replaces: 'serving' }))).toEqual([
      'stop-old',
      'create-new',
      'gate-new',
      'prove-new',
      'retire-old',
    ]);
  });
});

/** Runs a plan with actions that only note what they did, failing at `failAt`. */
async function run(options: SwitchOptions, failAt: SwitchStep | null): Promise<{ did: string[]; outcome: string }> {
  const did: string[] = [];
  const step = (s: SwitchStep) => async () => {
    did.push(s);
    await Promise.resolve();
    if (s === failAt) throw new Error(`${s} failed`);
  };
  const undo = (c: Compensation) => async () => {
    did.push(`undo:${c}`);
  };
  try {
    await runSwitchOver(switchPlan(options), {
      steps: {
        'stop-old': step('stop-old'),
        'create-new': step('create-new'),
        'gate-new': step('gate-new'),
        'route-new': step('route-new'),
        'prove-new': step('prove-new'),
        'retire-old': step('retire-old'),
      },
      compensations: {
        'start-old': undo('start-old'),
        'remove-new': undo('remove-new'),
        'route-old': undo('route-old'),
      },
      failed: (s) => did.push(`failed:${s}`),
      warn: (s, e) => did.push(`warn:${s}:${(e as Error).message}`),
    });
    return { did, outcome: 'serves' };
  } catch (error) {
    return { did, outcome: (error as Error).message };
  }
}

describe('carrying out a plan: for a failure at each step, the compensations that run, in order', () => {
  it('stop-first', async () => {
    const o = { strategy: 'stop-first', replaces: 'serving' } as const;
    expect(await run(o, null)).toEqual({
      did: ['stop-old', 'create-new', 'gate-new', 'prove-new', 'retire-old'],
      outcome: 'serves',
    });
    // The stage's two steps run together: a failure of either undoes both, the new one removed first (it may hold the port).
    expect(await run(o, 'stop-old')).toEqual({
      did: ['stop-old', 'create-new', 'failed:stop-old', 'undo:remove-new', 'undo:start-old'],
      outcome: 'stop-old failed',
    });
    expect(await run(o, 'create-new')).toEqual({
      did: ['stop-old', 'create-new', 'failed:create-new', 'undo:remove-new', 'undo:start-old'],
      outcome: 'create-new failed',
    });
    expect(await run(o, 'gate-new')).toEqual({
      did: ['stop-old', 'create-new', 'gate-new', 'failed:gate-new', 'undo:remove-new', 'undo:start-old'],
      outcome: 'gate-new failed',
    });
    expect(await run(o, 'prove-new')).toEqual({
      did: ['stop-old', 'create-new', 'gate-new', 'prove-new', 'failed:prove-new', 'undo:remove-new', 'undo:start-old'],
      outcome: 'prove-new failed',
    });
    expect(await run(o, 'retire-old')).toEqual({
      did: ['stop-old', 'create-new', 'gate-new', 'prove-new', 'retire-old', 'warn:retire-old:retire-old failed'],
      outcome: 'serves',
    });
  });

  it('start-first', async () => {
    const o = { strategy: 'start-first', replaces: 'serving' } as const;
    expect(await run(o, null)).toEqual({
      did: ['create-new', 'gate-new', 'prove-new', 'retire-old'],
      outcome: 'serves',
    });
    expect(await run(o, 'create-new')).toEqual({
      did: ['create-new', 'failed:create-new', 'undo:remove-new'],
      outcome: 'create-new failed',
    });
    expect(await run(o, 'gate-new')).toEqual({
      did: ['create-new', 'gate-new', 'failed:gate-new', 'undo:remove-new'],
      outcome: 'gate-new failed',
    });
    expect(await run(o, 'prove-new')).toEqual({
      did: ['create-new', 'gate-new', 'prove-new', 'failed:prove-new', 'undo:remove-new'],
      outcome: 'prove-new failed',
    });
    expect(await run(o, 'retire-old')).toEqual({
      did: ['create-new', 'gate-new', 'prove-new', 'retire-old', 'warn:retire-old:retire-old failed'],
      outcome: 'serves',
    });
  });

  it('the first release', async () => {
    const o = { strategy: 'start-first', replaces: 'nothing' } as const;
    expect(await run(o, null)).toEqual({ did: ['create-new', 'gate-new', 'prove-new'], outcome: 'serves' });
    expect(await run(o, 'gate-new')).toEqual({
      did: ['create-new', 'gate-new', 'failed:gate-new', 'undo:remove-new'],
      outcome: 'gate-new failed',
    });
  });

  it('behind a front door', async () => {
    const o = { strategy: 'start-first', replaces: 'serving', routed: true } as const;
    expect(await run(o, 'route-new')).toEqual({
      did: ['create-new', 'gate-new', 'route-new', 'failed:route-new', 'undo:route-old', 'undo:remove-new'],
      outcome: 'route-new failed',
    });
    expect(await run(o, 'prove-new')).toEqual({
      did: [
        'create-new',
        'gate-new',
        'route-new',
        'prove-new',
        'failed:prove-new',
        'undo:route-old',
        'undo:remove-new',
      ],
      outcome: 'prove-new failed',
    });
  });

  it('on an interruption between stages, fails the next stage before it begins; once the new release serves, finishes', async () => {
    const interruptedAfter = async (options: Parameters<typeof switchPlan>[0], after: string) => {
      const did: string[] = [];
      const step = (s: string) => async () => {
        did.push(s);
      };
      const outcome = await runSwitchOver(switchPlan(options), {
        steps: {
          'stop-old': step('stop-old'),
          'create-new': step('create-new'),
          'gate-new': step('gate-new'),
          'prove-new': step('prove-new'),
          'retire-old': step('retire-old'),
        },
        compensations: { 'start-old': step('undo:start-old'), 'remove-new': step('undo:remove-new') },
        failed: (s) => did.push(`failed:${s}`),
        warn: () => did.push('warn'),
        interrupted: () => (did.includes(after) ? new Error('interrupted') : null),
      }).then(
        () => 'serves',
        (e: Error) => e.message,
      );
      return { did, outcome };
    };
    // Ctrl-C while the old one stops: the new one is never started, the old one starts again.
    expect(await interruptedAfter({ strategy: 'stop-first', replaces: 'serving' }, 'stop-old')).toEqual({
      did: ['stop-old', 'create-new', 'failed:gate-new', 'undo:remove-new', 'undo:start-old'],
      outcome: 'interrupted',
    });
    expect(await interruptedAfter({ strategy: 'start-first', replaces: 'serving' }, 'create-new')).toEqual({
      did: ['create-new', 'failed:gate-new', 'undo:remove-new'],
      outcome: 'interrupted',
    });
    // Proven and serving: the old one is retired as planned.
    expect(await interruptedAfter({ strategy: 'start-first', replaces: 'serving' }, 'prove-new')).toEqual({
      did: ['create-new', 'gate-new', 'prove-new', 'retire-old'],
      outcome: 'serves',
    });
  });

  it('runs every compensation even when one throws, and still throws the failure itself', async () => {
    const did: string[] = [];
    const outcome = await runSwitchOver(switchPlan({ strategy: 'stop-first', replaces: 'serving' }), {
      steps: {
        'stop-old': async () => {},
        'create-new': async () => {},
        'gate-new': () => Promise.reject(new Error('unhealthy')),
        'prove-new': async () => {},
        'retire-old': async () => {},
      },
      compensations: {
        'remove-new': () => Promise.reject(new Error('engine gone')),
        'start-old': async () => {
          did.push('start-old');
        },
      },
      warn: () => did.push('warn'),
    }).catch((e: Error) => e.message);
    expect({ did, outcome }).toEqual({ did: ['start-old'], outcome: 'unhealthy' });
  });

  it('refuses a plan with a step or a compensation the traffic kind cannot carry out, before doing anything', async () => {
    const did: string[] = [];
    const step = async () => {
      did.push('step');
    };
    const routed = switchPlan({ strategy: 'start-first', replaces: 'serving', routed: true });
    await expect(
      runSwitchOver(routed, {
        steps: { 'create-new': step, 'gate-new': step, 'prove-new': step, 'retire-old': step },
        compensations: { 'remove-new': step, 'route-old': step },
        warn: () => {},
      }),
    ).rejects.toThrow('the switch-over has a route-new step, which this traffic kind cannot carry out');
    await expect(
      runSwitchOver(routed, {
        steps: { 'create-new': step, 'gate-new': step, 'route-new': step, 'prove-new': step, 'retire-old': step },
        compensations: { 'remove-new': step },
        warn: () => {},
      }),
    ).rejects.toThrow('the switch-over may need to route-old, which this traffic kind cannot do');
    expect(did).toEqual([]);
  });
});
