import { deploymentArg } from '../arguments.js';
import { defineCommand } from '../command.js';
import { currentApp } from '../option-groups.js';
import { flag, value, type OptionsOf } from '../options.js';

const options = {
  ...currentApp,
  follow: flag('-f, --follow', 'keep printing new lines until the container stops (a service: is gone) or Ctrl-C'),
  tail: value('-n, --tail <n>', 'the last N lines ("all" for everything)', '100'),
  since: value('--since <when>', 'only lines since a duration ago (10m, 2h) or an ISO date'),
  timestamps: flag('-t, --timestamps', 'prefix each line with its time'),
  build: flag('--build', 'the build output kept with the record'),
};
export type LogsOptions = OptionsOf<typeof options>;

export const logs = defineCommand({
  name: 'logs',
  summary: "a deployment's container logs, or its build output (--build); kept after its container is gone",
  args: [deploymentArg('[id|app]')],
  options,
  help:
    "The container's stdout goes to stdout and its stderr to stderr; --json prints one {timestamp, stream, message} " +
    'per line. A Swarm service: every task, each line prefixed TASK@NODE as the docker CLI does (in --json, task ' +
    'and node).',
  examples: ['deploy logs web -f', 'deploy logs k7m2x9qa --build', 'deploy logs web@v7 --since 1h --json'],
  load: async () => (await import('./logs.js')).handler,
});
