import { isSettingKey, settingsFromEntries, settingValueFromText } from '../core/config-keys.js';
import { engineLabel } from '../core/endpoint-choice.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import { endpointSetting, keepSecrets, resolveConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { parseEnvAssignment, parseEnvFile } from '../core/env.js';
import { asInterruption, DeployError, fromEngineRefusal } from '../core/errors.js';
import { assertAppName } from '../core/ids.js';
import type { ActionPlan } from '../core/action-plan.js';
import { assertNoDuplicatePorts, parsePort } from '../core/ports.js';
import { assertNoDuplicateVolumes, parseVolume } from '../core/volumes.js';
import { publicRecord } from '../core/record-view.js';
import type { Settings } from '../core/settings.js';
import type { Deployment, HealthCheck } from '../core/types.js';
import type { Context } from '../context.js';
import { layersFor } from './app-config.js';
import { buildImage } from './build.js';
import { secretsFor } from './build-secrets.js';
import { assertNetworks } from './volumes.js';
import { assertRuntimeFits, confirmRuntimeMove } from './runtime-check.js';
import { resolveEndpoint } from './engines.js';
import { lockSyncRecover } from './lock-sync-recover.js';
import { trafficFor } from './traffic/traffic.js';
import { currentDeployment } from './current.js';
import { commitRange, planGate, releasePlan } from './planning.js';
import { pruneAfterDeploy } from './retention.js';
import { assertBuildable, readProjectSettings, resolveSource } from './source.js';
import { startRecord, type Tracker } from './tracker.js';
import { quotedSubject, refAndCommit } from '../ui/text.js';

export interface DeployOptions {
  source?: string | undefined;
  app?: string | undefined;
  ref?: string | undefined;
  allowDirty?: boolean | undefined;
  port?: string[] | undefined;
  /** Volumes and bind mounts (NAME:/path, /host:/path, :ro): replace those of the other layers. */
  volume?: string[] | undefined;
  env?: string[] | undefined;
  /** Secret env vars for this deployment: KEY=VALUE, or KEY alone to take the value from the environment. */
  secret?: string[] | undefined;
  envFile?: string[] | undefined;
  noCache?: boolean | undefined;
  pull?: boolean | undefined;
  healthPath?: string | undefined;
  healthTimeout?: string | undefined;
  buildArg?: string[] | undefined;
  target?: string | undefined;
  buildSecret?: string[] | undefined;
  memory?: string | undefined;
  cpus?: string | undefined;
  /** The runtime setting (--runtime containers|swarm). */
  runtime?: string | undefined;
  /** The replicas setting (--replicas N). */
  replicas?: string | undefined;
  /** The proxy setting: --proxy (true), --no-proxy (false). */
  proxy?: boolean | undefined;
  /** The domains setting (--domain, repeatable). */
  domain?: string[] | undefined;
  /** Any setting, as `config set` writes it (KEY=VALUE). */
  set?: string[] | undefined;
  /** Show the plan (under the lock, against what serves now) and change nothing. */
  dryRun?: boolean | undefined;
  /** Go ahead without asking (a move to another runtime asks). */
  yes?: boolean | undefined;
}

/** The one-off settings a command line gives (deploy, redeploy): the strongest layer, kept with the record. */
export type OneOffOptions = Pick<
  DeployOptions,
  | 'port'
  | 'volume'
  | 'env'
  | 'secret'
  | 'envFile'
  | 'healthPath'
  | 'healthTimeout'
  | 'buildArg'
  | 'target'
  | 'buildSecret'
  | 'memory'
  | 'cpus'
  | 'runtime'
  | 'replicas'
  | 'proxy'
  | 'domain'
  | 'set'
>;

/** The flags that are settings by another name, as `--set` would write them. */
function namedSettingFlags(ctx: Context, o: OneOffOptions): Array<{ key: string; value: unknown }> {
  const entries: Array<{ key: string; value: unknown }> = [];
  for (const text of o.set ?? []) {
    const eq = text.indexOf('=');
    const key = text.slice(0, eq);
    if (eq <= 0 || !isSettingKey(key)) {
      throw new DeployError(
        'usage',
        `--set ${JSON.stringify(text)}: ${eq <= 0 ? 'expected KEY=VALUE' : `${key} is not a setting`}.`,
        {
          hint: 'For example: --set memory=512m --set init=false. deploy config --help lists the settings; environment variables go in --env.',
        },
      );
    }
    entries.push({ key, value: settingValueFromText(key, text.slice(eq + 1)) });
  }
  for (const a of o.buildArg ?? []) {
    const [k, v] = parseEnvAssignment(a, ctx.env, '--build-arg');
    entries.push({ key: `buildArgs.${k}`, value: v });
  }
  if (o.target !== undefined) entries.push({ key: 'buildTarget', value: o.target });
  if (o.memory !== undefined) entries.push({ key: 'memory', value: o.memory });
  if (o.cpus !== undefined) entries.push({ key: 'cpus', value: settingValueFromText('cpus', o.cpus) });
  if (o.runtime !== undefined) entries.push({ key: 'runtime', value: o.runtime });
  if (o.replicas !== undefined) entries.push({ key: 'replicas', value: settingValueFromText('replicas', o.replicas) });
  if (o.proxy !== undefined) entries.push({ key: 'proxy', value: o.proxy });
  if (o.domain && o.domain.length > 0) entries.push({ key: 'domains', value: o.domain });
  if (o.buildSecret && o.buildSecret.length > 0) {
    // A relative src is where the command runs: kept absolute, so a redeploy from elsewhere reads the same file.
    const absolute = o.buildSecret.map((spec) =>
      spec.replace(
        /(^|,)(src|source)=(?!\/|~\/)([^,]+)/,
        (_m, lead: string, key: string, path: string) => `${lead}${key}=${resolve(ctx.cwd, path)}`,
      ),
    );
    entries.push({ key: 'buildSecrets', value: absolute });
  }
  return entries;
}

/** What `deploy deploy` did: the deployment, or with --dry-run the plan it would have carried out. */
export type DeployOutcome = { plan: ActionPlan; deployment: null } | { plan: null; deployment: Deployment };

/** The settings the command line gives; the strongest layer. */
export function flagSettings(ctx: Context, o: OneOffOptions): Settings {
  const s: Settings = settingsFromEntries(namedSettingFlags(ctx, o), {}, 'the command line');
  if (o.port && o.port.length > 0) {
    s.ports = o.port.map(parsePort);
    assertNoDuplicatePorts(s.ports);
  }
  if (o.volume && o.volume.length > 0) {
    s.volumes = o.volume.map(parseVolume);
    assertNoDuplicateVolumes(s.volumes);
  }
  const env: NonNullable<Settings['env']> = {};
  for (const file of o.envFile ?? []) {
    const path = resolve(ctx.cwd, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'it does not exist'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EISDIR'
              ? 'it is a directory'
              : (error as Error).message;
      throw new DeployError('usage', `Cannot read the env file ${path}: ${why}.`, {
        hint: 'Give the path of a KEY=VALUE file (relative to the current directory).',
      });
    }
    for (const [k, v] of parseEnvFile(text, file)) env[k] = { value: v, secret: false };
  }
  for (const a of o.env ?? []) {
    const [k, v] = parseEnvAssignment(a, ctx.env);
    env[k] = { value: v, secret: false };
  }
  for (const a of o.secret ?? []) {
    const [k, v] = parseEnvAssignment(a, ctx.env, '--secret');
    env[k] = { value: v, secret: true };
  }
  if (Object.keys(env).length > 0) s.env = env;
  const hc: Partial<HealthCheck> = {};
  if (o.healthPath !== undefined) {
    if (o.healthPath !== 'none' && !o.healthPath.startsWith('/')) {
      throw new DeployError(
        'usage',
        `--health-path ${JSON.stringify(o.healthPath)} must start with "/" (or be "none").`,
      );
    }
    hc.path = o.healthPath === 'none' ? null : o.healthPath;
  }
  if (o.healthTimeout !== undefined) hc.timeoutMs = parseDuration(o.healthTimeout, '--health-timeout');
  if (Object.keys(hc).length > 0) s.healthCheck = hc;
  return s;
}

/** Who is deploying: the git e-mail configured where the command runs, else the OS user. */
export async function actorOf(ctx: Context, dir: string): Promise<string> {
  const email = await (await ctx.git()).userEmail(dir).catch(() => null);
  if (email) return email;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** `deploy deploy`: a commit built into an image, run as a container, health-gated, switched over. */
export async function deploy(ctx: Context, o: DeployOptions): Promise<DeployOutcome> {
  const r = ctx.reporter;
  const git = await ctx.git();
  if (o.app !== undefined) assertAppName(o.app);

  // Everything is checked before anything is recorded: bad input changes nothing.
  const flags = flagSettings(ctx, o);
  const src = await resolveSource(ctx, git, o);
  const who = actorOf(ctx, src.root);
  const project = await readProjectSettings(git, src);
  const app = o.app ?? project.app ?? src.suggestedName;
  if (!app) {
    throw new DeployError('usage', `Cannot tell the app's name from ${src.source}.`, {
      hint: 'Give --app NAME, or "app" in deploy.json.',
    });
  }
  assertAppName(app, o.app !== undefined ? '--app' : project.app !== undefined ? 'deploy.json' : 'the directory name');
  const layers = layersFor(ctx, app, project, flags);
  const { config: resolved } = resolveConfig(layers, { noCache: o.noCache ?? false, pull: o.pull ?? false });
  const config = keepSecrets(resolved, currentDeployment(ctx, app)?.config);
  assertNoDuplicatePorts(config.ports);
  const endpoint = resolveEndpoint(ctx, endpointSetting(layers));
  // Connecting starts now, but a missing Dockerfile (bad input) is what gets reported if both fail.
  const connecting = ctx.engine(endpoint);
  connecting.catch(() => undefined);
  await assertBuildable(git, src, config);
  const buildSecrets = await secretsFor(ctx, config);
  const [engine, actor] = await Promise.all([connecting, who]);
  await assertNetworks(engine, { app, config });
  await assertRuntimeFits(ctx, engine, app, config);
  if (!o.dryRun) await confirmRuntimeMove(ctx, currentDeployment(ctx, app), config, Boolean(o.yes));

  return lockSyncRecover(
    ctx,
    engine,
    app,
    `deploy of ${refAndCommit(src.ref, src.commit)}`,
    async (): Promise<DeployOutcome> => {
      const store = ctx.store();
      // A deploy makes a plan like every other changing command: what --dry-run prints is what is carried out (the
      // parts only a person reads, the commit range and the gate in words, are worked out only to be shown).
      const current = currentDeployment(ctx, app);
      const image = { how: 'build' as const, noCache: config.noCache, reason: 'a deploy builds its commit' };
      const version = (store.list({ app, limit: 1 })[0]?.version ?? 0) + 1;
      const plan = releasePlan({
        action: 'deploy',
        app,
        title: `Deploy ${app} ${refAndCommit(src.ref, src.commit)} as v${version}`,
        endpoint: endpoint.url,
        target: null,
        source: src,
        newVersion: version,
        image,
        config,
        overrides: flags,
        current,
        commitRange: o.dryRun ? await commitRange(git, src.root, current, src.commit) : null,
        gate: o.dryRun ? await planGate(engine, git, image, src, config) : null,
      });
      if (o.dryRun) return { plan, deployment: null };
      const tracker = startRecord(ctx, {
        app,
        kind: 'deploy',
        parentId: null,
        source: src,
        image: null,
        endpoint: endpoint.url,
        config,
        overrides: flags,
        actor,
      });
      const d = tracker.deployment;
      // A new app learns where its code is at once; a known one only from a deploy that works, so a failed try of
      // another branch does not change what `deploy deploy --app NAME` ships next.
      if (!store.getApp(app)?.source) store.rememberSource(app, src.origin, d.createdAt);
      tracker.event('queued', `deploy of ${refAndCommit(src.ref, src.commit)} to ${endpoint.url}`);
      r.info(
        `${r.colors.bold(`${app} v${d.version}`)} ${r.colors.dim(d.id)} · ${refAndCommit(src.ref, src.commit)} ${quotedSubject(src.commitSubject)}${src.dirty ? r.colors.yellow(' (dirty)') : ''} → ${engineLabel(endpoint.url)}`,
      );
      await runToEnd(ctx, tracker, async () => {
        const image = await buildImage(ctx, engine, git, tracker, src, buildSecrets);
        await trafficFor(config).switchOver(ctx, engine, tracker, image, plan.switchStrategy ?? 'start-first');
      });
      store.rememberSource(app, src.origin, d.createdAt);
      await pruneAfterDeploy(ctx, engine, app, config.retention);
      return { plan: null, deployment: tracker.deployment };
    },
  );
}

/**
 * Runs a deployment's work; whatever escapes (the engine went away, Ctrl-C) leaves the record failed with
 * the reason rather than stuck "building" or "starting".
 */
export async function runToEnd(ctx: Context, tracker: Tracker, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (caught) {
    const d = tracker.deployment;
    const error = asInterruption(ctx, fromEngineRefusal(caught), `${d.app} v${d.version} (${d.id})`);
    // A deployment that reached "running" serves: what failed after that (retiring the old one) does not undo it.
    if (d.status !== 'failed' && d.status !== 'running' && d.status !== 'interrupted') {
      const code = error instanceof DeployError ? error.code : 'internal';
      const message = error instanceof Error ? error.message : String(error);
      // Ctrl-C is not a failure of the deployment: it is recorded as interrupted.
      const status = code === 'interrupted' ? 'interrupted' : 'failed';
      tracker.update({ status, finishedAt: ctx.now(), error: { code, message } }, { type: status, message });
    }
    // --json prints the failed record itself, so a script reads one shape whatever happened.
    if (error instanceof DeployError) throw error.withDetails({ record: publicRecord(d) });
    throw error;
  }
}
