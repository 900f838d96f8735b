import { defineCommand } from '../command.js';
import { appOption, asking } from '../option-groups.js';
import { flag, type OptionsOf } from '../options.js';

const options = {
  ...appOption('the app to destroy'),
  forget: flag('--forget', 'also delete its deployment records, their events and kept logs from the store'),
  volumes: flag('--volumes', "also remove the app's volumes, and the data in them (the confirmation names them)"),
  ...asking,
};
export type DestroyOptions = OptionsOf<typeof options>;

export const destroy = defineCommand({
  name: 'destroy',
  summary: 'tear an app down: its containers, images, lock and stored settings (records stay unless --forget)',
  description:
    'Removes everything of APP on its engine — its containers, its images, its lock — and its stored settings\n' +
    '(env vars and secrets), after a confirmation that lists them. Its deployment records stay as history\n' +
    'unless --forget. Refused (exit 14) while another command holds its lock. Its volumes (and their data) stay\n' +
    'unless --volumes; host paths of bind mounts are never touched.',
  args: [['[app]', 'the app to destroy']],
  options,
  examples: [
    'deploy destroy web --dry-run',
    'deploy destroy web --yes --json',
    'deploy destroy --app web --forget --yes',
  ],
  load: async () => (await import('./destroy.js')).handler,
});
