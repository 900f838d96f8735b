import { flag, list, negated, toggle, value, type OptionsOf } from './options.js';

/** Options of every command (given before or after its name); each command's --help lists them too. */
export const globalOptions = {
  json: flag('--json', 'print exactly one JSON document on stdout (JSON Lines for streams)'),
  verbose: flag('-v, --verbose', 'show build output, and stack traces of internal errors'),
  quiet: flag('-q, --quiet', 'print results only, no progress'),
  color: negated('--no-color', 'never colour the output (NO_COLOR is honoured too)'),
  context: value('-c, --context <name>', 'the docker context of the engine to use (as docker --context)'),
  host: value(
    '-H, --host <url>',
    'the engine to use: unix:///path, tcp://HOST:PORT or ssh://USER@HOST[:PORT] (as docker -H)',
  ),
  lockWait: value(
    '--lock-wait <duration>',
    "wait this long for the app's lock when another deploy holds it (default: fail at once)",
  ),
};
export type GlobalOptions = OptionsOf<typeof globalOptions>;

/** The one-off settings of a deployment, for deploy and redeploy: they apply to that deployment (and its redeploys). */
export const oneOff = {
  port: list('-p, --port <[ip:]host:container>', 'publish a port (repeatable); replaces the ports of deploy.json'),
  env: list(
    '-e, --env <key=value>',
    'set an environment variable (repeatable); KEY alone takes it from your environment',
  ),
  secret: list(
    '--secret <key[=value]>',
    'a secret env var (repeatable); KEY alone takes it from your environment, off the command line',
  ),
  envFile: list('--env-file <path>', 'read environment variables from a KEY=VALUE file (repeatable)'),
  volume: list(
    '--volume <name:/path|/host:/path[:ro]>',
    'mount a volume kept per app, or a host path (repeatable); replaces the volumes of deploy.json',
  ),
  healthPath: value(
    '--health-path <path>',
    'HTTP path that must answer 2xx/3xx before the deployment counts as running ("none" to skip)',
  ),
  healthTimeout: value('--health-timeout <duration>', 'how long to wait for health (default 60s)'),
  buildArg: list('--build-arg <key=value>', 'a build argument (repeatable), as docker build --build-arg'),
  target: value('--target <stage>', 'the Dockerfile stage to build, as docker build --target'),
  buildSecret: list(
    '--build-secret <id=ID,src=PATH|env=VAR>',
    'a BuildKit secret for RUN --mount=type=secret (repeatable), as docker build --secret',
  ),
  proxy: toggle(
    '--proxy',
    "route the app's ports through the engine's front door: switches drop no request (the proxy setting)",
    '--no-proxy',
    "publish the ports on the app's own containers (proxy=false)",
  ),
  domain: list(
    '--domain <name>',
    'a hostname the front door routes to the app (repeatable), so apps share a port by name',
  ),
  runtime: value(
    '--runtime <containers|swarm>',
    'what runs the release: one container (default), or a Swarm service on a manager (the runtime setting)',
  ),
  replicas: value('--replicas <n>', 'how many tasks the Swarm service runs (runtime swarm; the replicas setting)'),
  memory: value('-m, --memory <size>', 'memory limit, as docker run --memory (512m, 1g)'),
  cpus: value('--cpus <n>', 'CPU limit, as docker run --cpus (0.5, 2)'),
  set: list(
    '--set <key=value>',
    'any setting for this deployment (repeatable): --set user=node --set init=false; see deploy config --help',
  ),
};
export type OneOffFlags = OptionsOf<typeof oneOff>;

/**
 * The options several commands share, by flag. Each builder takes what the option means for its command, so
 * that the flag is spelt in one place while each --help still says what it does there.
 */

/** `-a, --app <name>`: the app a command acts on, or narrows its list to. */
export const appOption = (description: string) => ({ app: value('-a, --app <name>', description) });

/** `-y, --yes`: go ahead without the question (`do not ask` where that is all there is to say). */
export const yesOption = (description = 'do not ask') => ({ yes: flag('-y, --yes', description) });

/** A command that never asks takes --yes all the same, so that a script can pass it to every command. */
export const neverAsks = (command: string) => yesOption(`accepted for scripts (${command} never asks)`);

/** `--dry-run`: what the command says instead of acting. */
export const dryRunOption = (description: string) => ({ dryRun: flag('--dry-run', description) });

/** Commands that ask before acting: --yes answers, --dry-run only shows. */
export const asking = {
  ...yesOption('do not ask; go ahead (what CI scripts pass; harmless where nothing asks)'),
  ...dryRunOption('show the plan and change nothing'),
};

/** The app a command acts on, when no deployment or app is given as its argument. */
export const currentApp = appOption('the app (its current deployment); default: the app of the repository you are in');

/** For the commands that list or count across apps: narrow them to one. */
export const onlyApp = appOption('only this app');
