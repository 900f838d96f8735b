import type { Engine } from '../adapters/docker/engine.js';
import type { ActionPlan, ImageSource } from '../core/action-plan.js';
import { endpointSetting, resolveConfig, snapshotSettings } from '../core/config.js';
import type { Settings } from '../core/settings.js';
import { diffConfig } from '../core/config-diff.js';
import { DeployError } from '../core/errors.js';
import { planSwitch } from '../core/plan.js';
import { redactUrl } from '../core/redact.js';
import { IN_PROGRESS, type DeployConfig, type Deployment, type Kind } from '../core/types.js';
import type { Context } from '../context.js';
import { layersFor } from './app-config.js';
import { buildImage, type BuiltImage } from './build.js';
import { actorOf, runToEnd } from './deploy.js';
import { engineFor, resolveEndpoint } from './engines.js';
import { exclusive } from './exclusive.js';
import { currentDeployment } from './current.js';
import { release } from './release.js';
import { pruneAfterDeploy } from './retention.js';
import { readProjectSettings } from './source.js';
import { startRecord } from './tracker.js';
import { existsSync } from 'node:fs';
import { isGitUrl } from '../adapters/git.js';
import { quotedSubject } from '../ui/text.js';

/** "what happens to the deployment serving now", in words. */
function servingEffect(current: Deployment | null, next: DeployConfig | null, app: string): { text: string; strategy: ActionPlan['switchStrategy'] } {
  if (!current) return { text: `nothing serves ${app} now`, strategy: next ? 'start-first' : null };
  const who = `${app} v${current.version} (${current.id})`;
  if (current.status === 'stopped') return { text: `${who} is stopped; it will be superseded`, strategy: 'start-first' };
  if (!next) return { text: `${who} serves now`, strategy: null };
  const plan = planSwitch(current, next.ports);
  return plan.strategy === 'stop-first'
    ? { text: `${who} stops first (same host port), and starts again if this fails`, strategy: 'stop-first' }
    : { text: `${who} serves until this one is healthy, then retires`, strategy: 'start-first' };
}

function nextVersion(ctx: Context, app: string): number {
  const newest = ctx.store().list({ app, limit: 1 })[0];
  return Math.max(newest?.version ?? 0, 0) + 1;
}

/**
 * The repository and commit a recorded deployment came from, for reading its deploy.json and (forBuild)
 * building it again. A deployment shipped from uncommitted changes cannot be built again.
 */
async function sourceOf(ctx: Context, d: Deployment, forBuild: boolean): Promise<{ root: string; treeish: string; subdir: string }> {
  const git = await ctx.git();
  const app = ctx.store().getApp(d.app);
  // Records keep URLs without credentials; the app remembers the URL it was given.
  const url = app?.source && redactUrl(app.source) === d.source ? app.source : d.source;
  if (forBuild && d.dirty) {
    throw new DeployError('image_gone', `${d.app} v${d.version} (${d.id}) was built from uncommitted changes, and its image is gone, so it cannot be built again.`, {
      hint: 'Deploy a commit instead: deploy deploy',
    });
  }
  if (!isGitUrl(url) && !existsSync(url)) {
    throw new DeployError('source', `The repository ${url} that ${d.app} v${d.version} came from is no longer there.`, {
      hint: `Deploy from where it is now: deploy deploy PATH --app ${d.app}`,
    });
  }
  const root = isGitUrl(url) ? (await git.mirror(url, ctx.paths.cacheDir)).root : url;
  await git.resolveCommit(root, d.commit);
  return { root, treeish: d.commit, subdir: d.subdir };
}

async function imageOn(engine: Engine, d: Deployment): Promise<Awaited<ReturnType<Engine['inspectImage']>>> {
  return d.imageId ? engine.inspectImage(d.imageId) : null;
}

export interface RedeployOptions {
  noCache: boolean;
  pull: boolean;
}

/**
 * `deploy redeploy ID`: ID's commit again, with the app's configuration as it is now. Reuses ID's image when
 * the engine still has it (no build); builds it from the commit when it does not, or when --no-cache.
 */
export async function planRedeploy(ctx: Context, target: Deployment, o: RedeployOptions): Promise<ActionPlan> {
  if (IN_PROGRESS.includes(target.status)) {
    throw new DeployError('usage', `${target.app} v${target.version} (${target.id}) is still ${target.status}; redeploy it once it has finished.`);
  }
  let project: Settings;
  try {
    project = await readProjectSettings(await ctx.git(), await sourceOf(ctx, target, false));
  } catch (error) {
    if (!(error instanceof DeployError) || error.code !== 'source') throw error;
    // The repository is out of reach (moved, or its host down): its deploy.json as it was for the target
    // stands in, rather than nothing (which would drop its ports and health check).
    ctx.reporter.warn(`${error.message} Using the deploy.json settings of v${target.version} as they were.`);
    project = snapshotSettings(target.config);
  }
  const layers = layersFor(ctx, target.app, project);
  const { config } = resolveConfig(layers, { noCache: o.noCache, pull: o.pull });
  const endpoint = resolveEndpoint(ctx, endpointSetting(layers));
  const engine = await ctx.engine(endpoint);
  const existing = o.noCache ? null : await imageOn(engine, target);
  const image: ImageSource =
    existing && target.image
      ? { how: 'reuse', ref: target.image, imageId: existing.id, from: `v${target.version}` }
      : { how: 'build', noCache: o.noCache, reason: o.noCache ? '--no-cache' : `the image of v${target.version} is no longer on the engine` };
  const current = currentDeployment(ctx, target.app);
  const effect = servingEffect(current, config, target.app);
  const version = nextVersion(ctx, target.app);
  return {
    action: 'redeploy',
    app: target.app,
    title: `Redeploy ${target.app}@v${target.version} (${target.id}) as v${version}`,
    endpoint: endpoint.url,
    target,
    newVersion: version,
    image,
    config,
    serving: effect.text,
    switchStrategy: effect.strategy,
    changes: diffConfig(target.config, config),
    changesAgainst: `since v${target.version}:`,
    noop: null,
  };
}

export interface RollbackSelection {
  to?: string | undefined;
  steps?: number | undefined;
}

/**
 * `deploy rollback`: the target's exact snapshot (image and configuration) shipped again, as a new record.
 * The default target is the newest successful deployment older than the current one whose image exists.
 */
export async function planRollback(ctx: Context, current: Deployment, target: Deployment, rebuild: boolean): Promise<ActionPlan> {
  const engine = await engineFor(ctx, target.endpoint);
  const version = nextVersion(ctx, target.app);
  const sameRelease = target.imageId !== null && target.imageId === current.imageId && diffConfig(target.config, current.config).length === 0;
  const noop =
    target.id === current.id || (sameRelease && current.status === 'running')
      ? `${target.app} v${current.version} (${current.id}) is already running ${target.id === current.id ? 'this deployment' : `what v${target.version} shipped`}; nothing to do.`
      : null;
  const existing = noop ? null : await imageOn(engine, target);
  if (!noop && !existing && !rebuild) {
    throw new DeployError('image_gone', `The image of ${target.app} v${target.version} (${target.id}, ${target.image ?? 'no image'}) is no longer on ${target.endpoint}.`, {
      hint: `Build it again from commit ${target.commit.slice(0, 7)} with: deploy rollback ${target.app} --to ${target.id} --rebuild`,
    });
  }
  const image: ImageSource = existing && target.image
    ? { how: 'reuse', ref: target.image, imageId: existing.id, from: `v${target.version}` }
    : { how: 'build', noCache: false, reason: `--rebuild: the image of v${target.version} is gone` };
  const config = withKnownSecrets(ctx, target);
  const effect = servingEffect(current, config, target.app);
  return {
    action: 'rollback',
    app: target.app,
    title: `Roll back ${target.app} from v${current.version} (${current.id}) to v${target.version} (${target.id}) as v${version}`,
    endpoint: target.endpoint,
    target,
    newVersion: version,
    image,
    config: { ...config, noCache: false, pull: false },
    serving: effect.text,
    switchStrategy: effect.strategy,
    changes: diffConfig(current.config, target.config),
    changesAgainst: `against v${current.version}, serving now:`,
    noop,
  };
}

/**
 * A snapshot synced from an engine may lack secret values (the engine keeps them only in live containers'
 * environments); they come from the app's stored configuration, or the rollback is refused rather than
 * shipped without them.
 */
function withKnownSecrets(ctx: Context, target: Deployment): DeployConfig {
  const missing = Object.entries(target.config.env).filter(([, v]) => v.secret && v.value === '');
  if (missing.length === 0) return target.config;
  const stored = new Map(ctx.store().appConfig(target.app).filter((r) => r.kind === 'env').map((r) => [r.key, r.value]));
  const unknown = missing.map(([k]) => k).filter((k) => !stored.has(k));
  if (unknown.length > 0) {
    throw new DeployError('config', `${target.app} v${target.version} (${target.id}) needs the secret${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, whose value this machine does not know (it was synced from the engine, which keeps secret values only in running containers).`, {
      hint: `Set ${unknown.length > 1 ? 'them' : 'it'} here first: deploy config set ${unknown[0]}=VALUE --secret --app ${target.app}`,
    });
  }
  const env = { ...target.config.env };
  for (const [k] of missing) env[k] = { value: stored.get(k) as string, secret: true };
  return { ...target.config, env };
}

/** Chooses the rollback target: --to, --steps N, or the newest successful one before the current one. */
export function rollbackTarget(ctx: Context, current: Deployment, sel: RollbackSelection, byId: (ref: string) => Deployment | null): Deployment {
  if (sel.to !== undefined) {
    const d = byId(sel.to);
    if (d) {
      if (d.app !== current.app) throw new DeployError('usage', `${d.id} is a deployment of ${d.app}, not of ${current.app}.`);
      if (d.readyAt === null) {
        throw new DeployError('usage', `${d.app} v${d.version} (${d.id}) never became healthy (${d.status}); roll back to a deployment that served.`, {
          hint: `List them: deploy ls --app ${d.app}`,
        });
      }
      return d;
    }
    // A Git ref (a tag, a branch, a SHA prefix): the newest successful deployment of that commit.
    const ref = sel.to.toLowerCase();
    const match = ctx
      .store()
      .list({ app: current.app })
      .find((x) => x.readyAt !== null && (x.commit.startsWith(ref) || x.ref === sel.to));
    if (match) return match;
    throw new DeployError('not_found', `No successful deployment of ${current.app} matches ${JSON.stringify(sel.to)} (an id, APP@vN, a tag, a branch or a commit).`, {
      hint: `List them: deploy ls --app ${current.app}. To ship a commit that was never deployed: deploy deploy --app ${current.app} --ref ${sel.to}`,
    });
  }
  const steps = sel.steps ?? 1;
  const older = ctx
    .store()
    .list({ app: current.app })
    .filter((d) => d.id !== current.id && d.readyAt !== null && d.createdAt <= current.createdAt && !(d.imageId === current.imageId && diffConfig(d.config, current.config).length === 0));
  const target = older[steps - 1];
  if (!target) {
    throw new DeployError('not_found', `${current.app} has ${older.length === 0 ? 'no' : `only ${older.length}`} successful deployment${older.length === 1 ? '' : 's'} older than v${current.version} to roll back to.`, {
      hint: `See its history: deploy ls --app ${current.app}`,
    });
  }
  return target;
}

/** Creates the record of a redeploy or rollback and carries out its plan. */
export async function applyShip(ctx: Context, plan: ActionPlan, kind: Extract<Kind, 'redeploy' | 'rollback'>): Promise<Deployment> {
  const t = plan.target;
  const [engine, actor] = await Promise.all([engineFor(ctx, plan.endpoint), actorOf(ctx, ctx.cwd)]);
  return exclusive(ctx, engine, t.app, `${kind} to v${t.version} (${t.id})`, async () => {
    const reused = plan.image.how === 'reuse' ? plan.image : null;
    const tracker = startRecord(ctx, {
      app: t.app,
      kind,
      parentId: t.id,
      source: t,
      image: reused ? { ref: reused.ref, id: reused.imageId } : null,
      endpoint: engine.endpoint.url,
      config: plan.config,
      actor,
    });
    const d = tracker.deployment;
    tracker.event('queued', `${kind} of v${t.version} (${t.id})${reused ? `, reusing ${reused.ref}` : ', building the image'}`);
    const r = ctx.reporter;
    r.info(`${r.colors.bold(`${d.app} v${d.version}`)} ${r.colors.dim(d.id)} · ${kind} of v${t.version} · ${t.ref}@${t.commit.slice(0, 7)} ${quotedSubject(t.commitSubject)} → ${engine.endpoint.url}`);
    await runToEnd(ctx, tracker, async () => {
      let image: BuiltImage;
      if (reused) {
        const info = await engine.inspectImage(reused.imageId);
        if (!info) {
          throw new DeployError('image_gone', `The image ${reused.ref} disappeared from the engine before it could be used.`, {
            hint: kind === 'rollback' ? `Build it again with: deploy rollback ${t.app} --to ${t.id} --rebuild` : `Build it again with: deploy redeploy ${t.id} --no-cache`,
          });
        }
        r.done(`Reusing ${reused.ref} (built for v${t.version}): no build`);
        image = { ...info, ref: reused.ref };
      } else {
        image = await buildImage(ctx, engine, await ctx.git(), tracker, await sourceOf(ctx, t, true));
      }
      await release(ctx, engine, tracker, image);
    });
    await pruneAfterDeploy(ctx, engine, d.app, d.config.retention);
    return tracker.deployment;
  });
}
