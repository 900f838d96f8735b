import { Command, Option } from 'commander';
import type { IO } from '../context.js';
import type { Handler } from './handler.js';
import { VERSION } from '../version.js';

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  color?: boolean;
}

type Run = (load: () => Promise<Handler>, args: string[], options: GlobalOptions & Record<string, unknown>) => Promise<void>;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The command line, declared. Each command's code is imported only when that command runs, so
 * `deploy --help` and `deploy ls` never load Docker, Git or prompt libraries.
 */
export function buildProgram(io: IO, run: Run): Command {
  const program = new Command('deploy')
    .description('Build a Git commit into a Docker image, run it on your Docker Engine, and manage every deployment.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--json', 'print exactly one JSON document on stdout (JSON Lines for streams)')
    .option('-v, --verbose', 'show build output, and stack traces of internal errors')
    .option('-q, --quiet', 'print results only, no progress')
    .option('--no-color', 'never colour the output (NO_COLOR is honoured too)')
    .option('-c, --context <name>', 'the docker context of the engine to use (as docker --context)')
    .option('-H, --host <url>', 'the engine to use: unix:///path, tcp://HOST:PORT or ssh://USER@HOST[:PORT] (as docker -H)')
    .option('--lock-wait <duration>', "wait this long for the app's lock when another deploy holds it (default: fail at once)")
    .showSuggestionAfterError(true)
    // Each command's --help lists the global options it honours (--json, --verbose, --context, -H, ...).
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`${s.replace(/^error: /, 'Error: ')}Run "deploy --help" for usage.\n`),
    });

  const action =
    (load: () => Promise<Handler>) =>
    async (...raw: unknown[]): Promise<void> => {
      const command = raw[raw.length - 1] as Command;
      const args = command.processedArgs.flat().filter((a): a is string => typeof a === 'string');
      await run(load, args, command.optsWithGlobals());
    };
  /** The one-off settings of a deployment, for deploy and redeploy: they apply to that deployment (and its redeploys). */
  const oneOff = (cmd: Command) =>
    cmd
      .option('-p, --port <[ip:]host:container>', 'publish a port (repeatable); replaces the ports of deploy.json', collect)
      .option('-e, --env <key=value>', 'set an environment variable (repeatable); KEY alone takes it from your environment', collect)
      .option('--secret <key[=value]>', 'a secret env var (repeatable); KEY alone takes it from your environment, off the command line', collect)
      .option('--env-file <path>', 'read environment variables from a KEY=VALUE file (repeatable)', collect)
      .option('--volume <name:/path|/host:/path[:ro]>', 'mount a volume kept per app, or a host path (repeatable); replaces the volumes of deploy.json', collect)
      .option('--health-path <path>', 'HTTP path that must answer 2xx/3xx before the deployment counts as running ("none" to skip)')
      .option('--health-timeout <duration>', 'how long to wait for health (default 60s)')
      .option('--build-arg <key=value>', 'a build argument (repeatable), as docker build --build-arg', collect)
      .option('--target <stage>', 'the Dockerfile stage to build, as docker build --target')
      .option('--build-secret <id=ID,src=PATH|env=VAR>', 'a BuildKit secret for RUN --mount=type=secret (repeatable), as docker build --secret', collect)
      .option('-m, --memory <size>', 'memory limit, as docker run --memory (512m, 1g)')
      .option('--cpus <n>', 'CPU limit, as docker run --cpus (0.5, 2)')
      .option('--set <key=value>', 'any setting for this deployment (repeatable): --set user=node --set init=false; see deploy config --help', collect);
  /** The app a command acts on, when no deployment or app is given as its argument. */
  const appOption = (cmd: Command) => cmd.option('-a, --app <name>', "the app (its current deployment); default: the app of the repository you are in");
  /** Commands that ask before acting: --yes answers, --dry-run only shows. */
  const asking = (cmd: Command) =>
    cmd.option('-y, --yes', 'do not ask; go ahead (what CI scripts pass; harmless where nothing asks)').option('--dry-run', 'show the plan and change nothing');

  asking(oneOff(program
    .command('deploy')
    .summary('build a commit and run it (the everyday action)')
    .description(
      'Build SOURCE (a repository path, default ".", or a Git URL) at a commit into an image, run it as a container,\n' +
        'wait until it is healthy, then retire the deployment it replaces. A failed deploy leaves the previous one serving.',
    )
    .argument('[source]', 'repository path or Git URL (default: the current directory, or the app\'s remembered source)')
    .option('-a, --app <name>', 'app name (default: "app" in deploy.json, else the directory name)')
    .option('-r, --ref <ref>', 'branch, tag or commit to ship (default: HEAD, or the default branch of a URL)')
    .option('--no-cache', 'build without the layer cache')
    .option('--pull', 'pull a newer base image while building (needs a registry)')
    .option('--allow-dirty', 'ship the working tree with its uncommitted changes (the record is marked dirty)')))
    .addHelpText(
      'after',
      '\nExamples:\n  deploy deploy                         # the current repository at HEAD\n  deploy deploy examples/hello          # an app in a subdirectory\n  deploy deploy --app web               # the latest commit of web\'s remembered branch\n  deploy deploy https://host/repo.git --ref v1.2.0 -p 127.0.0.1:8080:80 --json',
    )
    .action(action(async () => (await import('./commands/deploy.js')).handler));

  program
    .command('ls')
    .alias('list')
    .summary('list deployments, newest first')
    .option('-a, --app <name>', 'only this app')
    .addOption(new Option('-s, --status <status>', 'only this status (repeatable): running, stopped, failed, superseded, ...').argParser(collect))
    .option('--failed', 'only failed (and interrupted) deployments')
    .option('--since <when>', 'only those created since a duration ago (24h, 7d) or an ISO date')
    .option('-n, --limit <n>', 'show the newest N (default 20)')
    .option('--all', 'show every deployment')
    .addHelpText('after', '\nUnder the table: how many are shown of how many match, and how many are running, stopped and failed.\n\nExamples:\n  deploy ls --status running        # what is online\n  deploy ls --status stopped        # what is paused\n  deploy ls --app web --failed --since 7d\n  deploy ls --json | jq \'.[0].id\'')
    .action(action(async () => (await import('./commands/ls.js')).handler));

  asking(
    oneOff(
      appOption(
        program
          .command('redeploy')
          .summary("ship a deployment's commit again, with its settings and the app's current env vars")
          .description(
            "Ship ID's commit again as a new deployment, with ID's own settings (its ports, health check, restart policy and " +
              "the one-off flags it was deployed with) and the app's env vars, secrets and `config set` values as they are now. " +
              "ID's image is reused when the engine still has it (no build); otherwise, or with --no-cache, it is built again " +
              'from the commit. Shows the plan against what serves now, then asks. Flags such as --port or --env change this redeploy only.',
          )
          .argument('[id]', 'deployment id (or unique prefix), APP@vN, or an app name (its current deployment)'),
      ),
    )
      .option('--no-cache', 'build again from the commit without the layer cache')
      .option('--pull', 'pull a newer base image while building (needs a registry)'),
  )
    .addHelpText('after', '\nExamples:\n  deploy redeploy k7m2x9qa --no-cache\n  deploy redeploy web@v12 --yes --json\n  deploy redeploy --app web -e LOG_LEVEL=debug')
    .action(action(async () => (await import('./commands/redeploy.js')).handler));

  asking(
    program
      .command('rollback')
      .summary('go back to an earlier known-good release: its exact image and configuration')
      .description(
        'Ship an earlier successful deployment again, exactly (its image and its configuration snapshot), as a new\n' +
          'deployment. The default target is the newest successful deployment older than the current one.\n' +
          'Rolling back to what is already running does nothing and exits 0.',
      )
      .argument('[app|id]', 'the app (default: the one of the current directory), or the deployment to go back to')
      .option('-a, --app <name>', 'the app')
      .option('--to <id|app@vN|git-ref>', 'the deployment to go back to (a tag, branch or commit finds its newest successful deployment)')
      .option('--steps <n>', 'go N successful deployments back (default 1)')
      .option('--rebuild', "build the target's image again from its commit if it is gone"),
  )
    .addHelpText('after', '\nExamples:\n  deploy rollback web\n  deploy rollback web --to web@v7\n  deploy rollback --app web --steps 2 --yes --json     # in CI')
    .action(action(async () => (await import('./commands/rollback.js')).handler));

  asking(
    appOption(
      program
        .command('stop')
        .summary("stop a deployment's container (deploy start resumes it)")
        .argument('[id|app]', 'deployment id, APP@vN, or an app name (its current deployment)'),
    ),
  ).action(action(async () => (await import('./commands/lifecycle.js')).stop));

  asking(
    appOption(
      program
        .command('start')
        .summary('start a stopped deployment again, without rebuilding')
        .argument('[id|app]', 'deployment id, APP@vN, or an app name (its current deployment)'),
    ),
  ).action(action(async () => (await import('./commands/lifecycle.js')).start));

  asking(
    appOption(
      program
        .command('restart')
        .summary('restart the current deployment in place, without rebuilding')
        .argument('[id|app]', 'deployment id, APP@vN, or an app name (its current deployment)'),
    ),
  ).action(action(async () => (await import('./commands/lifecycle.js')).restart));

  program
    .command('inspect')
    .alias('show')
    .summary('everything about one deployment; --json is the exportable record')
    .argument('[id]', 'deployment id (or unique prefix), APP@vN, or an app name (its current deployment)')
    .option('-a, --app <name>', "the app (its current deployment); default: the app of the repository you are in")
    .action(action(async () => (await import('./commands/inspect.js')).handler));

  program
    .command('logs')
    .summary("a deployment's container logs, or its build output (--build); kept after its container is gone")
    .argument('[id|app]', 'deployment id, APP@vN, or an app name (its current deployment)')
    .option('-a, --app <name>', "the app (its current deployment); default: the app of the repository you are in")
    .option('-f, --follow', 'keep printing new lines until the container stops or Ctrl-C')
    .option('-n, --tail <n>', 'the last N lines ("all" for everything)', '100')
    .option('--since <when>', 'only lines since a duration ago (10m, 2h) or an ISO date')
    .option('-t, --timestamps', 'prefix each line with its time')
    .option('--build', 'the build output kept with the record')
    .addHelpText('after', '\nThe container\'s stdout goes to stdout and its stderr to stderr; --json prints one {timestamp, stream, message} per line.\n\nExamples:\n  deploy logs web -f\n  deploy logs k7m2x9qa --build\n  deploy logs web@v7 --since 1h --json')
    .action(action(async () => (await import('./commands/logs.js')).handler));

  program
    .command('stats')
    .summary('counts, durations and delivery metrics, with a chart of deployments per day')
    .option('-a, --app <name>', 'only this app')
    .option('--since <when>', 'the window: a duration back from now (30d, 12h) or an ISO date', '30d')
    .action(action(async () => (await import('./commands/stats.js')).handler));

  program
    .command('sync')
    .summary('bring the store in line with what an engine holds (deployments made elsewhere, real statuses)')
    .description(
      'Reads the record labels of the containers and images on the engine (--context/--host, or the usual choice)\n' +
        'and adds the deployments this store does not know (made on another machine or CI runner), and corrects\n' +
        "the statuses of this store's deployments from the real container states. A CI runner that starts with an\n" +
        'empty store can sync, then roll back.',
    )
    .option('-a, --app <name>', 'only this app (brought in even if this store does not know it yet)')
    .option('--all', 'adopt every app on the engine, not only those this store knows, and list what was adopted')
    .option('-y, --yes', 'accepted for scripts (sync never asks)')
    .option('--dry-run', 'say what would be added and corrected; change nothing')
    .action(action(async () => (await import('./commands/sync.js')).handler));

  program
    .command('prune')
    .summary("remove an app's old images, keeping what runs and the last N successful releases")
    .option('-a, --app <name>', 'only this app (default: every app this store deployed itself, not apps only synced in)')
    .option('--keep <n>', 'rollback targets to keep besides what runs (default: the app\'s retention, 5)')
    .option('--dry-run', 'list what would go, remove nothing')
    .option('-y, --yes', 'do not ask')
    .action(action(async () => (await import('./commands/prune.js')).handler));

  // status, destroy (one truth about what runs)
  program
    .command('status')
    .alias('ps')
    .summary("what each app runs now: its current deployment, container state, health, uptime, restarts, URL")
    .description(
      "The live view (heroku ps, fly status, docker ps): each app's current deployment (or APP's) and what its\n" +
        'engine says of its container now. A container that exited, crashed or was stopped outside deploy is\n' +
        'recorded `exited` with its exit code. When an engine does not answer in time, its apps are shown as the\n' +
        'store has them, and the command says so on stderr.',
    )
    .argument('[app]', 'only this app')
    .option('-a, --app <name>', 'only this app')
    .addHelpText('after', '\nExamples:\n  deploy status\n  deploy status web --json')
    .action(action(async () => (await import('./commands/status.js')).handler));

  asking(
    program
      .command('destroy')
      .summary("tear an app down: its containers, images, lock and stored settings (records stay unless --forget)")
      .description(
        "Removes everything of APP on its engine — its containers, its images, its lock — and its stored settings\n" +
          '(env vars and secrets), after a confirmation that lists them. Its deployment records stay as history\n' +
          'unless --forget. Refused (exit 14) while another command holds its lock. Its volumes (and their data) stay\n' +
          'unless --volumes; host paths of bind mounts are never touched.',
      )
      .argument('[app]', 'the app to destroy')
      .option('-a, --app <name>', 'the app to destroy')
      .option('--forget', 'also delete its deployment records, their events and kept logs from the store')
      .option('--volumes', "also remove the app's volumes, and the data in them (the confirmation names them)"),
  )
    .addHelpText('after', '\nExamples:\n  deploy destroy web --dry-run\n  deploy destroy web --yes --json\n  deploy destroy --app web --forget --yes')
    .action(action(async () => (await import('./commands/destroy.js')).handler));

  const lock = program.command('lock').summary("see or release an app's deploy lock (kept on the engine)");
  lock
    .command('status')
    .argument('<app>')
    .summary('who holds the lock, since when, for what')
    .action(action(async () => (await import('./commands/lock.js')).status));
  lock
    .command('release')
    .argument('<app>')
    .summary('remove a stuck lock (a dead holder is taken over by the next deploy anyway)')
    .option('-y, --yes', 'do not ask')
    .option('--dry-run', 'say whose lock would be released, and release nothing')
    .option('--force', 'release it even though its holder is alive on this machine (that deploy then runs unprotected)')
    .action(action(async () => (await import('./commands/lock.js')).release));

  const config = program
    .command('config')
    .summary("an app's env vars and settings, and user-wide defaults")
    .description(
      'Per-app configuration kept in the store, and user-wide defaults (--global). KEY=VALUE sets an environment\n' +
        'variable, except for the setting names deploy.json knows (schema/deploy.schema.json; README: "Settings"):\n' +
        '  build:  dockerfile, context, buildTarget, buildArgs.NAME, buildSecrets (";"-separated)\n' +
        '  run:    ports, volumes, extraHosts, networks (comma-separated), restart, memory, cpus, command, entrypoint,\n' +
        '          user, labels.NAME, logDriver, logOptions.NAME, stopSignal, stopTimeout, init\n' +
        '  health: healthCheck.path|port|timeout|interval|settle|command\n' +
        '  other:  retention, endpoint\n' +
        '--env forces the env reading. A change takes effect at the next deploy or redeploy (which rebuilds when a build\n' +
        'setting changed).',
    );
  const scoped = (cmd: Command) =>
    cmd.option('-a, --app <name>', 'the app (default: the one of the current directory)').option('-g, --global', 'the user-wide defaults instead of one app');
  scoped(config.command('set').summary('set env vars or settings').argument('<key=value...>', 'KEY=VALUE; with --secret, KEY alone reads the value from $KEY, stdin or a hidden prompt'))
    .option('--secret', 'a secret env var: stored, given to the container, never shown again (it stays secret when set again)')
    .option('--no-secret', 'make a secret env var plain again')
    .option('--env', 'treat every KEY as an environment variable, even one named like a setting')
    .option('-y, --yes', 'accepted for scripts (config set never asks)')
    .option('--dry-run', 'check the values and say what would change; change nothing')
    .addHelpText('after', '\nExamples:\n  deploy config set GREETING=hi --app web\n  deploy config set API_KEY --secret --app web < key.txt     # keeps the value out of argv and shell history\n  deploy config set healthCheck.path=/healthz retention=10 --app web')
    .action(action(async () => (await import('./commands/config.js')).set));
  scoped(config.command('unset').summary('remove env vars or settings').argument('<key...>'))
    .option('--env', 'treat every KEY as an environment variable')
    .option('-y, --yes', 'accepted for scripts (config unset never asks)')
    .option('--dry-run', 'say what would be removed; change nothing')
    .action(action(async () => (await import('./commands/config.js')).unset));
  scoped(config.command('get').summary('print one effective value (secrets stay masked)').argument('<key>')).action(
    action(async () => (await import('./commands/config.js')).get),
  );
  scoped(config.command('list').alias('ls').summary('every effective value and where it comes from')).action(
    action(async () => (await import('./commands/config.js')).list),
  );

  return program;
}
