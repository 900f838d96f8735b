import type { ConfigChange } from './config-diff.js';
import { publicConfig } from './record-view.js';
import type { DeployConfig, Deployment, SourceInfo } from './types.js';
import type { SwitchStrategy } from './plan.js';

export type Action = 'deploy' | 'redeploy' | 'rollback' | 'stop' | 'start' | 'restart';

/** How the image of a planned deployment comes to be. */
export type ImageSource =
  | { how: 'reuse'; ref: string; imageId: string; from: string }
  | { how: 'build'; noCache: boolean; reason: string }
  | { how: 'existing'; ref: string | null; imageId: string | null };

/** The check that decides the new deployment is healthy, as it will apply (not a list of maybes). */
export interface PlannedGate {
  mode: 'healthcheck' | 'http' | 'settle' | 'door';
  /** For http: the URL probed; for door: the path the front door checks (null: a TCP connect). */
  url: string | null;
  timeoutMs: number;
  settleMs: number;
  /** Why the configured check cannot be used, when it cannot. */
  note: string | null;
  /** The health command that replaces the image's HEALTHCHECK (healthCheck.command), when one does. */
  command?: string;
}

/** The deployment serving now, as the plan compares with it. */
export interface ServingNow {
  id: string;
  version: number;
  status: Deployment['status'];
  commit: string;
}

/**
 * What an action is about to do, as plain data: shown before asking, printed by --dry-run, and carried
 * out by the service that made it.
 */
export interface ActionPlan {
  action: Action;
  app: string;
  /** One line: "Redeploy hello@v1 (ydqyyijr) as v4". */
  title: string;
  endpoint: string;
  /** The deployment acted on (redeploy / rollback: the one shipped again); null for a deploy of a new commit. */
  target: Deployment | null;
  /** The commit that goes live (or that the acted-on deployment runs). */
  source: SourceInfo;
  newVersion: number | null;
  image: ImageSource;
  config: DeployConfig;
  /** The one-off settings of this command line, kept with the new record (a redeploy of it ships them again). */
  overrides: Deployment['overrides'];
  /** What serves the app now; null when nothing does. */
  current: ServingNow | null;
  /** "09649e3 → 889a4db, 5 commits back": how the commit going live relates to the one serving now. */
  commitRange: string | null;
  /** The health check that gates the new deployment (null when nothing new starts: stop). */
  gate: PlannedGate | null;
  /** What happens to what serves now. */
  serving: string;
  switchStrategy: SwitchStrategy | null;
  /** How the configuration differs from what serves now. */
  changes: ConfigChange[];
  changesAgainst: string | null;
  /** Nothing to do (stop of a stopped one, rollback to what runs): said, and exit 0. */
  noop: string | null;
  /** Worth knowing before saying yes (a target that was rolled back from before, ...). */
  warnings: string[];
  /** What the engine said of a reused image when the plan was made (under the same lock), so it is not asked twice. */
  imageInfo?: {
    id: string;
    hasHealthcheck: boolean;
    labels: Record<string, string>;
    volumes?: string[];
    digest?: string | null;
  } | null;
}

/** The deployment a plan acts on; every action but deploy has one. */
export function planTarget(p: ActionPlan): Deployment {
  if (!p.target) throw new Error(`a ${p.action} plan has no target deployment`);
  return p.target;
}

const short = (sha: string) => sha.slice(0, 7);
const commits = (n: number) => `${n} commit${n === 1 ? '' : 's'}`;

/**
 * The commit going live against the one serving: "09649e3 → 889a4db, 5 commits back". `distance` counts the
 * commits only the new one has (ahead) and only the serving one has (back); null when Git cannot tell.
 */
export function describeCommitRange(
  serving: string,
  next: string,
  distance: { ahead: number; back: number } | null,
): string {
  if (serving === next) return `${short(next)}, the commit serving now`;
  const arrow = `${short(serving)} → ${short(next)}`;
  if (!distance) return arrow;
  if (distance.back === 0) return `${arrow}, ${commits(distance.ahead)} ahead`;
  if (distance.ahead === 0) return `${arrow}, ${commits(distance.back)} back`;
  return `${arrow}, ${commits(distance.ahead)} ahead and ${commits(distance.back)} back (diverged)`;
}

/** The plan as --dry-run --json prints it: secret values masked. */
export function publicPlan(p: ActionPlan) {
  return {
    action: p.action,
    app: p.app,
    title: p.title,
    endpoint: p.endpoint,
    target: p.target
      ? {
          id: p.target.id,
          version: p.target.version,
          status: p.target.status,
          commit: p.target.commit,
          commitSubject: p.target.commitSubject,
        }
      : null,
    commit: { sha: p.source.commit, subject: p.source.commitSubject, ref: p.source.ref, dirty: p.source.dirty },
    newVersion: p.newVersion,
    image: p.image,
    config: publicConfig(p.config),
    current: p.current,
    commitRange: p.commitRange,
    gate: p.gate,
    serving: p.serving,
    switchStrategy: p.switchStrategy,
    changes: p.changes,
    changesAgainst: p.changesAgainst,
    noop: p.noop,
    warnings: p.warnings,
  };
}
