import { imagesOn } from '../adapters/images/engine-local.js';
import { imageDigest } from '../adapters/images/images.js';
import { isDigest } from '../core/image-ref.js';
import { engineLabel } from '../core/endpoint-choice.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { ImageInfo } from '../adapters/docker/engine/types.js';
import { planTarget, type ActionPlan, type ImageSource } from '../core/action-plan.js';
import {
  changedBuildInputs,
  derivedOverrides,
  keepSecrets,
  mergeSettings,
  resolveConfig,
  snapshotSettings,
} from '../core/config.js';
import type { Settings } from '../core/settings.js';
import { diffConfig } from '../core/config-diff.js';
import { DeployError } from '../core/errors.js';
import { assertNoDuplicatePorts } from '../core/ports.js';
import { redactUrl } from '../core/redact.js';
import { IN_PROGRESS, type DeployConfig, type Deployment, type Kind } from '../core/types.js';
import type { Context } from '../context.js';
import { layersFor } from './app-config.js';
import { secretsFor } from './build-secrets.js';
import { assertNetworks } from './volumes.js';
import { assertRuntimeFits } from './runtime-check.js';
import { buildImage, type BuiltImage } from './build.js';
import { actorOf, runToEnd } from './deploy.js';
import { currentDeployment } from './current.js';
import { commitRange, planGate, releasePlan } from './planning.js';
import { trafficFor } from './traffic/traffic.js';
import { pruneAfterDeploy } from './retention.js';
import { readProjectSettings } from './source.js';
import { startRecord } from './tracker.js';
import { releaseImageOn } from './release-image.js';
import { existsSync } from 'node:fs';
import { isGitUrl, mirrorRoot } from '../adapters/git.js';
import { join } from 'node:path';
import { quotedSubject, refAndCommit } from '../ui/text.js';

function nextVersion(ctx: Context, app: string): number {
  const newest = ctx.store().list({ app, limit: 1 })[0];
  return Math.max(newest?.version ?? 0, 0) + 1;
}

/**
 * The repository and commit a recorded deployment came from, for reading its deploy.json and (forBuild)
 * building it again. A deployment shipped from uncommitted changes cannot be built again.
 */
async function sourceOf(
  ctx: Context,
  d: Deployment,
  forBuild: boolean,
): Promise<{ root: string; treeish: string; subdir: string }> {
  const git = await ctx.git();
  const app = ctx.store().getApp(d.app);
  // Records keep URLs without credentials; the app remembers the URL it was given.
  const url = app?.source && redactUrl(app.source) === d.source ? app.source : d.source;
  if (forBuild && d.dirty) {
    throw new DeployError(
      'image_gone',
      `${d.app} v${d.version} (${d.id}) was built from uncommitted changes, and its image is gone, so it cannot be built again.`,
      {
        hint: 'Deploy a commit instead: deploy deploy',
      },
    );
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

/**
 * The repository a record came from, as it is here, for reading its history (the commit range a plan shows):
 * nothing is fetched or checked, and a repository that is not here gives null.
 */
function localRoot(ctx: Context, d: Deployment): string | null {
  const app = ctx.store().getApp(d.app);
  const url = app?.source && redactUrl(app.source) === d.source ? app.source : d.source;
  if (!isGitUrl(url)) return existsSync(url) ? url : null;
  const root = mirrorRoot(url, ctx.paths.cacheDir);
  return existsSync(join(root, 'HEAD')) ? root : null;
}

/**
 * The image a release was built into, where the engine can use it (null: a build is needed); when the engine lacks
 * it, pulled from the release's registry or copied from the engine that built it (release-image.ts).
 */
async function imageOn(ctx: Context, engine: Engine, d: Deployment): Promise<ImageInfo | null> {
  return d.imageId ? releaseImageOn(ctx, engine, d) : null;
}

export interface RedeployOptions {
  noCache: boolean;
  pull: boolean;
  /** One-off settings for this redeploy (--port, --env, --secret, --health-*), over the target's own. */
  flags: Settings;
}

/**
 * `deploy redeploy ID`: ID's commit again, with ID's own settings (what its command line gave it: ports, health
 * check...; its deploy.json) and the app's configuration as it is now (env vars and secrets, `config set`
 * values). Reuses ID's image when the engine still has it (no build); builds it from the commit when it does
 * not, or with --no-cache. Planned under the app's lock, against what serves now.
 */
export async function planRedeploy(
  ctx: Context,
  engine: Engine,
  target: Deployment,
  o: RedeployOptions,
): Promise<ActionPlan> {
  if (IN_PROGRESS.includes(target.status)) {
    throw new DeployError(
      'usage',
      `${target.app} v${target.version} (${target.id}) is still ${target.status}; redeploy it once it has finished.`,
    );
  }
  let project: Settings;
  let src: { root: string; treeish: string; subdir: string } | null = null;
  // The image is looked for while the commit's deploy.json is read.
  const existingImage = o.noCache ? Promise.resolve(null) : imageOn(ctx, engine, target);
  existingImage.catch(() => undefined);
  const current = currentDeployment(ctx, target.app);
  let range: Promise<string | null> = Promise.resolve(null);
  try {
    const git = await ctx.git();
    // The repository as it is here when it has the commit (no fetch); else fetched, as a build would need. Its
    // deploy.json and the commit range are read at the same time as the commit is checked.
    const local = localRoot(ctx, target);
    const at = local ? { root: local, treeish: target.commit, subdir: target.subdir } : null;
    const [here, speculative] = at
      ? await Promise.all([
          git.resolveCommit(at.root, target.commit).then(
            () => true,
            () => false,
          ),
          readProjectSettings(git, at).catch(() => null),
        ])
      : [false, null];
    if (at) range = commitRange(git, at.root, current, target.commit);
    src = here && at ? at : await sourceOf(ctx, target, false);
    project = here && speculative ? speculative : await readProjectSettings(git, src);
    if (!at) range = commitRange(git, src.root, current, target.commit);
  } catch (error) {
    if (!(error instanceof DeployError) || error.code !== 'source') throw error;
    // The repository is out of reach (moved, or its host down): its deploy.json as it was for the target
    // stands in, rather than nothing (which would drop its ports and health check).
    ctx.reporter.warn(`${error.message} Using the deploy.json settings of v${target.version} as they were.`);
    project = snapshotSettings(target.config);
  }
  // ID's one-off settings: kept with its record, or told from its snapshot for a record that did not keep them.
  const own = target.overrides ?? derivedOverrides(target.config, resolveConfig(layersFor(ctx, target.app, project)));
  const overrides = mergeSettings(o.flags, own);
  const { config: resolved } = resolveConfig(layersFor(ctx, target.app, project, overrides), {
    noCache: o.noCache,
    pull: o.pull,
  });
  assertNoDuplicatePorts(resolved.ports);
  const config = withKnownSecrets(ctx, target, keepSecrets(keepSecrets(resolved, target.config), current?.config));
  const existing = await existingImage;
  // The image was built from the build inputs of the target's snapshot: another Dockerfile, target, build arg or
  // build secret needs a build of its own (a reused image would belie the record).
  const changedInputs = changedBuildInputs(target.config, config);
  const image: ImageSource =
    existing && target.image && !o.noCache && changedInputs.length === 0
      ? { how: 'reuse', ref: target.image, imageId: existing.id, from: `v${target.version}` }
      : {
          how: 'build',
          noCache: o.noCache,
          reason: o.noCache
            ? '--no-cache'
            : changedInputs.length > 0
              ? `${changedInputs.join(', ')} changed since v${target.version}`
              : `the image of v${target.version} is no longer on the engine`,
        };
  const version = nextVersion(ctx, target.app);
  const git = src ? await ctx.git() : null;
  const gate = await planGate(engine, git, image, src, config, existing?.hasHealthcheck);
  return releasePlan({
    action: 'redeploy',
    imageInfo: existing,
    title: `Redeploy ${target.app}@v${target.version} (${target.id}) as v${version}`,
    ...again(target, engine, version),
    image,
    config,
    overrides,
    current,
    otherwise: { config: target.config, label: `since v${target.version}:` },
    commitRange: await range,
    gate,
  });
}

export interface RollbackSelection {
  to?: string | undefined;
  steps?: number | undefined;
}

/** Two deployments that ship the same thing: the same image and the same configuration. */
function sameRelease(a: Deployment, b: Deployment): boolean {
  return a.imageId !== null && a.imageId === b.imageId && diffConfig(a.config, b.config).length === 0;
}

/**
 * `deploy rollback`: the target's exact snapshot (image and configuration) shipped again, as a new record.
 * Planned under the app's lock, against what serves now.
 */
export async function planRollback(
  ctx: Context,
  engine: Engine,
  current: Deployment,
  target: Deployment,
  rebuild: boolean,
): Promise<ActionPlan> {
  const version = nextVersion(ctx, target.app);
  const noop =
    target.id === current.id || (sameRelease(target, current) && current.status === 'running')
      ? `${target.app} v${current.version} (${current.id}) is already running ${target.id === current.id ? 'this deployment' : `what v${target.version} (${target.id}) shipped`}; nothing to do.`
      : null;
  // The commit range, from the history that is here, is read while the engine is asked for the image.
  const local = noop ? null : localRoot(ctx, target);
  const git = local ? await ctx.git() : null;
  const localRange = local ? commitRange(git, local, current, target.commit) : null;
  localRange?.catch(() => undefined);
  const existing = noop ? null : await imageOn(ctx, engine, target);
  if (!noop && !existing && !rebuild) {
    throw new DeployError(
      'image_gone',
      `The image of ${target.app} v${target.version} (${target.id}, ${target.image ?? 'no image'}) is no longer on ${engine.endpoint.url}.`,
      {
        hint: `Build it again from commit ${target.commit.slice(0, 7)} with: deploy rollback ${target.app} --to ${target.id} --rebuild`,
      },
    );
  }
  const image: ImageSource =
    existing && target.image
      ? { how: 'reuse', ref: target.image, imageId: existing.id, from: `v${target.version}` }
      : { how: 'build', noCache: false, reason: `--rebuild: the image of v${target.version} is gone` };
  const config = { ...withKnownSecrets(ctx, target, target.config), noCache: false, pull: false };
  // A rebuild needs the commit (fetched if need be); a reused image only the history that is already here.
  const root = noop ? null : image.how === 'build' ? (await sourceOf(ctx, target, true)).root : local;
  const src = root ? { root, treeish: target.commit, subdir: target.subdir } : null;
  const srcGit = src ? await ctx.git() : null;
  const [range, gate] = await Promise.all([
    root === local && localRange ? localRange : commitRange(srcGit, src?.root ?? null, current, target.commit),
    noop ? null : planGate(engine, srcGit, image, src, config, existing?.hasHealthcheck),
  ]);
  const warnings: string[] = [];
  if (target.rolledBack) {
    const by = target.supersededBy ? ctx.store().getDeployment(target.supersededBy) : null;
    warnings.push(`v${target.version} was rolled back from before${by ? ` (by v${by.version}, ${by.id})` : ''}.`);
  }
  return releasePlan({
    action: 'rollback',
    imageInfo: existing,
    title: `Roll back ${target.app} from v${current.version} (${current.id}) to v${target.version} (${target.id}) as v${version}`,
    ...again(target, engine, version),
    image,
    config,
    overrides: target.overrides,
    current,
    commitRange: range,
    gate,
    noop,
    warnings,
  });
}

/**
 * A snapshot synced from an engine may lack secret values (the engine keeps them only in live containers'
 * environments); they come from the app's stored configuration, or the deployment is refused rather than
 * shipped without them.
 */
function withKnownSecrets(ctx: Context, target: Deployment, config: DeployConfig): DeployConfig {
  const missing = Object.entries(config.env).filter(([, v]) => v.secret && v.value === '');
  if (missing.length === 0) return config;
  const stored = new Map(
    ctx
      .store()
      .appConfig(target.app)
      .filter((r) => r.kind === 'env')
      .map((r) => [r.key, r.value]),
  );
  const unknown = missing.map(([k]) => k).filter((k) => !stored.has(k));
  if (unknown.length > 0) {
    throw new DeployError(
      'config',
      `${target.app} v${target.version} (${target.id}) needs the secret${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, whose value this machine does not know (it was synced from the engine, which keeps secret values only in running containers).`,
      {
        hint: `Set ${unknown.length > 1 ? 'them' : 'it'} here first: deploy config set ${unknown[0]}=VALUE --secret --app ${target.app}`,
      },
    );
  }
  const env = { ...config.env };
  for (const [k] of missing) env[k] = { value: stored.get(k) as string, secret: true };
  return { ...config, env };
}

/**
 * Chooses the rollback target: --to, --steps N, or the newest known-good release before the current one. A
 * known-good release served (passed its gate) and was not rolled back away from. Retrying a rollback picks the
 * same target, so a second run finds it already running and does nothing.
 */
export function rollbackTarget(
  ctx: Context,
  current: Deployment,
  sel: RollbackSelection,
  byId: (ref: string) => Deployment | null,
): Deployment {
  if (sel.to !== undefined) {
    const d = byId(sel.to);
    if (d) {
      if (d.app !== current.app)
        throw new DeployError('usage', `${d.id} is a deployment of ${d.app}, not of ${current.app}.`);
      if (d.readyAt === null) {
        throw new DeployError(
          'usage',
          `${d.app} v${d.version} (${d.id}) never became healthy (${d.status}); roll back to a deployment that served.`,
          {
            hint: `List them: deploy ls --app ${d.app}`,
          },
        );
      }
      return d;
    }
    // A Git ref (a tag, a branch, a SHA prefix): the newest successful deployment of that commit.
    const ref = sel.to.toLowerCase();
    const matches = ctx
      .store()
      .list({ app: current.app })
      .filter((x) => x.readyAt !== null && (x.commit.startsWith(ref) || x.ref === sel.to));
    const match = matches.find((x) => !x.rolledBack) ?? matches[0];
    if (match) return match;
    throw new DeployError(
      'not_found',
      `No successful deployment of ${current.app} matches ${JSON.stringify(sel.to)} (an id, APP@vN, a tag, a branch or a commit).`,
      {
        hint: `List them: deploy ls --app ${current.app}. To ship a commit that was never deployed: deploy deploy --app ${current.app} --ref ${sel.to}`,
      },
    );
  }
  const steps = sel.steps ?? 1;
  // Rolled back already by a swap back at the front door (or its own fallback): the newest release of the app was
  // rolled back away from, to what runs now. A retried CI job finds it running and does nothing.
  const latest = ctx.store().list({ app: current.app, limit: 1 })[0];
  if (steps === 1 && latest && latest.id !== current.id && latest.rolledBack && latest.supersededBy === current.id)
    return current;
  const good = ctx
    .store()
    .list({ app: current.app })
    .filter((d) => d.id !== current.id && d.readyAt !== null && !d.rolledBack && d.createdAt <= current.createdAt);
  // Already rolled back: the newest known-good release is what runs. Rolling back again means that one, and
  // there is nothing to do (a retried CI job must not go one further back, let alone forward to the bad one).
  const newest = good[0];
  if (steps === 1 && current.kind === 'rollback' && newest && sameRelease(newest, current)) return newest;
  // Each release counts once, however many times it was shipped; what runs now is not a step back.
  const seen: Deployment[] = [];
  for (const d of good) if (!sameRelease(d, current) && !seen.some((s) => sameRelease(s, d))) seen.push(d);
  const target = seen[steps - 1];
  if (!target) {
    const n = seen.length;
    // Older releases of what runs now (a redeploy or rollback of the same image and settings) are no step back.
    const same = good.filter((d) => sameRelease(d, current)).map((d) => `v${d.version}`);
    const skipped =
      same.length > 0
        ? ` (${same.join(', ')} ${same.length === 1 ? 'is' : 'are'} what runs now: the same image and settings)`
        : '';
    throw new DeployError(
      'not_found',
      `${current.app} has ${n === 0 ? 'no' : `only ${n}`} known-good release${n === 1 ? '' : 's'} older than v${current.version} to roll back to${steps > 1 ? ` (asked for ${steps} back)` : ''}${skipped}.`,
      {
        hint: `See its history: deploy ls --app ${current.app}`,
      },
    );
  }
  return target;
}

/** Creates the record of a redeploy or rollback and carries out its plan, under the app's lock (the caller's). */
export async function applyRedeployOrRollback(
  ctx: Context,
  engine: Engine,
  plan: ActionPlan,
  kind: Extract<Kind, 'redeploy' | 'rollback'>,
  who?: Promise<string>,
): Promise<Deployment> {
  const t = planTarget(plan);
  const reused = plan.image.how === 'reuse' ? plan.image : null;
  // The plan was made under this same lock a moment ago: its image is the one it inspected (asked once more only
  // when the plan came without it).
  // A build's secrets are read before anything is recorded: a missing file or variable changes nothing.
  const [actor, reusedInfo, buildSecrets] = await Promise.all([
    who ?? actorOf(ctx, ctx.cwd),
    reused ? (plan.imageInfo ?? imagesOn(engine).inspect(reused.imageId)) : null,
    reused ? undefined : secretsFor(ctx, plan.config),
    assertNetworks(engine, plan),
    // A move to another runtime was in the plan's question (its warnings), which --yes answered.
    assertRuntimeFits(ctx, engine, plan.app, plan.config),
  ]);
  const tracker = startRecord(ctx, {
    app: t.app,
    kind,
    parentId: t.id,
    source: t,
    image: reused
      ? {
          ref: reused.ref,
          id: reused.imageId,
          // A pushed release's registry digest carries over while the registry stays (any engine pulls by it).
          digest:
            isDigest(t.imageDigest) && t.config.registry && t.config.registry === plan.config.registry
              ? t.imageDigest
              : imageDigest(reusedInfo, reused.imageId),
        }
      : null,
    endpoint: engine.endpoint.url,
    config: plan.config,
    overrides: plan.overrides,
    actor,
  });
  const d = tracker.deployment;
  tracker.event(
    'queued',
    `${kind} of v${t.version} (${t.id})${reused ? `, reusing ${reused.ref}` : ', building the image'}`,
  );
  const r = ctx.reporter;
  r.info(
    `${r.colors.bold(`${d.app} v${d.version}`)} ${r.colors.dim(d.id)} · ${kind} of v${t.version} · ${refAndCommit(t.ref, t.commit)} ${quotedSubject(t.commitSubject)} → ${engineLabel(engine.endpoint.url)}`,
  );
  await runToEnd(ctx, tracker, async () => {
    let image: BuiltImage;
    if (reused) {
      const info = reusedInfo;
      if (!info) {
        throw new DeployError(
          'image_gone',
          `The image ${reused.ref} disappeared from the engine before it could be used.`,
          {
            hint:
              kind === 'rollback'
                ? `Build it again with: deploy rollback ${t.app} --to ${t.id} --rebuild`
                : `Build it again with: deploy redeploy ${t.id} --no-cache`,
          },
        );
      }
      r.done(`Reusing ${reused.ref} (built for v${t.version}): no build`);
      image = { ...info, ref: reused.ref };
    } else {
      image = await buildImage(ctx, engine, await ctx.git(), tracker, await sourceOf(ctx, t, true), buildSecrets);
    }
    await trafficFor(plan.config).switchOver(ctx, engine, tracker, image, plan.switchStrategy ?? 'start-first');
  });
  await pruneAfterDeploy(ctx, engine, d.app, d.config.retention);
  return tracker.deployment;
}

/** The parts of a redeploy's or rollback's plan that say which release ships again, where, as which version. */
function again(target: Deployment, engine: Engine, newVersion: number) {
  return { app: target.app, endpoint: engine.endpoint.url, target, source: target, newVersion };
}
