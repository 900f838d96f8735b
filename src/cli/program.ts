import { Command, Option } from 'commander';
import type { IO } from '../context.js';
import type { Handler } from '../main.js';
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
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`${s.replace(/^error: /, 'Error: ')}Run "deploy --help" for usage.\n`),
    });

  const action =
    (load: () => Promise<{ handler: Handler }>) =>
    async (...raw: unknown[]): Promise<void> => {
      const command = raw[raw.length - 1] as Command;
      const args = command.processedArgs.flat().filter((a): a is string => typeof a === 'string');
      await run(async () => (await load()).handler, args, command.optsWithGlobals());
    };

  program
    .command('deploy')
    .summary('build a commit and run it (the everyday action)')
    .description(
      'Build SOURCE (a repository path, default ".", or a Git URL) at a commit into an image, run it as a container,\n' +
        'wait until it is healthy, then retire the deployment it replaces. A failed deploy leaves the previous one serving.',
    )
    .argument('[source]', 'repository path or Git URL (default: the current directory, or the app\'s remembered source)')
    .option('-a, --app <name>', 'app name (default: "app" in deploy.json, else the directory name)')
    .option('-r, --ref <ref>', 'branch, tag or commit to ship (default: HEAD, or the default branch of a URL)')
    .option('-p, --port <[ip:]host:container>', 'publish a port (repeatable); replaces the ports of deploy.json', collect)
    .option('-e, --env <key=value>', 'set an environment variable (repeatable); KEY alone takes it from your environment', collect)
    .option('--env-file <path>', 'read environment variables from a KEY=VALUE file (repeatable)', collect)
    .option('--health-path <path>', 'HTTP path that must answer 2xx/3xx before the deployment counts as running ("none" to skip)')
    .option('--health-timeout <duration>', 'how long to wait for health (default 60s)')
    .option('--no-cache', 'build without the layer cache')
    .option('--pull', 'pull a newer base image while building (needs a registry)')
    .option('--allow-dirty', 'ship the working tree with its uncommitted changes (the record is marked dirty)')
    .addHelpText(
      'after',
      '\nExamples:\n  deploy deploy                         # the current repository at HEAD\n  deploy deploy examples/hello          # an app in a subdirectory\n  deploy deploy --app web               # the latest commit of web\'s remembered branch\n  deploy deploy https://host/repo.git --ref v1.2.0 -p 127.0.0.1:8080:80 --json',
    )
    .action(action(() => import('./commands/deploy.js')));

  program
    .command('ls')
    .alias('list')
    .summary('list deployments, newest first')
    .option('-a, --app <name>', 'only this app')
    .addOption(new Option('-s, --status <status>', 'only this status (repeatable)').argParser(collect))
    .option('-n, --limit <n>', 'show at most N (default 20 on a terminal, all otherwise)')
    .action(action(() => import('./commands/ls.js')));

  return program;
}
