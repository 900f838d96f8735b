import { defineCommand } from '../command.js';
import { appOption, dryRunOption, neverAsks } from '../option-groups.js';
import { flag, type OptionsOf } from '../options.js';

const options = {
  ...appOption('only this app (brought in even if this store does not know it yet)'),
  all: flag('--all', 'adopt every app on the engine, not only those this store knows, and list what was adopted'),
  ...neverAsks('sync'),
  ...dryRunOption('say what would be added and corrected; change nothing'),
};
export type SyncOptions = OptionsOf<typeof options>;

export const sync = defineCommand({
  name: 'sync',
  summary: 'bring the store in line with what an engine holds (deployments made elsewhere, real statuses)',
  description:
    'Reads the record labels of the containers and images on the engine (--context/--host, or the usual choice)\n' +
    'and adds the deployments this store does not know (made on another machine or CI runner), and corrects\n' +
    "the statuses of this store's deployments from the real container states. A CI runner that starts with an\n" +
    'empty store can sync, then roll back.',
  options,
  load: async () => (await import('./sync.js')).handler,
});
