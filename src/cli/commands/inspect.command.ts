import { defineCommand } from '../command.js';
import { currentApp } from '../option-groups.js';
import type { OptionsOf } from '../options.js';

const options = { ...currentApp };
export type InspectOptions = OptionsOf<typeof options>;

export const inspect = defineCommand({
  name: 'inspect',
  aliases: ['show'],
  summary: 'everything about one deployment; --json is the exportable record',
  args: [['[id]', 'deployment id (or unique prefix), APP@vN, or an app name (its current deployment)']],
  options,
  load: async () => (await import('./inspect.js')).handler,
});
