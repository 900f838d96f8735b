import { defineCommand } from '../command.js';
import { flag, value, type OptionsOf } from '../options.js';

const options = {
  app: value(
    '-a, --app <name>',
    'only this app (default: every app this store deployed itself, not apps only synced in)',
  ),
  keep: value('--keep <n>', "rollback targets to keep besides what runs (default: the app's retention, 5)"),
  dryRun: flag('--dry-run', 'list what would go, remove nothing'),
  yes: flag('-y, --yes', 'do not ask'),
};
export type PruneOptions = OptionsOf<typeof options>;

export const prune = defineCommand({
  name: 'prune',
  summary: "remove an app's old images, keeping what runs and the last N successful releases",
  options,
  load: async () => (await import('./prune.js')).handler,
});
