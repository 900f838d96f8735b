import { defineCommand } from '../command.js';
import { appOption, asking, oneOff } from '../option-groups.js';
import { flag, negated, value, type OptionsOf } from '../options.js';

const options = {
  ...appOption('app name (default: "app" in deploy.json, else the directory name)'),
  ref: value('-r, --ref <ref>', 'branch, tag or commit to ship (default: HEAD, or the default branch of a URL)'),
  cache: negated('--no-cache', 'build without the layer cache'),
  pull: flag('--pull', 'pull a newer base image while building (needs a registry)'),
  allowDirty: flag('--allow-dirty', 'ship the working tree with its uncommitted changes (the record is marked dirty)'),
  ...oneOff,
  ...asking,
};
export type DeployOptions = OptionsOf<typeof options>;

export const deploy = defineCommand({
  name: 'deploy',
  summary: 'build a commit and run it (the everyday action)',
  description:
    'Build SOURCE (a repository path, default ".", or a Git URL) at a commit into an image, run it as a container,\n' +
    'wait until it is healthy, then retire the deployment it replaces. A failed deploy leaves the previous one serving.',
  args: [['[source]', "repository path or Git URL (default: the current directory, or the app's remembered source)"]],
  options,
  examples: [
    'deploy deploy                         # the current repository at HEAD',
    'deploy deploy examples/hello          # an app in a subdirectory',
    "deploy deploy --app web               # the latest commit of web's remembered branch",
    'deploy deploy https://host/repo.git --ref v1.2.0 -p 127.0.0.1:8080:80 --json',
  ],
  load: async () => (await import('./deploy.js')).handler,
});
