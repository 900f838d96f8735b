import { deploymentArg } from '../arguments.js';
import { defineCommand } from '../command.js';
import { currentApp } from '../option-groups.js';
import type { OptionsOf } from '../options.js';

const options = { ...currentApp };
export type InspectOptions = OptionsOf<typeof options>;

export const inspect = defineCommand({
  name: 'inspect',
  aliases: ['show'],
  summary: 'everything about one deployment; --json is the exportable record',
  args: [deploymentArg('[id]')],
  options,
  load: async () => (await import('./inspect.js')).handler,
});
