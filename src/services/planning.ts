import { runtimeMove } from '../core/runtime-choice.js';
import { imagesOn } from '../adapters/images/engine-local.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { Git } from '../adapters/git.js';
import {
  describeCommitRange,
  type ActionPlan,
  type ImageSource,
  type PlannedGate,
  type ServingNow,
} from '../core/action-plan.js';
import { diffConfig } from '../core/config-diff.js';
import { healthcheckOf } from '../core/dockerfile.js';
import type { DeployConfig, Deployment } from '../core/types.js';
import { chooseGate } from './health.js';
import { trafficFor } from './traffic/traffic.js';
import { posix } from 'node:path';

/** What serves the app now, as a plan shows it. */
export function servingNow(d: Deployment | null): ServingNow | null {
  return d ? { id: d.id, version: d.version, status: d.status, commit: d.commit } : null;
}

/** "what happens to the deployment serving now", in words, and the switch strategy: the traffic seam decides. */
export function servingEffect(
  current: Deployment | null,
  next: DeployConfig | null,
  app: string,
): { text: string; strategy: ActionPlan['switchStrategy'] } {
  return trafficFor(next).decide(current, next, app);
}

/**
 * Whether the image that will run has a HEALTHCHECK: known from the image when it exists; before a build, from
 * the Dockerfile at the commit, or the base image on the engine when the Dockerfile leaves it to its base.
 */
async function imageHasHealthcheck(
  engine: Engine,
  git: Git | null,
  image: ImageSource,
  src: { root: string; treeish: string; subdir: string } | null,
  config: DeployConfig,
): Promise<boolean | null> {
  if (image.how === 'reuse' || image.how === 'existing') {
    const ref = image.imageId ?? image.ref;
    const info = ref ? await imagesOn(engine).inspect(ref) : null;
    return info ? info.hasHealthcheck : null;
  }
  if (!git || !src) return null;
  const path = posix.normalize(posix.join(src.subdir, config.context, config.dockerfile));
  const text = await git.readAt(src.root, src.treeish, path).catch(() => null);
  const decl = text === null ? null : healthcheckOf(text, config.buildTarget ?? null);
  if (!decl) return null;
  if (decl.kind !== 'inherited') return decl.kind === 'declared';
  const base = await imagesOn(engine)
    .inspect(decl.from)
    .catch(() => null);
  return base ? base.hasHealthcheck : null;
}

/** The check that will gate a new deployment, as exactly as can be told before it runs. */
export async function planGate(
  engine: Engine,
  git: Git | null,
  image: ImageSource,
  src: { root: string; treeish: string; subdir: string } | null,
  config: DeployConfig,
  known?: boolean,
): Promise<PlannedGate> {
  // Known when the image was inspected already (a reused one): not asked again.
  const has = known ?? (await imageHasHealthcheck(engine, git, image, src, config));
  const chosen = chooseGate(config, has ?? false, engine.endpoint.url);
  const hc = config.healthCheck;
  const command = hc.command && hc.command !== 'none' ? hc.command : null;
  // healthCheck.command and "none" decide whatever the image declares.
  const note =
    has === null && hc.command === null
      ? 'unless the built image turns out to declare a HEALTHCHECK, which then decides'
      : chosen.note;
  return {
    mode: chosen.mode,
    url: chosen.mode === 'door' ? hc.path : chosen.url,
    timeoutMs: hc.timeoutMs,
    settleMs: hc.settleMs,
    note,
    ...(command ? { command } : {}),
  };
}

/** How the commit going live relates to the one serving now, from the repository when it can be read. */
export async function commitRange(
  git: Git | null,
  root: string | null,
  current: Deployment | null,
  next: string,
): Promise<string | null> {
  if (!current) return null;
  const distance =
    git && root && current.commit !== next
      ? await git.commitDistance(root, current.commit, next).catch(() => null)
      : null;
  return describeCommitRange(current.commit, next, distance);
}

/** What a plan that ships a release (deploy, redeploy, rollback) is made of; the rest is worked out from it. */
export type ReleasePlanParts = Omit<
  ActionPlan,
  'current' | 'serving' | 'switchStrategy' | 'changes' | 'changesAgainst' | 'noop' | 'warnings'
> & {
  current: Deployment | null;
  /** What the configuration is compared with, when nothing serves (a redeploy: the snapshot it ships again). */
  otherwise?: { config: DeployConfig; label: string };
  noop?: string | null;
  warnings?: string[];
};

/**
 * A plan that ships a release: what serves now, what happens to it (the traffic seam decides the switch, once,
 * here) and how the configuration differs from it.
 */
export function releasePlan(p: ReleasePlanParts): ActionPlan {
  const { current, otherwise, ...rest } = p;
  const effect = servingEffect(current, p.config, p.app);
  const move = runtimeMove(current, p.config);
  const against = current
    ? { config: current.config, label: `against v${current.version}, serving now:` }
    : (otherwise ?? null);
  return {
    ...rest,
    current: servingNow(current),
    serving: effect.text,
    switchStrategy: effect.strategy,
    changes: against ? diffConfig(against.config, p.config) : [],
    changesAgainst: against?.label ?? null,
    noop: p.noop ?? null,
    warnings: [...(move ? [`${p.app} moves from runtime ${move.from} to ${move.to}.`] : []), ...(p.warnings ?? [])],
  };
}
