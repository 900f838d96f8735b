import { defineCommand } from '../command.js';
import { neverAsks } from '../option-groups.js';
import type { OptionsOf } from '../options.js';

const options = { ...neverAsks('scale') };
export type ScaleOptions = OptionsOf<typeof options>;

export const scale = defineCommand({
  name: 'scale',
  summary: "set how many tasks an app's Swarm service runs (runtime swarm)",
  description:
    "Set the number of tasks the app's current release runs, as a Swarm service update, and wait until that\n" +
    'many run. The count is recorded with the release: stop and start come back to it, and a redeploy keeps it.\n' +
    'Only an app that runs on a swarm (runtime swarm) scales; a stopped one keeps the count for its next start.',
  args: [
    ['<app>', 'the app (its current deployment)'],
    ['<replicas>', 'how many tasks to run (1 to 1000)'],
  ],
  options,
  examples: ['deploy scale web 3', 'deploy scale web 1 --json'],
  load: async () => (await import('./scale.js')).handler,
});
