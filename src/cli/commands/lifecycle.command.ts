import { defineCommand } from '../command.js';
import { appOption, asking } from '../option-groups.js';
import type { OptionsOf } from '../options.js';

/** stop, start and restart take the same arguments and options. */
const options = { ...appOption, ...asking };
export type LifecycleOptions = OptionsOf<typeof options>;

const target: [string, string] = ['[id|app]', 'deployment id, APP@vN, or an app name (its current deployment)'];

function lifecycleCommand(name: 'stop' | 'start' | 'restart', summary: string) {
  return defineCommand({
    name,
    summary,
    args: [target],
    options,
    load: async () => (await import('./lifecycle.js'))[name],
  });
}

export const stop = lifecycleCommand('stop', "stop a deployment's container (deploy start resumes it)");
export const start = lifecycleCommand('start', 'start a stopped deployment again, without rebuilding');
export const restart = lifecycleCommand('restart', 'restart the current deployment in place, without rebuilding');
