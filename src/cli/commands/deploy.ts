import { DeployError } from '../../core/errors.js';
import { publicRecord } from '../../core/record-view.js';
import type { Handler } from '../handler.js';
import type { DeployOptions } from './deploy.command.js';
import { deploy } from '../../services/deploy.js';
import { oneOffOptions } from './one-off.js';
import { renderOutcome } from '../../ui/outcome.js';
import { showDryRun } from '../../ui/confirm.js';

/** Longer than any branch, tag or commit name a repository can hold in practice (a path component is at most 255 bytes). */
const MAX_REF_LENGTH = 1000;

export const handler: Handler<DeployOptions> = async (ctx, [source], o) => {
  const ref = o.ref;
  if (ref !== undefined && ref.length > MAX_REF_LENGTH) {
    throw new DeployError(
      'usage',
      `--ref is ${ref.length} characters long; no branch, tag or commit name is that long.`,
      {
        hint: 'Give a branch, tag or commit that exists (git branch -a, git tag, git log).',
      },
    );
  }
  const outcome = await deploy(ctx, {
    source,
    app: o.app,
    ref,
    allowDirty: Boolean(o.allowDirty),
    ...oneOffOptions(o),
    noCache: o.cache === false,
    pull: Boolean(o.pull),
    dryRun: Boolean(o.dryRun),
    yes: Boolean(o.yes),
  });
  if (outcome.plan) {
    showDryRun(ctx, outcome.plan);
    return;
  }
  if (ctx.reporter.json) ctx.reporter.result(publicRecord(outcome.deployment));
  else ctx.reporter.print(renderOutcome(ctx, outcome.deployment));
};
