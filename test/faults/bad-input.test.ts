/**
 * The catalogue of bad input: every case gets a clear message, its own exit code, no stack trace, one JSON
 * document under --json, and changes nothing — not the store, not the engine, not the release that serves.
 * docs/bad-input.md lists the same catalogue for users; keep the two in step.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome, type CliResult } from '../helpers/cli.js';
import { containersOf, fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';
import { newDeployment } from '../helpers/new-deployment.js';

/** What every case can refer to; filled in beforeAll. */
interface Fixture {
  home: string;
  /** The shared repository: `main` is the good app, side commits hold the bad states. */
  repo: TempRepo;
  /** The app with one good release serving on `port`. */
  good: string;
  port: number;
  /** An app whose records are seeded with chosen ids, to make an id prefix ambiguous. */
  seeded: string;
  /** Names no store or engine knows. */
  unknown: string;
  /** An app the non-ASCII case configures (valid input must work). */
  unicode: string;
  /** A directory that is not a Git repository. */
  plainDir: string;
  /** Scratch files (env files). */
  scratch: string;
  /** A commit of the shared repository on its own branch (side/NAME) with these changes; returns its SHA. */
  side(name: string, files: Record<string, string>, remove?: string[]): string;
  /** A new repository for this case only (removed in afterAll). */
  newRepo(): TempRepo;
}

interface Case {
  name: string;
  /** The state the case needs (a commit, a repository, a file); its result is handed to args. */
  setup?: (f: Fixture) => string;
  /** argv, as a user types it after `deploy`. --json is added for the second run. */
  args: (f: Fixture, state: string) => string[];
  /** The working directory (default: the shared repository). */
  cwd?: (f: Fixture, state: string) => string;
  env?: Record<string, string>;
  /** The expected exit code, from EXIT_CODES. */
  code: number;
  /** What the message must say (matched against stderr, and against the JSON error's message). */
  message: RegExp;
  /** What the hint must say (stderr and the JSON error's hint). */
  hint?: RegExp;
  /**
   * unchanged (default): nothing changes anywhere.
   * failed-deployment: each run records exactly one failed deployment, and nothing else changes.
   * accepted: valid input that must work (the store may change; check says how).
   */
  outcome?: 'unchanged' | 'failed-deployment' | 'accepted';
  check?: (f: Fixture, plain: CliResult, json: CliResult) => Promise<void>;
}

const USAGE = EXIT_CODES.usage;
const NOT_FOUND = EXIT_CODES.not_found;
const SOURCE = EXIT_CODES.source;
const CONFIG = EXIT_CODES.config;
const HELP = /Run "deploy --help" for usage/;
const KIB100 = 'x'.repeat(100 * 1024);
const LONG_NAME = `a${'b'.repeat(63)}`; // 64 characters: one too many
const NON_ASCII = 'héllo 🌍 世界 — ✓';

/** deploy.json of the good app, with something changed. */
const goodJson = (f: Fixture, extra: Record<string, unknown>) =>
  JSON.stringify({ app: f.good, ports: [`127.0.0.1:${f.port}:8080`], healthCheck: { path: '/' }, ...extra }, null, 2);

/** `deploy deploy` of a side commit, as the good app. */
const deployAt = (f: Fixture, sha: string, ...more: string[]) => ['deploy', '--app', f.good, '--ref', sha, ...more];

const cases: Case[] = [
  // --- usage: unknown flags and commands, missing and extra arguments ---------------------------------
  {
    name: 'an unknown flag',
    args: () => ['ls', '--bogus'],
    code: USAGE,
    message: /unknown option '--bogus'/,
    hint: HELP,
  },
  {
    name: 'an unknown flag of deploy',
    args: () => ['deploy', '--prot', '80:80'],
    code: USAGE,
    message: /unknown option '--prot'/,
    hint: HELP,
  },
  {
    name: 'an unknown command',
    args: () => ['frobnicate'],
    code: USAGE,
    message: /unknown command 'frobnicate'/,
    hint: HELP,
  },
  {
    name: 'a misspelt command',
    args: () => ['deplyo'],
    code: USAGE,
    message: /unknown command 'deplyo'/,
    hint: /Did you mean deploy\?/,
  },
  {
    name: 'a missing argument',
    args: () => ['lock', 'status'],
    code: USAGE,
    message: /missing required argument 'app'/,
    hint: HELP,
  },
  {
    name: 'no deployment or app, outside any repository',
    args: () => ['inspect'],
    cwd: (f) => f.plainDir,
    code: USAGE,
    message: /Which app\? Give a deployment or app \(deploy inspect APP\), --app APP/,
  },
  {
    name: 'too many arguments',
    args: () => ['deploy', 'a', 'b'],
    code: USAGE,
    message: /too many arguments for 'deploy'/,
    hint: HELP,
  },
  {
    name: 'a flag without its value',
    args: () => ['ls', '--since'],
    code: USAGE,
    message: /option '--since <when>' argument missing/,
    hint: HELP,
  },
  { name: 'no command at all', args: () => [], code: USAGE, message: /deploy needs a command/, hint: /deploy --help/ },
  {
    name: 'a command group without its command',
    args: () => ['config'],
    code: USAGE,
    message: /deploy config needs a command/,
    hint: /deploy config --help/,
  },

  // --- ids ---------------------------------------------------------------------------------------------
  {
    name: 'an unknown id',
    args: () => ['inspect', 'zzzzzzzz'],
    code: NOT_FOUND,
    message: /No deployment or app matches "zzzzzzzz"/,
    hint: /deploy ls/,
  },
  {
    name: 'an unknown id to redeploy',
    args: () => ['redeploy', 'zzzzzzzz', '--yes'],
    code: NOT_FOUND,
    message: /No deployment or app matches "zzzzzzzz"/,
  },
  {
    name: 'an unknown id to stop',
    args: () => ['stop', 'zzzzzzzz', '--yes'],
    code: NOT_FOUND,
    message: /No deployment or app matches "zzzzzzzz"/,
  },
  {
    name: 'an unknown id to roll back to',
    args: (f) => ['rollback', f.good, '--to', 'zzzzzzzz', '--yes'],
    code: NOT_FOUND,
    message: /No successful deployment of .* matches "zzzzzzzz"/,
    hint: /deploy ls --app/,
  },
  {
    name: 'an ambiguous id prefix',
    args: () => ['inspect', 'qqq'],
    code: EXIT_CODES.ambiguous,
    message: /"qqq" matches 2 deployments:\n\s+qqqb2345 .*@v2 .*\n\s+qqqa2345 .*@v1 /,
    hint: /Give more characters of the id, or write APP@vN/,
  },
  {
    name: 'an ambiguous id prefix to redeploy',
    args: () => ['redeploy', 'qqq', '--yes'],
    code: EXIT_CODES.ambiguous,
    message: /"qqq" matches 2 deployments/,
  },
  {
    name: 'an ambiguous id prefix to stop',
    args: () => ['stop', 'qqq', '--yes'],
    code: EXIT_CODES.ambiguous,
    message: /"qqq" matches 2 deployments/,
  },
  {
    name: 'an ambiguous id prefix to roll back to',
    args: () => ['rollback', 'qqq', '--yes'],
    code: EXIT_CODES.ambiguous,
    message: /"qqq" matches 2 deployments/,
  },
  {
    name: 'a too-short id prefix',
    args: () => ['inspect', 'qq'],
    code: NOT_FOUND,
    message: /No deployment or app matches "qq"/,
    hint: /at least 3 characters/,
  },
  {
    name: 'APP@v0',
    args: (f) => ['inspect', `${f.good}@v0`],
    code: USAGE,
    message: /Invalid deployment reference ".*@v0"/,
    hint: /APP@vN/,
  },
  {
    name: 'APP@vN of a version that does not exist',
    args: (f) => ['inspect', `${f.good}@v99`],
    code: NOT_FOUND,
    message: /has no v99/,
    hint: /deploy ls --app/,
  },
  {
    name: 'APP@vN of an unknown app',
    args: (f) => ['redeploy', `${f.unknown}@v1`, '--yes'],
    code: NOT_FOUND,
    message: /There is no app named/,
  },
  {
    name: 'a reference with a space',
    args: () => ['stop', 'my app', '--yes'],
    code: USAGE,
    message: /Invalid deployment reference "my app"/,
  },
  {
    name: 'a very long id (10 000 characters)',
    args: () => ['inspect', 'k'.repeat(10_000)],
    code: USAGE,
    message: /Invalid deployment reference "k{20}…" \(10000 characters\)/,
  },
  {
    name: 'a non-ASCII id',
    args: () => ['inspect', '日本語'],
    code: NOT_FOUND,
    message: /No deployment or app matches "日本語"/,
  },

  // --- apps --------------------------------------------------------------------------------------------
  {
    name: 'an unknown app to stop',
    args: (f) => ['stop', f.unknown, '--yes'],
    code: NOT_FOUND,
    message: /No deployment or app matches "nope-/,
  },
  {
    name: 'an unknown app to restart',
    args: (f) => ['restart', f.unknown, '--yes'],
    code: NOT_FOUND,
    message: /No deployment or app matches "nope-/,
  },
  {
    name: 'an unknown app to start',
    args: (f) => ['start', f.unknown],
    code: NOT_FOUND,
    message: /No deployment or app matches "nope-/,
  },
  {
    name: 'an unknown app to roll back',
    args: (f) => ['rollback', f.unknown, '--yes'],
    code: NOT_FOUND,
    message: /There is no app or deployment named "nope-/,
    hint: /deploy ls/,
  },
  {
    name: 'an unknown app to roll back (--app)',
    args: (f) => ['rollback', '--app', f.unknown, '--yes'],
    code: NOT_FOUND,
    message: /There is no app named nope-/,
    hint: /deploy ls/,
  },
  {
    name: 'an unknown app for logs',
    args: (f) => ['logs', f.unknown],
    code: NOT_FOUND,
    message: /No deployment or app matches "nope-/,
  },
  {
    name: 'an unknown app for config list',
    args: (f) => ['config', 'list', '--app', f.unknown],
    code: NOT_FOUND,
    message: /There is no app named nope-/,
    hint: /deploy ls/,
  },
  {
    name: 'an unknown app for config get',
    args: (f) => ['config', 'get', 'GREETING', '--app', f.unknown],
    code: NOT_FOUND,
    message: /There is no app named nope-/,
  },
  {
    name: 'an unknown app to deploy, outside any repository',
    args: (f) => ['deploy', '--app', f.unknown],
    cwd: (f) => f.plainDir,
    code: SOURCE,
    message: /There is no app named .* with a remembered source, and .* is not a Git repository/,
    hint: /Deploy it once from its repository/,
  },
  {
    name: 'a key that is not set',
    args: (f) => ['config', 'get', 'NOT_SET_ANYWHERE', '--app', f.good],
    code: NOT_FOUND,
    message: /NOT_SET_ANYWHERE is not set for/,
    hint: /deploy config list --app/,
  },
  {
    name: 'an app name of 64 characters',
    args: () => ['deploy', '--app', LONG_NAME, '--ref', 'main'],
    code: USAGE,
    message: /Invalid app name "abbb.*" \(from --app\)/,
    hint: /1 to 63 lower-case letters and digits/,
  },
  {
    name: 'an app name in upper case',
    args: () => ['deploy', '--app', 'MyApp'],
    code: USAGE,
    message: /Invalid app name "MyApp"/,
    hint: /lower-case/,
  },
  {
    name: 'an app name with a space',
    args: () => ['deploy', '--app', 'my app'],
    code: USAGE,
    message: /Invalid app name "my app"/,
  },
  {
    name: 'a non-ASCII app name',
    args: () => ['deploy', '--app', 'café'],
    code: USAGE,
    message: /Invalid app name "café"/,
  },
  // Names Docker refuses in an image repository or container name: refused before anything is built or recorded.
  ...['app-', 'app.', 'app_', 'a..b', 'a___b'].map((name) => ({
    name: `an app name Docker refuses (${name})`,
    args: () => ['deploy', '--app', name],
    code: USAGE,
    message: new RegExp(`Invalid app name "${name.replace(/\./g, '\\.')}"`),
    hint: /start and end with a letter or digit/,
  })),
  {
    name: 'an app name in upper case for config set',
    args: () => ['config', 'set', 'A=b', '--app', 'My App'],
    code: USAGE,
    message: /Invalid app name "My App"/,
  },
  {
    name: 'an app name of 64 characters for config list',
    args: () => ['config', 'list', '--app', LONG_NAME],
    code: USAGE,
    message: /Invalid app name/,
  },
  {
    name: 'an app name in upper case to roll back',
    args: () => ['rollback', '--app', 'Web', '--yes'],
    code: USAGE,
    message: /Invalid app name "Web"/,
  },

  // --- deploy.json ---------------------------------------------------------------------------------
  {
    name: 'deploy.json with a syntax error (a trailing comma)',
    setup: (f) => f.side('json-comma', { 'deploy.json': '{\n  "app": "x",\n  "ports": ["8080:80"],\n}\n' }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:4:1: Expected a property name in double quotes, found "}"/,
    hint: /Fix the JSON in deploy\.json/,
  },
  {
    name: 'deploy.json cut short',
    setup: (f) => f.side('json-cut', { 'deploy.json': '{\n  "app": "x",\n  "ports": ["8080:80"\n' }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:4:1: Expected "," or "]" in array, found end of file/,
  },
  {
    name: 'deploy.json with a duplicate key',
    setup: (f) => f.side('json-dup', { 'deploy.json': '{\n  "app": "x",\n  "retention": 3,\n  "retention": 5\n}\n' }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:4:3: Duplicate key \$\.retention \(first at line 3, column 3\)/,
    hint: /Fix the JSON in deploy\.json/,
  },
  {
    name: 'deploy.json larger than 256 KiB',
    setup: (f) => f.side('json-big', { 'deploy.json': `${goodJson(f, {})}${' '.repeat(300 * 1024)}\n` }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json is 300 KiB, larger than the 256 KiB a deploy\.json may be/,
    hint: /holds the app's settings only/,
  },
  {
    name: 'deploy.json with a "__proto__" key',
    setup: (f) =>
      f.side('json-proto', { 'deploy.json': goodJson(f, {}).replace('{', '{\n  "__proto__": {"retention": 1},') }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:2:\d+: \$\.__proto__: unknown key "__proto__"/,
  },
  {
    name: 'deploy.json with an unknown key',
    setup: (f) => f.side('json-key', { 'deploy.json': goodJson(f, { port: ['8080:80'] }) }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:\d+:\d+: \$\.port: unknown key "port"/,
    hint: /Did you mean "ports"\?/,
  },
  {
    name: 'deploy.json with a transposed key',
    setup: (f) => f.side('json-prots', { 'deploy.json': goodJson(f, { prots: ['8080:80'] }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.prots: unknown key "prots"/,
    hint: /Did you mean "ports"\?/,
  },
  {
    name: 'deploy.json with an unknown nested key',
    setup: (f) => f.side('json-nested', { 'deploy.json': goodJson(f, { healthCheck: { path: '/', tiemout: '5s' } }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.healthCheck\.tiemout: unknown key "tiemout"/,
    hint: /Did you mean "timeout"\?/,
  },
  {
    name: 'deploy.json with a key nothing resembles',
    setup: (f) => f.side('json-far', { 'deploy.json': goodJson(f, { sidecars: [] }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.sidecars: unknown key "sidecars"/,
    hint: /Known keys: app, dockerfile/,
  },
  {
    name: 'deploy.json with a wrong type',
    setup: (f) => f.side('json-type', { 'deploy.json': goodJson(f, { retention: 'five' }) }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:\d+:\d+: \$\.retention: expected a whole number from 1 to 1000/,
  },
  {
    name: 'deploy.json with ports that is not a list',
    setup: (f) => f.side('json-ports-type', { 'deploy.json': goodJson(f, { ports: '8080:80' }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.ports: expected an array of strings such as "8080:80", found a string/,
  },
  {
    name: 'deploy.json with a bad port inside ports (line and path)',
    setup: (f) => f.side('json-port', { 'deploy.json': '{\n  "ports": [\n    "8080:80",\n    "70000:80"\n  ]\n}\n' }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:4:5: \$\.ports\[1\]: Port 70000 in "70000:80" is out of range \(1-65535\)/,
  },
  {
    name: 'deploy.json with healthCheck.timeout "soon"',
    setup: (f) =>
      f.side('json-timeout', { 'deploy.json': goodJson(f, { healthCheck: { path: '/', timeout: 'soon' } }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.healthCheck\.timeout: Invalid duration "soon"/,
    hint: /Write a duration such as "30s"/,
  },
  {
    name: 'deploy.json with a bad env name',
    setup: (f) => f.side('json-env', { 'deploy.json': goodJson(f, { env: { '1BAD': 'x' } }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.env\["1BAD"\]: Invalid environment variable name "1BAD"/,
  },
  {
    name: 'deploy.json that is not an object',
    setup: (f) => f.side('json-array', { 'deploy.json': '["8080:80"]\n' }),
    args: deployAt,
    code: CONFIG,
    message: /deploy\.json:1:1: \$: expected an object, found an array/,
  },
  {
    name: 'deploy.json with a dockerfile outside the app',
    setup: (f) => f.side('json-escape', { 'deploy.json': goodJson(f, { dockerfile: '../../etc/Dockerfile' }) }),
    args: deployAt,
    code: CONFIG,
    message: /\$\.dockerfile: "\.\.\/\.\.\/etc\/Dockerfile" must be a relative path inside the app's directory/,
  },

  // --- env -----------------------------------------------------------------------------------------
  {
    name: 'an env name starting with a digit',
    args: (f) => ['deploy', '--app', f.good, '--env', '1BAD=x'],
    code: USAGE,
    message: /Invalid environment variable name "1BAD" in --env/,
    hint: /letters, digits and "_"/,
  },
  {
    name: 'an env assignment without a name',
    args: (f) => ['deploy', '--app', f.good, '--env', '=x'],
    code: USAGE,
    message: /Invalid --env: the name is missing before "=" \(the value is not shown\)/,
    hint: /KEY=VALUE/,
  },
  {
    name: 'a secret without a name, its value never echoed',
    args: (f) => ['deploy', '--app', f.good, '--secret', '=s3cr3t-never-shown'],
    code: USAGE,
    message: /^(?![\s\S]*s3cr3t-never-shown)[\s\S]*the name is missing/,
  },
  {
    name: 'an env name with a dash',
    args: (f) => ['deploy', '--app', f.good, '-e', 'BAD-NAME=x'],
    code: USAGE,
    message: /Invalid environment variable name "BAD-NAME"/,
  },
  {
    name: 'a non-ASCII env name',
    args: (f) => ['deploy', '--app', f.good, '-e', 'CAFÉ=x'],
    code: USAGE,
    message: /Invalid environment variable name "CAFÉ"/,
  },
  {
    name: 'an env name alone that is not set in the environment',
    args: (f) => ['deploy', '--app', f.good, '--env', 'UNSET_VAR_NAME'],
    code: USAGE,
    message: /--env UNSET_VAR_NAME names a variable that is not set in your environment/,
    hint: /export UNSET_VAR_NAME/,
  },
  {
    name: 'an env value of 100 KiB',
    args: (f) => ['deploy', '--app', f.good, '--env', `BIG=${KIB100}`],
    code: USAGE,
    message: /The value of BIG in --env is longer than 64 KiB/,
    hint: /file inside the image/,
  },
  {
    name: 'an env file that does not exist',
    args: (f) => ['deploy', '--app', f.good, '--env-file', join(f.scratch, 'missing.env')],
    code: USAGE,
    message: /Cannot read the env file .*missing\.env: it does not exist/,
    hint: /KEY=VALUE file/,
  },
  {
    name: 'an env file with a line that is not KEY=VALUE',
    setup: (f) => {
      const path = join(f.scratch, 'bad.env');
      writeFileSync(path, 'GOOD=1\n# a comment\njust some words\n');
      return path;
    },
    args: (f, path) => ['deploy', '--app', f.good, '--env-file', path],
    code: USAGE,
    message: /Invalid line in .*bad\.env:3: expected KEY=VALUE/,
  },
  {
    name: 'config set of a bad env name',
    args: (f) => ['config', 'set', '1BAD=x', '--app', f.good],
    code: USAGE,
    message: /Invalid environment variable name "1BAD"/,
  },
  {
    name: 'config set of a misspelt setting (port=)',
    args: (f) => ['config', 'set', 'port=8080:80', '--app', f.good],
    code: CONFIG,
    message: /port is not a setting deploy knows/,
    hint: /Did you mean ports\? \(To set an environment variable of that name, pass --env\.\)/,
  },
  {
    name: 'config set of a setting in the wrong case (Ports=)',
    args: (f) => ['config', 'set', 'Ports=8080:80', '--app', f.good],
    code: CONFIG,
    message: /Ports is not a setting deploy knows/,
    hint: /Did you mean ports\?/,
  },
  {
    name: 'config set of a misspelt nested setting (healthCheck.tiemout=)',
    args: (f) => ['config', 'set', 'healthCheck.tiemout=30s', '--app', f.good],
    code: CONFIG,
    message: /healthCheck\.tiemout is not a setting deploy knows/,
    hint: /Did you mean healthCheck\.timeout\?/,
  },
  {
    name: 'config set --app of an app this store does not know, outside its repository',
    args: (f) => ['config', 'set', 'GREETING=hi', '--app', f.unknown],
    cwd: (f) => f.plainDir,
    code: NOT_FOUND,
    message: /There is no app named \S+ in this store\./,
    hint: /Deploy it first \(deploy deploy --app \S+\), or check the name with: deploy ls/,
  },
  {
    name: 'config set without "="',
    args: (f) => ['config', 'set', 'GREETING', '--app', f.good],
    code: USAGE,
    message: /Invalid assignment "GREETING": expected KEY=VALUE/,
    hint: /deploy config set GREETING=hi/,
  },
  {
    name: 'config set without a name',
    args: (f) => ['config', 'set', '=x', '--app', f.good],
    code: USAGE,
    message: /Invalid assignment "=x"/,
  },
  {
    name: 'config set of a 100 KiB value',
    args: (f) => ['config', 'set', `BIG=${KIB100}`, '--app', f.good],
    code: USAGE,
    message: /The value of BIG in deploy config set is longer than 64 KiB/,
  },
  {
    name: 'config set of a non-ASCII value (accepted, and it round-trips)',
    // Before the app's first deploy, from inside its repository (where its name comes from its deploy.json).
    setup: (f) => {
      const r = f.newRepo();
      r.commit('the unicode app', { 'deploy.json': JSON.stringify({ app: f.unicode }) });
      return r.dir;
    },
    cwd: (_f, dir) => dir,
    args: (f) => ['config', 'set', `GREETING=${NON_ASCII}`, '--app', f.unicode],
    code: EXIT_CODES.ok,
    message: /^$/,
    outcome: 'accepted',
    check: async (f, plain, json) => {
      expect(plain.stdout).toBe(`Set GREETING for ${f.unicode}.\n`);
      expect(json.json()).toEqual({
        scope: { app: f.unicode },
        set: [{ key: 'GREETING', kind: 'env', secret: false }],
      });
      const get = await cli(['config', 'get', 'GREETING', '--app', f.unicode], { env: { DEPLOY_HOME: f.home } });
      expect([get.code, get.stdout]).toEqual([0, `${NON_ASCII}\n`]);
      const getJson = await cli(['config', 'get', 'GREETING', '--app', f.unicode, '--json'], {
        env: { DEPLOY_HOME: f.home },
      });
      expect(getJson.json()).toEqual({ key: 'GREETING', value: NON_ASCII, origin: 'app', secret: false });
    },
  },

  // --- ports -----------------------------------------------------------------------------------------
  {
    name: 'a port without a host port (80)',
    args: (f) => ['deploy', '--app', f.good, '-p', '80'],
    code: USAGE,
    message: /Invalid port "80"/,
    hint: /\[IP:\]HOST:CONTAINER/,
  },
  {
    name: 'a port that is not numbers (a:b)',
    args: (f) => ['deploy', '--app', f.good, '-p', 'a:b'],
    code: USAGE,
    message: /Invalid host port "a" in "a:b"/,
  },
  {
    name: 'a port out of range (70000:80)',
    args: (f) => ['deploy', '--app', f.good, '-p', '70000:80'],
    code: USAGE,
    message: /Port 70000 in "70000:80" is out of range \(1-65535\)/,
  },
  {
    name: 'port 0 (0:80)',
    args: (f) => ['deploy', '--app', f.good, '-p', '0:80'],
    code: USAGE,
    message: /Port 0 in "0:80" is out of range/,
  },
  {
    name: 'a bad host address (1.2.3.999:80:80)',
    args: (f) => ['deploy', '--app', f.good, '-p', '1.2.3.999:80:80'],
    code: USAGE,
    message: /Invalid host address "1\.2\.3\.999" in port "1\.2\.3\.999:80:80"/,
  },
  {
    name: 'an unknown protocol (8080:80/sctp)',
    args: (f) => ['deploy', '--app', f.good, '-p', '8080:80/sctp'],
    code: USAGE,
    message: /Invalid protocol "sctp" in port "8080:80\/sctp"/,
  },
  {
    name: 'the same host port twice',
    args: (f) => ['deploy', '--app', f.good, '-p', '8080:80', '-p', '8080:81'],
    code: USAGE,
    message: /Ports 8080:80 and 8080:81 bind the same host port/,
  },
  {
    name: 'config set of a port out of range',
    args: (f) => ['config', 'set', 'ports=70000:80', '--app', f.good],
    code: CONFIG,
    message: /\$\.ports\[0\]: Port 70000 in "70000:80" is out of range/,
  },
  {
    name: 'config set of a health-check port out of range',
    args: (f) => ['config', 'set', 'healthCheck.port=99999', '--app', f.good],
    code: CONFIG,
    message: /\$\.healthCheck\.port: expected a port number \(1-65535\)/,
  },
  {
    name: 'config set of retention that is not a number',
    args: (f) => ['config', 'set', 'retention=abc', '--app', f.good],
    code: CONFIG,
    message: /retention must be a whole number, not "abc"/,
  },

  // --- durations -------------------------------------------------------------------------------------
  {
    name: 'ls --since banana',
    args: () => ['ls', '--since', 'banana'],
    code: USAGE,
    message: /Invalid --since "banana"/,
    hint: /10m, 24h, 30d/,
  },
  {
    name: 'stats --since banana',
    args: () => ['stats', '--since', 'banana'],
    code: USAGE,
    message: /Invalid --since "banana"/,
  },
  {
    name: 'logs --since banana',
    args: (f) => ['logs', f.good, '--since', 'banana'],
    code: USAGE,
    message: /Invalid --since "banana"/,
  },
  {
    name: 'an impossible date (--since 2026-13-45)',
    args: () => ['ls', '--since', '2026-13-45'],
    code: USAGE,
    message: /Invalid --since date "2026-13-45"/,
    hint: /ISO 8601/,
  },
  {
    name: 'a window too long (--since 99999d)',
    args: () => ['stats', '--since', '99999d'],
    code: USAGE,
    message: /Invalid --since "99999d"/,
  },
  {
    name: 'a negative timeout (--health-timeout -5s)',
    args: (f) => ['deploy', '--app', f.good, '--health-timeout', '-5s'],
    code: USAGE,
    message: /Invalid --health-timeout "-5s"/,
    hint: /30s, 10m/,
  },
  {
    name: 'a timeout without a unit it knows (--health-timeout 5 minutes)',
    args: (f) => ['deploy', '--app', f.good, '--health-timeout', '5 minutes'],
    code: USAGE,
    message: /Invalid --health-timeout "5 minutes"/,
  },
  {
    name: 'an absurd lock wait (--lock-wait 99999d)',
    args: (f) => ['--lock-wait', '99999d', 'deploy', '--app', f.good],
    code: USAGE,
    message: /The --lock-wait "99999d" is too long \(at most 3650d\)/,
  },
  {
    name: 'config set of healthCheck.timeout=soon',
    args: (f) => ['config', 'set', 'healthCheck.timeout=soon', '--app', f.good],
    code: CONFIG,
    message: /\$\.healthCheck\.timeout: Invalid duration "soon"/,
  },

  // --- other bad values ------------------------------------------------------------------------------
  {
    name: 'a memory limit that is not a size (--memory lots)',
    args: (f) => ['deploy', '--app', f.good, '--memory', 'lots'],
    code: CONFIG,
    message: /\$\.memory: "lots" is not a size/,
    hint: /512m, 1g/,
  },
  {
    name: 'a --set of no setting (--set memroy=1g)',
    args: (f) => ['deploy', '--app', f.good, '--set', 'memroy=1g'],
    code: USAGE,
    message: /--set "memroy=1g": memroy is not a setting/,
    hint: /--set memory=512m/,
  },
  {
    name: 'a build secret from a variable that is not set',
    args: (f) => ['deploy', '--app', f.good, '--build-secret', 'id=tok,env=DEPLOY_TEST_UNSET'],
    code: USAGE,
    message: /Build secret "tok": the environment variable DEPLOY_TEST_UNSET is not set/,
  },
  {
    name: 'a build secret from a file that is not there',
    args: (f) => ['deploy', '--app', f.good, '--build-secret', `id=npmrc,src=${f.scratch}/missing`],
    code: USAGE,
    message: /Build secret "npmrc": there is no file \S+missing/,
  },
  {
    name: 'a build target the Dockerfile does not have (--target nope)',
    args: (f) => ['deploy', '--app', f.good, '--target', 'nope'],
    code: CONFIG,
    message: /Dockerfile has no stage named nope/,
    hint: /name after AS/,
  },
  {
    name: 'a network the engine does not have',
    args: (f) => ['deploy', '--app', f.good, '--set', `networks=${f.unknown}-net`],
    code: CONFIG,
    message: /The network \S+-net does not exist on the engine/,
    hint: /docker network create/,
  },
  {
    name: 'host networking (config set networks=host)',
    args: (f) => ['config', 'set', 'networks=host', '--app', f.good],
    code: CONFIG,
    message: /\$\.networks: host networking is not supported/,
  },
  {
    name: "a label in the tool's own namespace",
    args: (f) => ['config', 'set', 'labels.dev.deploy.app=x', '--app', f.good],
    code: CONFIG,
    message: /labels starting with dev\.deploy\. are the tool's own/,
  },
  {
    name: 'a restart policy with 0 retries',
    args: (f) => ['config', 'set', 'restart=on-failure:0', '--app', f.good],
    code: CONFIG,
    message: /\$\.restart: expected one of no, always, unless-stopped, on-failure, on-failure:N/,
  },
  {
    name: 'a health path without "/"',
    args: (f) => ['deploy', '--app', f.good, '--health-path', 'healthz'],
    code: USAGE,
    message: /--health-path "healthz" must start with "\/"/,
  },
  {
    name: 'an unknown status',
    args: () => ['ls', '--status', 'online'],
    code: USAGE,
    message: /Unknown status "online"/,
    hint: /Statuses: queued, building/,
  },
  {
    name: 'a limit of 0',
    args: () => ['ls', '--limit', '0'],
    code: USAGE,
    message: /--limit must be a whole number of at least 1, not "0"/,
  },
  {
    name: 'a negative tail',
    args: (f) => ['logs', f.good, '--tail', '-1'],
    code: USAGE,
    message: /--tail must be a number of lines or "all", not "-1"/,
  },
  {
    name: 'steps of 0',
    args: (f) => ['rollback', f.good, '--steps', '0', '--yes'],
    code: USAGE,
    message: /--steps must be a whole number from 1 to 1000, not "0"/,
  },
  {
    name: 'an unsupported engine URL',
    args: () => ['-H', 'ftp://example.test', 'sync'],
    code: USAGE,
    message: /Unsupported Docker host "ftp:\/\/example\.test" \(ftp\)/,
    hint: /unix:\/\/, tcp:\/\//,
  },
  {
    name: 'an unsupported engine URL for a command that needs no engine',
    args: () => ['-H', 'ftp://example.test', 'ls'],
    code: USAGE,
    message: /Unsupported Docker host "ftp:\/\/example\.test"/,
  },

  // --- sources ---------------------------------------------------------------------------------------
  {
    name: 'a path that is not a Git repository',
    args: (f) => ['deploy', f.plainDir, '--app', f.good],
    code: SOURCE,
    message: /is not inside a Git repository/,
    hint: /git init/,
  },
  {
    name: 'a path that does not exist',
    args: (f) => ['deploy', join(f.plainDir, 'nowhere'), '--app', f.good],
    code: SOURCE,
    message: /nowhere is not a directory/,
  },
  {
    name: 'a ref that does not exist',
    args: (f) => ['deploy', '--app', f.good, '--ref', 'no-such-branch'],
    code: SOURCE,
    message: /The ref "no-such-branch" does not exist in /,
    hint: /git branch -a/,
  },
  {
    name: 'a commit that does not exist',
    args: (f) => ['deploy', '--app', f.good, '--ref', 'deadbeefdeadbeef'],
    code: SOURCE,
    message: /The ref "deadbeefdeadbeef" does not exist/,
  },
  {
    name: 'a ref that looks like an option',
    args: (f) => ['deploy', '--app', f.good, '--ref', '--output=/tmp/x'],
    code: SOURCE,
    message: /The ref "--output=\/tmp\/x" does not exist/,
  },
  {
    name: 'a very long ref (5000 characters)',
    args: (f) => ['deploy', '--app', f.good, '--ref', 'r'.repeat(5000)],
    code: USAGE,
    message: /--ref is 5000 characters long/,
  },
  {
    name: 'a repository with no commits',
    setup: (f) => f.newRepo().dir,
    args: (f, dir) => ['deploy', dir, '--app', f.good],
    code: SOURCE,
    message: /has no commits yet/,
    hint: /Commit your app first/,
  },
  {
    name: 'uncommitted changes',
    setup: (f) => {
      const r = f.newRepo();
      r.commit('an app', webApp('dirty'));
      r.write({ 'index.html': 'not committed\n' });
      return r.dir;
    },
    args: (f, dir) => ['deploy', dir, '--app', f.good],
    code: SOURCE,
    message: /has uncommitted changes to tracked files \(index\.html\)/,
    hint: /--allow-dirty/,
  },
  {
    name: 'a missing Dockerfile',
    setup: (f) => f.side('no-dockerfile', {}, ['Dockerfile']),
    args: deployAt,
    code: CONFIG,
    message: /There is no Dockerfile in commit [0-9a-f]{7} of /,
    hint: /Add a Dockerfile there/,
  },
  {
    name: 'a Dockerfile that deploy.json names and the commit lacks',
    setup: (f) => f.side('other-dockerfile', { 'deploy.json': goodJson(f, { dockerfile: 'docker/Dockerfile.prod' }) }),
    args: deployAt,
    code: CONFIG,
    message: /There is no docker\/Dockerfile\.prod in commit/,
  },
  {
    name: 'a Dockerfile that fails',
    setup: (f) => f.side('fails', { Dockerfile: 'FROM busybox:1.36\nRUN echo "this build breaks" && exit 3\n' }),
    args: deployAt,
    code: EXIT_CODES.build_failed,
    message: /exit code: 3|returned a non-zero code: 3/,
    outcome: 'failed-deployment',
    check: async (_f, plain) => {
      expect(plain.stderr).toContain('this build breaks');
      expect(plain.stderr).toMatch(/deploy logs [a-z2-9]{8} --build/);
    },
  },
  {
    name: 'a URL that cannot be cloned (no such repository)',
    args: (f) => ['deploy', 'file:///nonexistent/nowhere.git', '--app', f.good],
    code: SOURCE,
    message: /file:\/\/\/nonexistent\/nowhere\.git/,
  },
  {
    name: 'a URL that cannot be cloned (nothing listens)',
    args: (f) => ['deploy', 'http://127.0.0.1:1/app.git', '--app', f.good],
    code: SOURCE,
    message: /127\.0\.0\.1:1/,
  },
  {
    name: 'a submodule whose commit is nowhere',
    setup: (f) => {
      const lib = f.newRepo();
      lib.commit('lib', { 'lib.txt': 'lib\n' });
      f.repo.git('checkout', '-q', '-b', 'side/submodule', 'main');
      f.repo.git('config', '-f', '.gitmodules', 'submodule.vendor/lib.path', 'vendor/lib');
      f.repo.git('config', '-f', '.gitmodules', 'submodule.vendor/lib.url', lib.dir);
      f.repo.git('update-index', '--add', '--cacheinfo', `160000,${'c0ffee'.padEnd(40, '0')},vendor/lib`);
      // Its directory empty, as a clone that did not check it out has it (commit() adds all).
      mkdirSync(join(f.repo.dir, 'vendor/lib'), { recursive: true });
      const sha = f.repo.commit('a submodule at a commit no repository has');
      expect(f.repo.git('ls-tree', sha, 'vendor/lib')).toMatch(/^160000 commit c0ffee0/);
      f.repo.git('checkout', '-q', 'main');
      return sha;
    },
    args: deployAt,
    code: SOURCE,
    message: /The submodule vendor\/lib is at commit c0ffee0, which neither this repository's checkout nor \S+ has\./,
    hint: /Push commit c0ffee0 of vendor\/lib to /,
  },

  // --- conflicting flags -----------------------------------------------------------------------------
  {
    name: '--allow-dirty with --ref',
    args: (f) => ['deploy', '--app', f.good, '--allow-dirty', '--ref', 'main'],
    code: USAGE,
    message: /--allow-dirty ships the working tree, so it cannot be combined with --ref/,
    hint: /Drop --ref/,
  },
  {
    name: '--to with --steps',
    args: (f) => ['rollback', f.good, '--to', `${f.good}@v1`, '--steps', '2', '--yes'],
    code: USAGE,
    message: /--to and --steps both choose the target; give one of them/,
  },
  {
    name: 'a target given twice (an id and --to)',
    args: () => ['rollback', 'qqqa2345', '--to', 'qqqb2345', '--yes'],
    code: USAGE,
    message: /Give the target once: either qqqa2345 or --to\/--steps/,
  },
  {
    name: '--global with --app (config set)',
    args: (f) => ['config', 'set', 'FOO=bar', '--global', '--app', f.good],
    code: USAGE,
    message: /--global and --app cannot be used together/,
    hint: /--app NAME for one app, --global for every app/,
  },
  {
    name: '--global with --app (config list)',
    args: (f) => ['config', 'list', '--global', '--app', f.good],
    code: USAGE,
    message: /--global and --app cannot be used together/,
  },
  {
    name: '--global with --app (config get)',
    args: (f) => ['config', 'get', 'GREETING', '--global', '--app', f.good],
    code: USAGE,
    message: /--global and --app cannot be used together/,
  },
  {
    name: '--global with --app (config unset)',
    args: (f) => ['config', 'unset', 'GREETING', '--global', '--app', f.good],
    code: USAGE,
    message: /--global and --app cannot be used together/,
  },
  {
    name: '--secret for a setting',
    args: (f) => ['config', 'set', 'ports=8080:80', '--secret', '--app', f.good],
    code: USAGE,
    message: /--secret applies to environment variables, and ports is a setting/,
  },
  {
    name: '--context with --host',
    args: (f) => ['--context', 'a', '--host', 'unix:///var/run/docker.sock', 'stop', f.good, '--yes'],
    code: USAGE,
    message: /give either --host or --context, not both/,
    hint: /--context NAME picks a docker context/,
  },
  {
    name: '--context with --host for a command that needs no engine',
    args: () => ['--context', 'a', '-H', 'tcp://10.0.0.5:2376', 'ls'],
    code: USAGE,
    message: /give either --host or --context, not both/,
  },
  {
    name: '--build with --follow',
    args: (f) => ['logs', f.good, '--build', '--follow'],
    code: USAGE,
    message: /--build shows the kept build output; it cannot be followed/,
  },
  {
    name: 'a command that asks, without --yes and without a terminal',
    args: (f) => ['stop', f.good],
    code: EXIT_CODES.confirmation_required,
    message: /asks for confirmation, and there is no terminal to ask on \(CI\)/,
    hint: /Pass --yes to go ahead, or --dry-run/,
  },

  // --- --json together with other flags: still one JSON document --------------------------------------
  {
    name: '--json first, with --quiet and --no-color',
    args: () => ['--json', '--quiet', '--no-color', 'inspect', 'zzzzzzzz'],
    code: NOT_FOUND,
    message: /No deployment or app matches "zzzzzzzz"/,
  },
  {
    name: '--json with --verbose',
    args: (f) => ['--verbose', '--json', 'deploy', '--app', f.good, '--ref', 'no-such-branch'],
    code: SOURCE,
    message: /The ref "no-such-branch" does not exist/,
  },
  {
    name: '--json with a flag that conflicts',
    args: (f) => ['--json', 'config', 'list', '--global', '--app', f.good],
    code: USAGE,
    message: /--global and --app cannot be used together/,
  },
];

// ------------------------------------------------------------------------------------------------------

/** When the tool last looked at an engine: written by the snapshot's own `deploy ls` (see storeDigest). */
const LOOKED_AT = new Set(['checked_at', 'answered_at', 'failed_at']);

/**
 * Every row of every table of the store, hashed: any write shows — except when the tool last looked at an engine
 * (`checked_at` of a record, `answered_at`/`failed_at` of engine_checks), which the snapshot's own `deploy ls`
 * writes once its last look is stale (a write by the snapshot, not by the command under test; seen as a rare flake
 * on whichever case crossed that minute).
 */
function storeDigest(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>;
    const hash = createHash('sha256');
    for (const { name } of tables) {
      // In a stable order whatever the table's kind (stats_stale is WITHOUT ROWID: no rowid to order by).
      const rows = db
        .prepare(`SELECT * FROM "${name}"`)
        .all()
        .map((row) =>
          JSON.stringify(row, (k, v: unknown) =>
            LOOKED_AT.has(k) ? undefined : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
          ),
        )
        .sort();
      hash.update(`${name}:${rows.length}\n`);
      for (const row of rows) hash.update(row);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

/** GET on the local engine's API (faster than the docker CLI, which a snapshot would run per case). */
function engineApi<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: '/var/run/docker.sock', path, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T));
    });
    req.on('timeout', () => req.destroy(new Error(`engine API ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

describe('bad input: a clear message, its exit code, and nothing changes', () => {
  const home = tempHome();
  const repo = new TempRepo('deploy-bad-input-');
  const extraRepos: TempRepo[] = [];
  const plainDir = mkdtempSync(join(tmpdir(), 'deploy-not-a-repo-'));
  const scratch = mkdtempSync(join(tmpdir(), 'deploy-bad-input-files-'));
  const f: Fixture = {
    home: home.dir,
    repo,
    good: testApp('bad'),
    port: 0,
    seeded: testApp('seed'),
    unknown: testApp('nope'),
    unicode: testApp('uni'),
    plainDir,
    scratch,
    side(name, files, remove = []) {
      repo.git('checkout', '-q', '-b', `side/${name}`, 'main');
      repo.write(files);
      if (remove.length > 0) repo.git('rm', '-q', '--', ...remove);
      const sha = repo.commit(name);
      repo.git('checkout', '-q', 'main');
      return sha;
    },
    newRepo() {
      const r = new TempRepo('deploy-bad-input-');
      extraRepos.push(r);
      return r;
    },
  };
  const apps = [f.good, f.seeded, f.unknown, f.unicode];
  const env = { DEPLOY_HOME: home.dir };
  const run = (argv: string[], cwd = repo.dir, extraEnv: Record<string, string> = {}) =>
    cli(argv, { cwd, env: { ...env, ...extraEnv } });

  /** Everything a bad input must leave alone. */
  async function snapshot() {
    const containers =
      await engineApi<Array<{ Names: string[]; State: string; Labels: Record<string, string> }>>(
        '/containers/json?all=1',
      );
    const images =
      await engineApi<Array<{ RepoTags: string[] | null; Labels: Record<string, string> | null }>>('/images/json');
    const ours = (labels: Record<string, string> | null, names: string[]) =>
      apps.includes(labels?.['dev.deploy.app'] ?? '') || names.some((n) => apps.some((a) => n.includes(a)));
    let globalFile: string | null;
    try {
      globalFile = readFileSync(join(home.dir, 'config.json'), 'utf8');
    } catch {
      globalFile = null; // not written yet
    }
    return {
      ls: (await run(['ls', '--json'])).stdout,
      appConfig: (await run(['config', 'list', '--app', f.good, '--json'])).stdout,
      globalConfig: (await run(['config', 'list', '--global', '--json'])).stdout,
      globalFile,
      store: storeDigest(join(home.dir, 'deploy.db')),
      // The good app's containers, as containersOf(app) lists them (the engine API answers faster than the CLI).
      goodContainers: containers
        .filter((c) => c.Labels['dev.deploy.app'] === f.good)
        .map((c) => ({ name: (c.Names[0] ?? '').replace(/^\//, ''), state: c.State })),
      engine: {
        containers: containers
          .filter((c) => ours(c.Labels, c.Names))
          .map((c) => `${c.Names.join(',')} ${c.State}`)
          .sort(),
        images: images
          .filter((i) => ours(i.Labels, i.RepoTags ?? []))
          .map((i) => (i.RepoTags ?? []).join(','))
          .sort(),
      },
    };
  }

  let goodRelease: PublicRecord;

  beforeAll(async () => {
    f.port = await freePort();
    // Two records whose ids share a prefix, so "qqq" is ambiguous.
    const store = Store.open(join(home.dir, 'deploy.db'));
    ['qqqa2345', 'qqqb2345'].forEach((id, n) => {
      store.createDeployment(
        newDeployment({
          id,
          app: f.seeded,
          createdAt: Date.UTC(2026, 0, 1 + n),
          status: 'superseded',
          image: `deploy/${f.seeded}:${id}`,
        }),
      );
    });
    store.close();

    repo.commit('the good app', webApp('good', { deployJson: JSON.parse(goodJson(f, {})) as unknown }));
    expect((await run(['config', 'set', 'GREETING=hello', '--app', f.good])).code).toBe(0);
    expect((await run(['config', 'set', 'API_KEY=s3cr3t', '--secret', '--app', f.good])).code).toBe(0);
    const r = await run(['deploy', '--json']);
    expect(r.stderr).not.toContain('Internal error');
    expect(r.code).toBe(0);
    goodRelease = r.json<PublicRecord>();
    expect(goodRelease).toMatchObject({ app: f.good, status: 'running', version: 1 });
    expect(await fetchText(f.port)).toBe('good');
    expect((await snapshot()).goodContainers).toEqual(containersOf(f.good));
  });

  afterAll(() => {
    removeApps(apps);
    repo.remove();
    for (const r of extraRepos) r.remove();
    rmSync(plainDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
    home.remove();
  });

  it.for(cases)('$name', async (c, { task }) => {
    const outcome = c.outcome ?? 'unchanged';
    const outcomeWords = {
      unchanged: 'nothing changes',
      'failed-deployment': 'one failed deployment recorded per run',
      accepted: 'accepted',
    }[outcome];
    const happened = fault(
      task,
      `exit ${c.code}; ${outcome === 'accepted' ? '' : `says ${c.message.source}; `}${outcomeWords}`,
    );
    const state = c.setup?.(f) ?? '';
    const argv = c.args(f, state);
    const cwd = c.cwd?.(f, state) ?? repo.dir;

    /** Runs argv once; checks what it said and what it changed (it must be nothing, except as the outcome allows). */
    const runOnce = async (args: string[]): Promise<CliResult> => {
      const before = await snapshot();
      const r = await run(args, cwd, c.env);
      const after = await snapshot();

      // The exit code, the message, and no stack trace unless asked for.
      expect(r.stderr, 'a bug, not a refusal').not.toMatch(/Internal error/);
      expect(r.code, r.stderr).toBe(c.code);
      if (outcome !== 'accepted') expect(r.stderr).toMatch(c.message);
      if (c.hint) expect(r.stderr).toMatch(c.hint);
      if (!args.includes('--verbose')) expect(r.stderr).not.toMatch(/^\s+at /m);

      if (!args.includes('--json')) {
        if (outcome !== 'accepted') expect(r.stdout, 'a refusal prints nothing on stdout').toBe('');
      } else {
        // Exactly one JSON document on stdout (JSON.parse refuses anything before or after it).
        const doc = r.json<Record<string, unknown>>();
        if (outcome === 'unchanged') {
          expect(Object.keys(doc)).toEqual(['error']);
          const error = doc.error as { code: string; exitCode: number; message: string; hint?: string };
          expect(error.exitCode).toBe(c.code);
          expect(EXIT_CODES[error.code as keyof typeof EXIT_CODES]).toBe(c.code);
          expect(error.message).toMatch(c.message);
          if (c.hint) expect(error.hint).toMatch(c.hint);
        } else if (outcome === 'failed-deployment') {
          expect(doc).toMatchObject({ app: f.good, status: 'failed', error: { code: 'build_failed' } });
          expect((doc as unknown as PublicRecord).error?.message).toMatch(c.message);
        }
      }

      // Nothing changed: the store, the user-wide settings, the engine; and the good release still answers.
      expect(after.appConfig).toBe(before.appConfig);
      expect(after.globalConfig).toBe(before.globalConfig);
      expect(after.globalFile).toBe(before.globalFile);
      expect(after.goodContainers).toEqual(before.goodContainers);
      expect(after.goodContainers).toEqual([{ name: goodRelease.containerName, state: 'running' }]);
      expect(after.engine).toEqual(before.engine);
      expect(await fetchText(f.port)).toBe('good');
      if (outcome === 'failed-deployment') {
        // Exactly one new record, failed; every other record as it was.
        const was = JSON.parse(before.ls) as PublicRecord[];
        const now = JSON.parse(after.ls) as PublicRecord[];
        const added = now.filter((d) => !was.some((w) => w.id === d.id));
        expect(added.map((d) => [d.app, d.status, d.error?.code])).toEqual([[f.good, 'failed', 'build_failed']]);
        expect(added[0]?.error?.message).toMatch(c.message);
        expect(now.filter((d) => was.some((w) => w.id === d.id))).toEqual(was);
      } else {
        expect(after.ls).toBe(before.ls);
        if (outcome === 'unchanged') expect(after.store).toBe(before.store);
      }
      return r;
    };

    const plain = await runOnce(argv.filter((a) => a !== '--json'));
    const json = await runOnce(argv.includes('--json') ? argv : [...argv, '--json']);
    await c.check?.(f, plain, json);
    const said = plain.stderr.split('\n').find((l) => l.startsWith('Error:')) ?? plain.stderr.split('\n')[0] ?? '';
    happened(`exit ${plain.code}: ${said}`);
  });
});
