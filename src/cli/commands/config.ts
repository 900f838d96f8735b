import { displaySetting } from '../../core/config-keys.js';
import { keyOf, readSetting, SETTINGS } from '../../core/setting-table.js';
import { DeployError } from '../../core/errors.js';
import { assertAppName } from '../../core/ids.js';
import { SECRET_MASK } from '../../core/record-view.js';
import type { DeployConfig } from '../../core/types.js';
import type { Context } from '../../context.js';
import type { Handler } from '../handler.js';
import type { ConfigSetOptions, ConfigUnsetOptions, ScopedOptions } from './config.command.js';
import {
  effectiveConfig,
  parseAssignment,
  scopeOf,
  setConfig,
  unsetConfig,
  type EffectiveConfig,
} from '../../services/app-config.js';
import { appFromDirectory, appOfDirectory } from '../../services/source.js';
import { askSecret } from '../../ui/confirm.js';
import { plainTable, terminalTable } from '../../ui/table.js';
import { oneLine } from '../../ui/text.js';

interface Entry {
  key: string;
  value: unknown;
  display: string;
  origin: string;
  secret: boolean;
}

/** The effective configuration as rows: env vars, build args, then settings, each with its origin. */
function entries(config: DeployConfig, origins: Record<string, string>): Entry[] {
  const out: Entry[] = [];
  for (const [k, v] of Object.entries(config.env).sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.push({
      key: k,
      value: v.secret ? SECRET_MASK : v.value,
      display: v.secret ? `${SECRET_MASK} (secret)` : oneLine(v.value),
      origin: origins[`env.${k}`] ?? 'default',
      secret: v.secret,
    });
  }
  for (const [k, v] of Object.entries(config.buildArgs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.push({
      key: `buildArgs.${k}`,
      value: v,
      display: v,
      origin: origins[`buildArgs.${k}`] ?? 'default',
      secret: false,
    });
  }
  for (const d of SETTINGS) {
    if (d.notInSnapshot) continue;
    const value = readSetting(config, d);
    if (d.map) {
      for (const [k, v] of Object.entries(value as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (d.name !== 'buildArgs')
          out.push({
            key: `${d.name}.${k}`,
            value: v,
            display: oneLine(v),
            origin: origins[`${d.name}.${k}`] ?? 'default',
            secret: false,
          });
      }
      continue;
    }
    const key = keyOf(d);
    out.push({
      key,
      value: d.json ? d.json(value) : value,
      display: displaySetting(key, value),
      origin: origins[key] ?? 'default',
      secret: false,
    });
  }
  return out;
}

/** Every effective value, the engine first. */
function allEntries(eff: EffectiveConfig): Entry[] {
  const rows = entries(eff.config, eff.origins);
  if (eff.endpoint)
    rows.unshift({
      key: 'endpoint',
      value: eff.endpoint.url,
      display: eff.endpoint.url,
      origin: eff.endpoint.source,
      secret: false,
    });
  return rows;
}

/** The app a config command is about: --app (checked), none with --global, else the current directory's. */
async function whichApp(ctx: Context, o: ScopedOptions): Promise<string | undefined> {
  if (o.global && o.app !== undefined) scopeOf(o.app, true); // refuses the pair
  if (o.app !== undefined) return assertAppName(o.app);
  if (o.global) return undefined;
  return (await appFromDirectory(ctx)) ?? undefined;
}

function applyHint(app: string): string {
  return `It takes effect at the next deploy or redeploy of ${app}. To apply it now: deploy redeploy ${app}`;
}

/**
 * `config set KEY --secret` (no "=VALUE"): the value comes from the environment variable KEY, else from
 * stdin when it is piped, else from a hidden prompt; never from the command line, where the process list
 * and the shell history would keep it.
 */
async function secretValue(ctx: Context, key: string): Promise<string> {
  const fromEnv = ctx.env[key];
  if (fromEnv !== undefined) return fromEnv;
  if (!ctx.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(Buffer.from(chunk as Buffer));
    const text = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (text !== '') return text;
  } else if (ctx.canPrompt) {
    return askSecret(ctx, `Value of ${key}`);
  }
  throw new DeployError(
    'usage',
    `No value for ${key}: give KEY=VALUE, or (for a secret) set ${key} in the environment or pipe the value on stdin.`,
  );
}

/**
 * The app `config set` writes to. An app this store has not deployed yet can be configured (its secrets set
 * before its first deploy) from inside its own repository, where the name comes from its deploy.json or
 * directory; elsewhere an unknown --app is most likely a typo, and is refused.
 */
async function appToConfigure(ctx: Context, o: ScopedOptions): Promise<string | undefined> {
  if (o.global) return whichApp(ctx, o);
  if (o.app === undefined) return (await appOfDirectory(ctx)) ?? undefined;
  const named = assertAppName(o.app);
  if (ctx.store().getApp(named) || named === (await appOfDirectory(ctx))) return named;
  throw new DeployError('not_found', `There is no app named ${named} in this store.`, {
    hint: `Deploy it first (deploy deploy --app ${named}), or check the name with: deploy ls. To configure it before its first deploy, run this inside its repository.`,
  });
}

export const set: Handler<ConfigSetOptions> = async (ctx, assignments, o) => {
  const scope = scopeOf(await appToConfigure(ctx, o), Boolean(o.global));
  if (assignments.length === 0) throw new DeployError('usage', 'Nothing to set: give KEY=VALUE (one or more).');
  const parsed = [];
  for (const a of assignments) {
    parsed.push(
      !a.includes('=') && o.secret === true ? { key: a, value: await secretValue(ctx, a) } : parseAssignment(a),
    );
  }
  const dryRun = Boolean(o.dryRun);
  const changed = await setConfig(ctx, scope, parsed, { secret: o.secret, forceEnv: Boolean(o.env), dryRun });
  const target = 'app' in scope ? scope.app : 'every app (user-wide)';
  if (ctx.reporter.json) {
    ctx.reporter.result({
      scope: 'app' in scope ? { app: scope.app } : { global: true },
      set: changed,
      ...(dryRun ? { dryRun: true } : {}),
    });
    return;
  }
  const list = changed.map((c) => `${c.key}${c.secret ? ' (secret)' : ''}`).join(', ');
  if (dryRun) {
    ctx.reporter.print(`Would set ${list} for ${target}. Dry run: nothing was changed.`);
    return;
  }
  ctx.reporter.print(`Set ${list} for ${target}.`);
  ctx.reporter.info(
    ctx.reporter.colors.dim(
      'app' in scope
        ? applyHint(scope.app)
        : 'It applies to the next deploy or redeploy of every app that does not set it itself.',
    ),
  );
};

export const unset: Handler<ConfigUnsetOptions> = async (ctx, keys, o) => {
  const scope = scopeOf(await whichApp(ctx, o), Boolean(o.global));
  if (keys.length === 0) throw new DeployError('usage', 'Nothing to unset: give one or more KEYs.');
  const dryRun = Boolean(o.dryRun);
  const result = await unsetConfig(ctx, scope, keys, { forceEnv: Boolean(o.env), dryRun });
  if (ctx.reporter.json) {
    ctx.reporter.result({
      scope: 'app' in scope ? { app: scope.app } : { global: true },
      ...result,
      ...(dryRun ? { dryRun: true } : {}),
    });
    return;
  }
  if (dryRun) {
    ctx.reporter.print(
      `${result.removed.length > 0 ? `Would unset ${result.removed.join(', ')}.` : 'Nothing to unset.'} Dry run: nothing was changed.`,
    );
    return;
  }
  if (result.removed.length > 0) ctx.reporter.print(`Unset ${result.removed.join(', ')}.`);
  if (result.absent.length > 0) ctx.reporter.info(`Not set, nothing to do: ${result.absent.join(', ')}.`);
  if (result.removed.length > 0 && 'app' in scope) ctx.reporter.info(ctx.reporter.colors.dim(applyHint(scope.app)));
};

export const get: Handler<ScopedOptions> = async (ctx, [key], o) => {
  const app = await whichApp(ctx, o);
  const entry = allEntries(await effectiveConfig(ctx, app ?? null)).find((e) => e.key === key);
  if (!entry) {
    throw new DeployError('not_found', `${key} is not set${app ? ` for ${app}` : ''}.`, {
      hint: `See every value: deploy config list${app ? ` --app ${app}` : ''}`,
    });
  }
  if (ctx.reporter.json) {
    ctx.reporter.result({ key: entry.key, value: entry.value, origin: entry.origin, secret: entry.secret });
    return;
  }
  if (entry.secret) ctx.reporter.info(`${key} is secret: its value is never shown.`);
  ctx.reporter.print(entry.secret ? SECRET_MASK : entry.display);
};

export const list: Handler<ScopedOptions> = async (ctx, _args, o) => {
  const app = await whichApp(ctx, o);
  if (!app && !o.global) {
    throw new DeployError(
      'usage',
      'Which app? Give --app NAME (or run this inside its repository), or --global for the user-wide defaults.',
    );
  }
  const eff = await effectiveConfig(ctx, app ?? null);
  const rows = allEntries(eff);
  const r = ctx.reporter;
  if (r.json) {
    r.result({
      app: eff.app,
      values: rows.map(({ key, value, origin, secret }) => ({ key, value, origin, secret })),
      notes: [eff.projectNote, eff.endpointNote].filter(Boolean),
    });
    return;
  }
  r.info(
    r.colors.dim(
      `${app ? `What the next deploy or redeploy of ${app} gets` : 'User-wide defaults'}; origin shows where each value comes from (flag > app > deploy.json > global > default).`,
    ),
  );
  const table = rows.map((e) => [e.key, e.display, e.origin]);
  r.print(
    ctx.stdout.isTTY
      ? await terminalTable(['KEY', 'VALUE', 'ORIGIN'], table, r.colors)
      : plainTable(['KEY', 'VALUE', 'ORIGIN'], table),
  );
  for (const note of [eff.projectNote, eff.endpointNote]) if (note) r.info(r.colors.dim(note));
};
