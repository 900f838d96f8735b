import { publicPlan, type ActionPlan } from '../core/action-plan.js';
import { DeployError } from '../core/errors.js';
import type { Context } from '../context.js';
import { renderPlan } from './plan-view.js';

export interface ConfirmOptions {
  yes: boolean;
  dryRun: boolean;
}

const VERB: Record<ActionPlan['action'], string> = {
  redeploy: 'Redeploy',
  rollback: 'Roll back',
  stop: 'Stop',
  start: 'Start',
  restart: 'Restart',
};

/**
 * Shows the plan and asks before acting. --yes answers yes; --dry-run prints the plan (stdout) and stops;
 * with no terminal to ask on (or in CI) and no --yes it refuses at once rather than wait for input.
 * Returns false when the caller should stop (dry run).
 */
export async function confirmPlan(ctx: Context, plan: ActionPlan, options: ConfirmOptions): Promise<boolean> {
  const r = ctx.reporter;
  if (options.dryRun) {
    if (r.json) r.result({ dryRun: true, plan: publicPlan(plan) });
    else r.print(`${renderPlan(plan, r.colors)}\n${r.colors.dim('Dry run: nothing was changed.')}`);
    return false;
  }
  r.info(renderPlan(plan, r.colors));
  if (options.yes) return true;
  if (!ctx.canPrompt) {
    throw new DeployError('confirmation_required', `"${VERB[plan.action]} ${plan.app}" asks for confirmation, and there is no terminal to ask on${ctx.isCI ? ' (CI)' : ''}.`, {
      hint: 'Pass --yes to go ahead, or --dry-run to see the plan only.',
    });
  }
  const { confirm } = await import('@inquirer/prompts');
  let answer: boolean;
  try {
    answer = await confirm(
      { message: `${VERB[plan.action]} ${plan.app} now?`, default: false },
      { input: ctx.stdin as NodeJS.ReadableStream, output: ctx.stderr as NodeJS.WritableStream, signal: ctx.signal },
    );
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError' || (error as Error).name === 'AbortPromptError') answer = false;
    else throw error;
  }
  if (!answer) throw new DeployError('cancelled', 'Cancelled; nothing was changed.');
  return true;
}
