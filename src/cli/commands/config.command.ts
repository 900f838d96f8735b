import { defineCommand, defineGroup } from '../command.js';
import { appOption, dryRunOption, neverAsks } from '../option-groups.js';
import { flag, toggle, type OptionsOf } from '../options.js';

/** Which configuration a config command reads or writes: one app's, or the user-wide defaults. */
const scoped = {
  ...appOption('the app (default: the one of the current directory)'),
  global: flag('-g, --global', 'the user-wide defaults instead of one app'),
};
export type ScopedOptions = OptionsOf<typeof scoped>;

const setOptions = {
  ...scoped,
  secret: toggle(
    '--secret',
    'a secret env var: stored, given to the container, never shown again (it stays secret when set again)',
    '--no-secret',
    'make a secret env var plain again',
  ),
  env: flag('--env', 'treat every KEY as an environment variable, even one named like a setting'),
  ...neverAsks('config set'),
  ...dryRunOption('check the values and say what would change; change nothing'),
};
export type ConfigSetOptions = OptionsOf<typeof setOptions>;

const unsetOptions = {
  ...scoped,
  env: flag('--env', 'treat every KEY as an environment variable'),
  ...neverAsks('config unset'),
  ...dryRunOption('say what would be removed; change nothing'),
};
export type ConfigUnsetOptions = OptionsOf<typeof unsetOptions>;

export const config = defineGroup({
  name: 'config',
  summary: "an app's env vars and settings, and user-wide defaults",
  description:
    'Per-app configuration kept in the store, and user-wide defaults (--global). KEY=VALUE sets an environment\n' +
    'variable, except for the names of deploy.json\'s settings (README: "Settings"; schema/deploy.schema.json),\n' +
    'such as ports, volumes, memory, restart, healthCheck.path, proxy, domains, bakeWindow, registry,\n' +
    'buildArgs.NAME or labels.NAME (lists are comma-separated; buildSecrets ";"-separated); --env forces the env\n' +
    'reading. A change takes effect at the next deploy or redeploy (which rebuilds when a build setting changed).',
  commands: [
    defineCommand({
      name: 'set',
      summary: 'set env vars or settings',
      args: [
        ['<key=value...>', 'KEY=VALUE; with --secret, KEY alone reads the value from $KEY, stdin or a hidden prompt'],
      ],
      options: setOptions,
      examples: [
        'deploy config set GREETING=hi --app web',
        'deploy config set API_KEY --secret --app web < key.txt     # keeps the value out of argv and shell history',
        'deploy config set healthCheck.path=/healthz retention=10 --app web',
      ],
      load: async () => (await import('./config.js')).set,
    }),
    defineCommand({
      name: 'unset',
      summary: 'remove env vars or settings',
      args: [['<key...>']],
      options: unsetOptions,
      load: async () => (await import('./config.js')).unset,
    }),
    defineCommand({
      name: 'get',
      summary: 'print one effective value (secrets stay masked)',
      args: [['<key>']],
      options: scoped,
      load: async () => (await import('./config.js')).get,
    }),
    defineCommand({
      name: 'list',
      aliases: ['ls'],
      summary: 'every effective value and where it comes from',
      options: scoped,
      load: async () => (await import('./config.js')).list,
    }),
  ],
});
