import { defineCommand } from '../command.js';
import { appOption, dryRunOption, yesOption } from '../option-groups.js';
import { value, type OptionsOf } from '../options.js';

const options = {
  ...appOption('only this app (default: every app this store deployed itself, not apps only synced in)'),
  keep: value('--keep <n>', "rollback targets to keep besides what runs (default: the app's retention, 5)"),
  ...dryRunOption('list what would go, remove nothing'),
  ...yesOption(),
};
export type PruneOptions = OptionsOf<typeof options>;

export const prune = defineCommand({
  name: 'prune',
  summary: "remove an app's old images, keeping what runs and the last N successful releases",
  options,
  load: async () => (await import('./prune.js')).handler,
});
