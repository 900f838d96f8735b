import { defineCommand } from '../command.js';
import { onlyApp } from '../option-groups.js';
import { flag, value, type OptionsOf } from '../options.js';

const options = {
  ...onlyApp,
  since: value('--since <when>', 'the window: a duration back from now (30d, 12h) or an ISO date', '30d'),
  now: flag(
    '--now',
    "instead: the CPU, memory and network each running release's containers (a Swarm service's tasks) use now",
  ),
};
export type StatsOptions = OptionsOf<typeof options>;

export const stats = defineCommand({
  name: 'stats',
  summary: 'counts, durations and delivery metrics, with a chart of deployments per day',
  options,
  load: async () => (await import('./stats.js')).handler,
});
