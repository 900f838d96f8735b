import { defineCommand } from '../command.js';
import { appOption, asking } from '../option-groups.js';
import type { OptionsOf } from '../options.js';

/** stop, start and restart take the same arguments and options. */
const options = { ...appOption, ...asking };
export type LifecycleOptions = OptionsOf<typeof options>;

const target: [string, string] = ['[id|app]', 'deployment id, APP@vN, or an app name (its current deployment)'];

export const stop = defineCommand({
  name: 'stop',
  summary: "stop a deployment's container (deploy start resumes it)",
  args: [target],
  options,
  load: async () => (await import('./lifecycle.js')).stop,
});

export const start = defineCommand({
  name: 'start',
  summary: 'start a stopped deployment again, without rebuilding',
  args: [target],
  options,
  load: async () => (await import('./lifecycle.js')).start,
});

export const restart = defineCommand({
  name: 'restart',
  summary: 'restart the current deployment in place, without rebuilding',
  args: [target],
  options,
  load: async () => (await import('./lifecycle.js')).restart,
});
