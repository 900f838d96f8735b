import { publicPlan, type ActionPlan } from '../core/action-plan.js';
import { DeployError } from '../core/errors.js';
import type { Context } from '../context.js';
import { renderPlan } from './plan-view.js';

export interface ConfirmOptions {
  yes: boolean;
  dryRun: boolean;
}

const VERB: Record<ActionPlan['action'], string> = {
  deploy: 'Deploy',
  redeploy: 'Redeploy',
  rollback: 'Roll back',
  stop: 'Stop',
  start: 'Start',
  restart: 'Restart',
};

function cancelledAtPrompt(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError';
}

/**
 * Where and how a prompt asks: on stderr (stdout is for results), ended by the command's signal (Ctrl-C) or by
 * Esc, and erased when answered, so that what stays on the screen is ours to write: inquirer would leave a
 * green check mark in front of a "No".
 */
function promptContext(ctx: Context, esc: AbortController) {
  return {
    input: ctx.stdin as NodeJS.ReadableStream,
    output: ctx.stderr as NodeJS.WritableStream,
    signal: AbortSignal.any([ctx.signal, esc.signal]),
    clearPromptOnDone: true,
  };
}

/** Runs a prompt with Esc wired to cancel it (readline reports keys as 'keypress' events on the input). */
async function withEsc<T>(ctx: Context, ask: (esc: AbortController) => Promise<T>): Promise<T> {
  const esc = new AbortController();
  const onKey = (_text: unknown, key: { name?: string } | undefined) => {
    if (key?.name === 'escape') esc.abort();
  };
  ctx.stdin.on('keypress', onKey);
  try {
    return await ask(esc);
  } finally {
    ctx.stdin.off('keypress', onKey);
  }
}

/**
 * Asks a yes/no question before something that changes things. `yes` (--yes) answers it; with no terminal to
 * ask on (or in CI) it refuses at once, saying `what` needs an answer, rather than wait for input that never
 * comes. No, Ctrl-C and Esc all cancel (exit 6); the cancellation is then said once, by main.
 */
export async function askYes(
  ctx: Context,
  question: string,
  what: string,
  options: { yes: boolean; hint: string; cancelled: string },
): Promise<void> {
  if (options.yes) return;
  if (!ctx.canPrompt) {
    throw new DeployError(
      'confirmation_required',
      `${what} asks for confirmation, and there is no terminal to ask on${ctx.isCI ? ' (CI)' : ''}.`,
      { hint: options.hint },
    );
  }
  const { confirm } = await import('@inquirer/prompts');
  let answer = false;
  try {
    answer = await withEsc(ctx, (esc) => confirm({ message: question, default: false }, promptContext(ctx, esc)));
    // The answer stays on the screen; a check mark only where something will be done.
    const c = ctx.reporter.colors;
    ctx.stderr.write(answer ? `${c.green('✔')} ${question} ${c.cyan('Yes')}\n` : `${question} No\n`);
  } catch (error) {
    if (!cancelledAtPrompt(error)) throw error;
  }
  if (!answer) throw new DeployError('cancelled', options.cancelled);
}

/** Asks for a value without echoing it (a secret); Ctrl-C and Esc cancel (exit 6). */
export async function askSecret(ctx: Context, message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  try {
    return await withEsc(ctx, (esc) =>
      password({ message, mask: '*' }, { ...promptContext(ctx, esc), clearPromptOnDone: false }),
    );
  } catch (error) {
    if (cancelledAtPrompt(error)) throw new DeployError('cancelled', 'Cancelled; nothing was changed.');
    throw error;
  }
}

/** The columns of a terminal to wrap to; none (no wrapping) when the stream is not a terminal. */
function widthOf(stream: { isTTY?: boolean; columns?: number }): number {
  return (stream.isTTY && stream.columns) || Infinity;
}

/** --dry-run: the plan on stdout (one JSON document with --json), and nothing changed. */
export function showDryRun(ctx: Context, plan: ActionPlan): void {
  const r = ctx.reporter;
  if (r.json) r.result({ dryRun: true, plan: publicPlan(plan) });
  else r.print(`${renderPlan(plan, r.colors, widthOf(ctx.stdout))}\n${r.colors.dim('Dry run: nothing was changed.')}`);
}

/**
 * Shows the plan and asks before acting. --yes answers yes; --dry-run prints the plan (stdout) and stops.
 * Returns false when the caller should stop (dry run).
 */
export async function confirmPlan(ctx: Context, plan: ActionPlan, options: ConfirmOptions): Promise<boolean> {
  const r = ctx.reporter;
  if (options.dryRun) {
    showDryRun(ctx, plan);
    return false;
  }
  r.info(renderPlan(plan, r.colors, widthOf(ctx.stderr)));
  await askYes(ctx, `${VERB[plan.action]} ${plan.app} now?`, `"${VERB[plan.action]} ${plan.app}"`, {
    yes: options.yes,
    hint: 'Pass --yes to go ahead, or --dry-run to see the plan only.',
    cancelled: 'Cancelled; nothing was changed.',
  });
  return true;
}
