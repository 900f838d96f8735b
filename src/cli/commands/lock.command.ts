import { defineCommand, defineGroup } from '../command.js';
import { dryRunOption, yesOption } from '../option-groups.js';
import { flag, type OptionsOf } from '../options.js';

const releaseOptions = {
  ...yesOption(),
  ...dryRunOption('say whose lock would be released, and release nothing'),
  force: flag(
    '--force',
    'release it even though its holder is alive on this machine (that deploy then runs unprotected)',
  ),
};
export type LockReleaseOptions = OptionsOf<typeof releaseOptions>;

export const lock = defineGroup({
  name: 'lock',
  summary: "see or release an app's deploy lock (kept on the engine)",
  commands: [
    defineCommand({
      name: 'status',
      summary: 'who holds the lock, since when, for what',
      args: [['<app>']],
      options: {},
      load: async () => (await import('./lock.js')).status,
    }),
    defineCommand({
      name: 'release',
      summary: 'remove a stuck lock (a dead holder is taken over by the next deploy anyway)',
      args: [['<app>']],
      options: releaseOptions,
      load: async () => (await import('./lock.js')).release,
    }),
  ],
});
