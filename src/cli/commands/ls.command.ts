import { defineCommand } from '../command.js';
import { onlyApp } from '../option-groups.js';
import { flag, list, value, type OptionsOf } from '../options.js';

const options = {
  ...onlyApp,
  status: list('-s, --status <status>', 'only this status (repeatable): running, stopped, failed, superseded, ...'),
  failed: flag('--failed', 'only failed (and interrupted) deployments'),
  since: value('--since <when>', 'only those created since a duration ago (24h, 7d) or an ISO date'),
  limit: value('-n, --limit <n>', 'show the newest N (default 20)'),
  all: flag('--all', 'show every deployment'),
};
export type LsOptions = OptionsOf<typeof options>;

export const ls = defineCommand({
  name: 'ls',
  aliases: ['list'],
  summary: 'list deployments, newest first',
  options,
  help: 'Under the table: how many are shown of how many match, and how many are running, stopped and failed.',
  examples: [
    'deploy ls --status running        # what is online',
    'deploy ls --status stopped        # what is paused',
    'deploy ls --app web --failed --since 7d',
    "deploy ls --json | jq '.[0].id'",
  ],
  load: async () => (await import('./ls.js')).handler,
});
