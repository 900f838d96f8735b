import { DeployError } from '../core/errors.js';
import type { Context } from '../context.js';
import { deploymentByRef } from './deployment-ref.js';
import { appFromDirectory } from './source.js';

/**
 * What a command acting on an app was pointed at: the positional id or app, else --app (its current
 * deployment), else the app of the repository it runs in. Both a deployment and --app must agree.
 */
export async function chosenRef(
  ctx: Context,
  positional: string | undefined,
  appOption: unknown,
  command: string,
): Promise<string> {
  const app = typeof appOption === 'string' ? appOption : undefined;
  if (positional !== undefined && app !== undefined && positional !== app) {
    const d = deploymentByRef(ctx, positional, { allowApp: true });
    if (d.app !== app)
      throw new DeployError('usage', `${positional} is a deployment of ${d.app}, not of ${app}.`, {
        hint: `Give one of them: deploy ${command} ${positional}`,
      });
  }
  const ref = positional ?? app ?? (await appFromDirectory(ctx)) ?? undefined;
  if (ref === undefined) {
    throw new DeployError(
      'usage',
      `Which app? Give a deployment or app (deploy ${command} APP), --app APP, or run this inside the app's repository.`,
    );
  }
  return ref;
}
