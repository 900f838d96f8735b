import type { ArgumentSpec } from './command.js';

/**
 * The deployment a command acts on, as inspect, redeploy, logs, stop, start and restart all resolve it
 * (services/deployment-ref.ts, an app name standing for its current deployment): one wording in every --help.
 * The name is each command's own (inspect and redeploy say `[id]`), as the list of commands shows it.
 */
export const deploymentArg = (name: '[id]' | '[id|app]'): ArgumentSpec => [
  name,
  'deployment id (or unique prefix), APP@vN, or an app name (its current deployment)',
];
