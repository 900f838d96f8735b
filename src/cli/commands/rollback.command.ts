import { defineCommand } from '../command.js';
import { appOption, asking } from '../option-groups.js';
import { flag, value, type OptionsOf } from '../options.js';

const options = {
  ...appOption('the app'),
  to: value(
    '--to <id|app@vN|git-ref>',
    'the deployment to go back to (a tag, branch or commit finds its newest successful deployment)',
  ),
  steps: value('--steps <n>', 'go N successful deployments back (default 1)'),
  rebuild: flag('--rebuild', "build the target's image again from its commit if it is gone"),
  ...asking,
};
export type RollbackOptions = OptionsOf<typeof options>;

export const rollback = defineCommand({
  name: 'rollback',
  summary: 'go back to an earlier known-good release: its exact image and configuration',
  description:
    'Ship an earlier successful deployment again, exactly (its image and its configuration snapshot), as a new\n' +
    'deployment. The default target is the newest successful deployment older than the current one.\n' +
    'Rolling back to what is already running does nothing and exits 0.',
  args: [['[app|id]', 'the app (default: the one of the current directory), or the deployment to go back to']],
  options,
  examples: [
    'deploy rollback web',
    'deploy rollback web --to web@v7',
    'deploy rollback --app web --steps 2 --yes --json     # in CI',
  ],
  load: async () => (await import('./rollback.js')).handler,
});
