import { deploymentArg } from '../arguments.js';
import { defineCommand } from '../command.js';
import { currentApp, asking } from '../option-groups.js';
import { value, type OptionsOf } from '../options.js';

/** stop, start and restart take the same arguments and options; stop also --pause. */
const options = { ...currentApp, ...asking };
const stopOptions = {
  ...options,
  pause: value(
    '--pause <duration>',
    'behind the front door: hold new requests up to DURATION for a start to serve, instead of answering 503',
  ),
};
export type LifecycleOptions = OptionsOf<typeof options> & Partial<OptionsOf<typeof stopOptions>>;

function lifecycleCommand(name: 'stop' | 'start' | 'restart', summary: string) {
  return defineCommand({
    name,
    summary,
    args: [deploymentArg('[id|app]')],
    options: name === 'stop' ? stopOptions : options,
    load: async () => (await import('./lifecycle.js'))[name],
  });
}

export const stop = lifecycleCommand('stop', "stop a deployment's container (deploy start resumes it)");
export const start = lifecycleCommand('start', 'start a stopped deployment again, without rebuilding');
export const restart = lifecycleCommand('restart', 'restart the current deployment in place, without rebuilding');
