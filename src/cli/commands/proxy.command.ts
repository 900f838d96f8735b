import { defineCommand, defineGroup } from '../command.js';
import { yesOption } from '../option-groups.js';
import { flag, value, type OptionsOf } from '../options.js';

const logsOptions = {
  tail: value('-n, --tail <lines>', 'how many lines from the end ("all" for every one)', '100'),
  follow: flag('-f, --follow', 'keep printing new lines until Ctrl-C'),
};
export type ProxyLogsOptions = OptionsOf<typeof logsOptions>;

const asked = yesOption();
export type ProxyChangeOptions = OptionsOf<typeof asked>;

/** `deploy proxy …`: the engine's front door (the proxy that owns routed apps' ports), as a whole. */
export const proxy = defineGroup({
  name: 'proxy',
  summary: "the engine's front door: its routes, its log, restart, upgrade and prune",
  commands: [
    defineCommand({
      name: 'status',
      summary: 'whether it runs, its version, the ports it publishes, and where each app is routed',
      args: [],
      options: {},
      load: async () => (await import('./proxy.js')).status,
    }),
    defineCommand({
      name: 'logs',
      summary: 'its log: every route change, fallback and drain',
      args: [],
      options: logsOptions,
      load: async () => (await import('./proxy.js')).logs,
    }),
    defineCommand({
      name: 'restart',
      summary: "restart it; its routes come back from its state, then the store's are sent again",
      args: [],
      options: asked,
      load: async () => (await import('./proxy.js')).restart,
    }),
    defineCommand({
      name: 'prune',
      summary: 'remove routes whose release is gone from the engine (removed outside deploy), and free their ports',
      args: [],
      options: asked,
      load: async () => (await import('./proxy.js')).prune,
    }),
    defineCommand({
      name: 'upgrade',
      summary: "run this version of deploy's front door (made again if it is gone), and send every route again",
      args: [],
      options: asked,
      load: async () => (await import('./proxy.js')).upgrade,
    }),
  ],
});
