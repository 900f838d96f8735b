import { defineCommand } from '../command.js';
import { onlyApp } from '../option-groups.js';
import type { OptionsOf } from '../options.js';

const options = {
  ...onlyApp,
};
export type StatusOptions = OptionsOf<typeof options>;

export const status = defineCommand({
  name: 'status',
  aliases: ['ps'],
  summary: 'what each app runs now: its current deployment, container state, health, uptime, restarts, URL',
  description:
    "The live view (heroku ps, fly status, docker ps): each app's current deployment (or APP's) and what its\n" +
    'engine says of its container now. A container that exited, crashed or was stopped outside deploy is\n' +
    'recorded `exited` with its exit code. When an engine does not answer in time, its apps are shown as the\n' +
    'store has them, and the command says so on stderr.',
  args: [['[app]', 'only this app']],
  options,
  examples: ['deploy status', 'deploy status web --json'],
  load: async () => (await import('./status.js')).handler,
});
