import { DeployError } from '../core/errors.js';
import { MIN_PREFIX, parseDeploymentRef } from '../core/ids.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { currentDeployment } from './current.js';

function describe(d: Deployment): string {
  return `${d.id}  ${d.app}@v${d.version}  ${d.status}  ${new Date(d.createdAt).toISOString().slice(0, 16).replace('T', ' ')}`;
}

/**
 * Finds the deployment a user means by `APP@vN`, an id, a unique id prefix, or (when allowed) an app name,
 * which means the app's current deployment. Exact matches win over prefixes; an ambiguous prefix lists
 * the candidates.
 */
export function deploymentByRef(ctx: Context, input: string, options: { allowApp?: boolean } = {}): Deployment {
  const store = ctx.store();
  const ref = parseDeploymentRef(input);
  if (ref.type === 'version') {
    const d = store.getByVersion(ref.app, ref.version);
    if (d) return d;
    const known = store.getApp(ref.app);
    throw new DeployError(
      'not_found',
      known ? `${ref.app} has no v${ref.version}.` : `There is no app named ${ref.app}.`,
      {
        hint: `List its deployments: deploy ls${known ? ` --app ${ref.app}` : ''}`,
      },
    );
  }
  const word = ref.word;
  const exact = store.getDeployment(word);
  if (exact) return exact;
  if (options.allowApp && store.getApp(word)) {
    const current = currentDeployment(ctx, word) ?? store.list({ app: word, limit: 1 })[0];
    if (current) return current;
    throw new DeployError('not_found', `The app ${word} has no deployments yet.`, {
      hint: `Deploy it first: deploy deploy --app ${word}`,
    });
  }
  if (word.length >= MIN_PREFIX && /^[a-z2-9]+$/.test(word)) {
    const matches = store.findByIdPrefix(word, 11);
    if (matches.length === 1) return matches[0] as Deployment;
    if (matches.length > 1) {
      const shown = matches.slice(0, 10);
      throw new DeployError(
        'ambiguous',
        `${JSON.stringify(word)} matches ${matches.length > 10 ? 'more than 10' : matches.length} deployments:\n${shown.map((d) => `  ${describe(d)}`).join('\n')}`,
        {
          hint: 'Give more characters of the id, or write APP@vN.',
          details: { candidates: shown.map((d) => ({ id: d.id, app: d.app, version: d.version, status: d.status })) },
        },
      );
    }
  }
  throw new DeployError(
    'not_found',
    `No deployment${options.allowApp ? ' or app' : ''} matches ${JSON.stringify(word)}.`,
    {
      hint:
        word.length < MIN_PREFIX
          ? `Give at least ${MIN_PREFIX} characters of an id.`
          : 'List deployments with: deploy ls',
    },
  );
}
