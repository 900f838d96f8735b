import { deploymentArg } from '../arguments.js';
import { defineCommand } from '../command.js';
import { currentApp, asking, oneOff } from '../option-groups.js';
import { flag, negated, type OptionsOf } from '../options.js';

const options = {
  ...currentApp,
  ...oneOff,
  cache: negated('--no-cache', 'build again from the commit without the layer cache'),
  pull: flag('--pull', 'pull a newer base image while building (needs a registry)'),
  ...asking,
};
export type RedeployOptions = OptionsOf<typeof options>;

export const redeploy = defineCommand({
  name: 'redeploy',
  summary: "ship a deployment's commit again, with its settings and the app's current env vars",
  description:
    "Ship ID's commit again as a new deployment, with ID's own settings (its ports, health check, restart policy and " +
    "the one-off flags it was deployed with) and the app's env vars, secrets and `config set` values as they are now. " +
    "ID's image is reused when the engine still has it (no build); otherwise, or with --no-cache, it is built again " +
    'from the commit. Shows the plan against what serves now, then asks. Flags such as --port or --env change this redeploy only.',
  args: [deploymentArg('[id]')],
  options,
  examples: [
    'deploy redeploy k7m2x9qa --no-cache',
    'deploy redeploy web@v12 --yes --json',
    'deploy redeploy --app web -e LOG_LEVEL=debug',
  ],
  load: async () => (await import('./redeploy.js')).handler,
});
