import type { SwitchStrategy } from './plan.js';

/**
 * A switch-over as steps, decided before anything is done: what runs, in which order, and what undoes each step
 * when a later one fails. Published ports today: a new release starts beside the old one (start-first) unless
 * they bind the same host port, when the old one stops first (stop-first). The front door adds a route step:
 * traffic moves only once the new release has passed its gate.
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
  /** Stop the old one (after its in-flight requests drained), keep its logs, remove it, mark it superseded. */
  | 'retire-old';

/** What undoes a step's effect when a later step fails. */
export type Compensation = 'start-old' | 'remove-new' | 'route-old';

const UNDO: Partial<Record<SwitchStep, Compensation>> = {
  'stop-old': 'start-old',
  'create-new': 'remove-new',
  'route-new': 'route-old',
};

export interface SwitchOptions {
  strategy: SwitchStrategy;
  /** Something serves now, which the new release replaces. */
  replacing: boolean;
  /** Traffic is routed by a front door (a route step), not by the ports a container binds. */
  routed?: boolean;
}

/** The steps of a switch-over, in order. */
export function switchSteps(o: SwitchOptions): SwitchStep[] {
  const stopFirst = o.replacing && o.strategy === 'stop-first';
  return [
    ...(stopFirst ? (['stop-old'] as const) : []),
    'create-new',
    'gate-new',
    ...(o.routed ? (['route-new'] as const) : []),
    'prove-new',
    ...(o.replacing ? (['retire-old'] as const) : []),
  ];
}

/**
 * What to undo, in order, when the switch fails at `failed` after `begun` steps had been started (a step that
 * failed half-way is undone too: a created workload whose creation reported an error may exist). Nothing is
 * undone once the new release is proven: from then on it serves, and a failure to retire the old one is a warning.
 */
export function compensations(begun: readonly SwitchStep[]): Compensation[] {
  // Retiring begins only once the new release is proven: from there on nothing is undone. A prove that failed
  // (the engine or the store refused) is undone like the steps before it.
  if (begun.includes('retire-old')) return [];
  const out: Compensation[] = [];
  for (const step of [...begun].reverse()) {
    const undo = UNDO[step];
    if (undo) out.push(undo);
  }
  return out;
}
