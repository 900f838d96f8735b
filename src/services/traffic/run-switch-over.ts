import { stepsOf, type Compensation, type SwitchPlan, type SwitchStep } from '../../core/switch-over.js';

/** How a traffic kind carries out each step and each compensation a plan may name. */
export interface SwitchActions {
  steps: Partial<Record<SwitchStep, () => Promise<unknown>>>;
  compensations: Partial<Record<Compensation, () => Promise<void>>>;
  /** Told once a step failed, before its compensations run. */
  failed?: (step: SwitchStep, error: unknown) => void;
  /** A step failed after the new release began to serve: the switch stands, and this says so. */
  warn: (step: SwitchStep, error: unknown) => void;
  /**
   * Asked before each stage after the first: the error to stop with when the command was interrupted (Ctrl-C), else
   * null. An interruption between stages is then a failure of the next stage before it began: its compensations
   * run at once, rather than after a start and a health wait that would only be undone.
   */
  interrupted?: () => unknown;
}

/**
 * Carries out a switch-over plan: each stage's steps together, stage after stage. When a step fails, the plan's
 * compensations for it run in order (each best effort: one that throws does not stop the next, nor hide the
 * failure), then the failure is thrown; a failure the plan says only warns is told to `warn`, and the switch goes on.
 * An interruption seen between stages fails the next stage before it begins (see `interrupted`); once the new
 * release serves, the switch is finished instead.
 */
export async function runSwitchOver(plan: SwitchPlan, actions: SwitchActions): Promise<void> {
  // A plan that names what this traffic kind cannot do is a bug: said before anything is done.
  const missingStep = stepsOf(plan).find((s) => !actions.steps[s]);
  if (missingStep)
    throw new Error(`the switch-over has a ${missingStep} step, which this traffic kind cannot carry out`);
  const undoes = Object.values(plan.onFailure).flatMap((f) => (f === 'warn' ? [] : f));
  const missingUndo = undoes.find((c) => !actions.compensations[c]);
  if (missingUndo) throw new Error(`the switch-over may need to ${missingUndo}, which this traffic kind cannot do`);

  for (const [n, stage] of plan.stages.entries()) {
    const stop = n > 0 ? actions.interrupted?.() : null;
    const next = stage[0] as SwitchStep;
    const undoFirst = plan.onFailure[next] ?? [];
    if (stop && undoFirst !== 'warn') {
      actions.failed?.(next, stop);
      for (const c of undoFirst) await (actions.compensations[c] as () => Promise<void>)().catch(() => undefined);
      throw stop;
    }
    const settled = await Promise.allSettled(stage.map((step) => (actions.steps[step] as () => Promise<unknown>)()));
    const i = settled.findIndex((s) => s.status === 'rejected');
    if (i < 0) continue;
    const step = stage[i] as SwitchStep;
    const error = (settled[i] as PromiseRejectedResult).reason;
    const onFailure = plan.onFailure[step] ?? [];
    if (onFailure === 'warn') {
      actions.warn(step, error);
      continue;
    }
    actions.failed?.(step, error);
    for (const c of onFailure) await (actions.compensations[c] as () => Promise<void>)().catch(() => undefined);
    throw error;
  }
}
