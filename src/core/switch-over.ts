import type { SwitchStrategy } from './plan.js';

/**
 * A switch-over as data, decided before anything is done: which steps run, in which order (and which together),
 * and what undoes the switch when a step fails. Published ports today: a new release starts beside the old one
 * (start-first) unless they bind the same host port, when the old one stops first (stop-first). The front door adds
 * a route step: traffic moves only once the new release has passed its gate. One executor carries a plan out
 * (services/traffic/run-switch-over.ts); nothing else decides what runs.
 */
export type SwitchStep =
  /** Stop the release serving now, so that its host ports are free (stop-first only). */
  | 'stop-old'
  /** Create the new release's workload (under a name that says it is unproven). */
  | 'create-new'
  /** Start it and wait for its health gate. */
  | 'gate-new'
  /** Send the app's traffic to it (a front door; published ports route by binding). */
  | 'route-new'
  /** Tell the engine and the store that it serves (its final name, status running, the app's current one). */
  | 'prove-new'
  /** Stop the old one (unless stop-old did), keep its logs, remove it, mark it superseded. */
  | 'retire-old';

/** What undoes a step's effect when a later step fails. */
export type Compensation =
  /** Start again the release stop-old stopped. */
  | 'start-old'
  /** Keep the new release's logs and remove its workload (a creation that reported an error may have made one). */
  | 'remove-new'
  /** Send the app's traffic back to the old release. */
  | 'route-old';

/** What a failure at a step leads to: the compensations that run, in order, then the failure is the command's; or, once the new release serves, only a warning. */
export type OnFailure = Compensation[] | 'warn';

export interface SwitchPlan {
  /** The steps in order; the steps of one stage run together (each stage starts once the one before has ended). */
  stages: SwitchStep[][];
  /** For a failure at each step of the plan: what is undone, newest first, or 'warn'. */
  onFailure: Partial<Record<SwitchStep, OnFailure>>;
}

export interface SwitchOptions {
  strategy: SwitchStrategy;
  /**
   * What the new release replaces: nothing (the app's first), a release that does not serve now (exited, stopped:
   * retired afterwards, never stopped first), or the one serving now.
   */
  replaces: 'nothing' | 'idle' | 'serving';
  /** Traffic is routed by a front door (a route step), not by the ports a container binds. */
  routed?: boolean;
}

const UNDO: Partial<Record<SwitchStep, Compensation>> = {
  'stop-old': 'start-old',
  'create-new': 'remove-new',
  'route-new': 'route-old',
};

/** From this step on the new release serves: a failure is a warning and nothing is undone. */
const SERVES_FROM: SwitchStep = 'retire-old';

/** The switch-over's stages, and what a failure at each step undoes. */
export function switchPlan(o: SwitchOptions): SwitchPlan {
  // Stop-first: the old one stops while the new one is created (creating binds no port).
  const stopFirst = o.replaces === 'serving' && o.strategy === 'stop-first';
  const stages: SwitchStep[][] = [
    stopFirst ? ['stop-old', 'create-new'] : ['create-new'],
    ['gate-new'],
    ...(o.routed ? [['route-new'] as SwitchStep[]] : []),
    ['prove-new'],
    ...(o.replaces !== 'nothing' ? [['retire-old'] as SwitchStep[]] : []),
  ];
  const onFailure: Partial<Record<SwitchStep, OnFailure>> = {};
  stages.forEach((stage, i) => {
    // A step that failed half-way is undone too, and so is every step of its stage (they were all begun).
    const begun = stages.slice(0, i + 1).flat();
    for (const step of stage) onFailure[step] = begun.includes(SERVES_FROM) ? 'warn' : undoing(begun);
  });
  return { stages, onFailure };
}

/** The steps of a plan, in order. */
export function stepsOf(plan: SwitchPlan): SwitchStep[] {
  return plan.stages.flat();
}

function undoing(begun: readonly SwitchStep[]): Compensation[] {
  return [...begun].reverse().flatMap((step) => UNDO[step] ?? []);
}
