import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { IO } from '../../src/context.js';
import { buildProgram } from '../../src/cli/program.js';
import { settingDef } from '../../src/core/setting-table.js';

// Pure: the program is built and parsed, and the handler it would run is never loaded (no engine, no store).

function io(): IO {
  return {
    env: {},
    cwd: '/',
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    now: () => 0,
    random: (n) => new Uint8Array(n),
  };
}

async function parse(argv: string[]): Promise<{ args: string[]; options: Record<string, unknown> }> {
  let got: { args: string[]; options: Record<string, unknown> } | undefined;
  const program = buildProgram(io(), async (load, args, options) => {
    expect(typeof load).toBe('function');
    got = { args, options: { ...options } };
  });
  await program.parseAsync(argv, { from: 'user' });
  if (!got) throw new Error(`no command ran for ${argv.join(' ')}`);
  return got;
}

function commands(cmd: Command, path: string[] = []): Array<[string, Command]> {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    return c.commands.length > 0
      ? [[p.join(' '), c] as [string, Command], ...commands(c, p)]
      : [[p.join(' '), c] as [string, Command]];
  });
}

const GLOBAL = [
  '-V, --version',
  '--json',
  '-v, --verbose',
  '-q, --quiet',
  '--no-color',
  '-c, --context <name>',
  '-H, --host <url>',
  '--lock-wait <duration>',
];
const ONE_OFF = [
  '-p, --port <[ip:]host:container>',
  '-e, --env <key=value>',
  '--secret <key[=value]>',
  '--env-file <path>',
  '--volume <name:/path|/host:/path[:ro]>',
  '--health-path <path>',
  '--health-timeout <duration>',
  '--build-arg <key=value>',
  '--target <stage>',
  '--build-secret <id=ID,src=PATH|env=VAR>',
  '--proxy',
  '--no-proxy',
  '--domain <name>',
  '--runtime <containers|swarm>',
  '--replicas <n>',
  '-m, --memory <size>',
  '--cpus <n>',
  '--set <key=value>',
];
const ASKING = ['-y, --yes', '--dry-run'];
const APP = ['-a, --app <name>'];

/** Every command's flags, in order, as they were declared before each moved to its own file. */
const FLAGS: Record<string, { flags: string[]; aliases?: string[] }> = {
  deploy: { flags: [...APP, '-r, --ref <ref>', '--no-cache', '--pull', '--allow-dirty', ...ONE_OFF, ...ASKING] },
  ls: {
    flags: [...APP, '-s, --status <status>', '--failed', '--since <when>', '-n, --limit <n>', '--all'],
    aliases: ['list'],
  },
  redeploy: { flags: [...APP, ...ONE_OFF, '--no-cache', '--pull', ...ASKING] },
  rollback: { flags: [...APP, '--to <id|app@vN|git-ref>', '--steps <n>', '--rebuild', ...ASKING] },
  stop: { flags: [...APP, ...ASKING, '--pause <duration>'] },
  start: { flags: [...APP, ...ASKING] },
  restart: { flags: [...APP, ...ASKING] },
  scale: { flags: ['-y, --yes'] },
  inspect: { flags: APP, aliases: ['show'] },
  logs: { flags: [...APP, '-f, --follow', '-n, --tail <n>', '--since <when>', '-t, --timestamps', '--build'] },
  stats: { flags: [...APP, '--since <when>', '--now'] },
  sync: { flags: [...APP, '--all', '-y, --yes', '--dry-run'] },
  prune: { flags: [...APP, '--keep <n>', '--dry-run', '-y, --yes'] },
  status: { flags: APP, aliases: ['ps'] },
  destroy: { flags: [...APP, '--forget', '--volumes', ...ASKING] },
  lock: { flags: [] },
  'lock status': { flags: [] },
  'lock release': { flags: ['-y, --yes', '--dry-run', '--force'] },
  proxy: { flags: [] },
  'proxy status': { flags: [] },
  'proxy logs': { flags: ['-n, --tail <lines>', '-f, --follow'] },
  'proxy restart': { flags: ['-y, --yes'] },
  'proxy prune': { flags: ['-y, --yes'] },
  'proxy upgrade': { flags: ['-y, --yes'] },
  config: { flags: [] },
  'config set': { flags: [...APP, '-g, --global', '--secret', '--no-secret', '--env', '-y, --yes', '--dry-run'] },
  'config unset': { flags: [...APP, '-g, --global', '--env', '-y, --yes', '--dry-run'] },
  'config get': { flags: [...APP, '-g, --global'] },
  'config list': { flags: [...APP, '-g, --global'], aliases: ['ls'] },
};

describe('the command line', () => {
  const program = buildProgram(io(), async () => undefined);

  it('has the global options', () => {
    expect(program.options.map((o) => o.flags)).toEqual(GLOBAL);
  });

  it('declares every command with its flags and aliases, and no other command', () => {
    const found = commands(program);
    expect(found.map(([p]) => p)).toEqual(Object.keys(FLAGS));
    for (const [path, cmd] of found) {
      expect(
        cmd.options.map((o) => o.flags),
        path,
      ).toEqual(FLAGS[path]?.flags);
      expect(cmd.aliases(), path).toEqual(FLAGS[path]?.aliases ?? []);
    }
  });

  it('keeps the defaults', () => {
    const defaults = Object.fromEntries(
      commands(program).map(([p, c]) => [
        p,
        Object.fromEntries(
          c.options.filter((o) => o.defaultValue !== undefined).map((o) => [o.attributeName(), o.defaultValue]),
        ),
      ]),
    );
    expect(defaults.logs).toEqual({ tail: '100' });
    expect(defaults.stats).toEqual({ since: '30d' });
    expect(defaults['config set']).toEqual({});
  });
});

describe('typed parsing', () => {
  it('deploy: repeatable one-off flags collect, --no-cache is cache: false, globals merge', async () => {
    const { args, options } = await parse([
      '--json',
      'deploy',
      'src',
      '-p',
      '1:1',
      '--port',
      '2:2',
      '-e',
      'A=1',
      '--no-cache',
      '--allow-dirty',
      '--health-timeout',
      '30s',
      '-m',
      '512m',
      '--set',
      'init=false',
      '-y',
      '--lock-wait',
      '5m',
    ]);
    expect(args).toEqual(['src']);
    expect(options).toMatchObject({
      json: true,
      color: true,
      lockWait: '5m',
      port: ['1:1', '2:2'],
      env: ['A=1'],
      cache: false,
      allowDirty: true,
      healthTimeout: '30s',
      memory: '512m',
      set: ['init=false'],
      yes: true,
    });
    expect(options.pull).toBeUndefined();
    expect(options.ref).toBeUndefined();
  });

  it('deploy without flags: cache on, nothing else set', async () => {
    const { args, options } = await parse(['deploy']);
    expect(args).toEqual([]);
    expect(options).toEqual({ color: true, cache: true });
  });

  it('ls (alias list): statuses collect, values stay text until the handler checks them', async () => {
    const { options } = await parse([
      'list',
      '-s',
      'running',
      '--status',
      'failed,stopped',
      '-n',
      '5',
      '--since',
      '7d',
      '--failed',
      '--no-color',
    ]);
    expect(options).toEqual({
      color: false,
      status: ['running', 'failed,stopped'],
      limit: '5',
      since: '7d',
      failed: true,
    });
  });

  it('redeploy, rollback, stop/start/restart', async () => {
    expect((await parse(['redeploy', 'web@v2', '--no-cache', '--volume', 'd:/d', '--dry-run'])).options).toEqual({
      color: true,
      cache: false,
      volume: ['d:/d'],
      dryRun: true,
    });
    expect(await parse(['rollback', 'web', '--steps', '2', '--rebuild'])).toEqual({
      args: ['web'],
      options: { color: true, steps: '2', rebuild: true },
    });
    for (const c of ['stop', 'start', 'restart'])
      expect(await parse([c, '--app', 'web', '-y'])).toEqual({
        args: [],
        options: { color: true, app: 'web', yes: true },
      });
  });

  it('logs and stats keep their defaults', async () => {
    expect(await parse(['logs', 'web', '-f', '-t'])).toEqual({
      args: ['web'],
      options: { color: true, tail: '100', follow: true, timestamps: true },
    });
    expect((await parse(['logs', '-n', 'all', '--build'])).options).toEqual({ color: true, tail: 'all', build: true });
    expect((await parse(['stats'])).options).toEqual({ color: true, since: '30d' });
  });

  it('inspect, status, sync, prune, destroy', async () => {
    expect(await parse(['show', 'k7m2x9qa'])).toEqual({ args: ['k7m2x9qa'], options: { color: true } });
    expect(await parse(['ps', 'web', '-a', 'web'])).toEqual({ args: ['web'], options: { color: true, app: 'web' } });
    expect((await parse(['sync', '--all', '--dry-run'])).options).toEqual({ color: true, all: true, dryRun: true });
    expect((await parse(['prune', '--keep', '0', '-y'])).options).toEqual({ color: true, keep: '0', yes: true });
    expect(await parse(['destroy', 'web', '--forget', '--volumes', '--yes'])).toEqual({
      args: ['web'],
      options: { color: true, forget: true, volumes: true, yes: true },
    });
  });

  it('lock and config subcommands', async () => {
    expect(await parse(['lock', 'status', 'web'])).toEqual({ args: ['web'], options: { color: true } });
    expect((await parse(['lock', 'release', 'web', '--force', '--dry-run'])).options).toEqual({
      color: true,
      force: true,
      dryRun: true,
    });
    expect(await parse(['config', 'set', 'A=1', 'B=2', '--secret', '--app', 'web'])).toEqual({
      args: ['A=1', 'B=2'],
      options: { color: true, secret: true, app: 'web' },
    });
    expect((await parse(['config', 'set', 'A', '--no-secret'])).options).toEqual({ color: true, secret: false });
    expect(await parse(['config', 'unset', 'A', 'B', '--env', '-g'])).toEqual({
      args: ['A', 'B'],
      options: { color: true, env: true, global: true },
    });
    expect(await parse(['config', 'get', 'A', '-H', 'tcp://h:2375'])).toEqual({
      args: ['A'],
      options: { color: true, host: 'tcp://h:2375' },
    });
    expect((await parse(['config', 'ls', '--global', '-c', 'ctx'])).options).toEqual({
      color: true,
      global: true,
      context: 'ctx',
    });
  });
});

describe("deploy config's help", () => {
  it('names only settings that exist (`config set NAME=…` of each is a setting, not an env var)', () => {
    const config = buildProgram(io(), async () => undefined).commands.find((c) => c.name() === 'config') as Command;
    const text = config.description();
    const named = /such as (.*?) \(lists/s.exec(text)?.[1]?.split(/,\s*|\s+or\s+/) ?? [];
    expect(named.length).toBeGreaterThan(8);
    for (const name of named) expect(settingDef(name.replace('.NAME', '.X')), name).not.toBeNull();
  });
});
