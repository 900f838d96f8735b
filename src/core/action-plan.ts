import type { ConfigChange } from './config-diff.js';
import { publicConfig } from './record-view.js';
import type { DeployConfig, Deployment } from './types.js';
import type { SwitchStrategy } from './plan.js';

export type Action = 'redeploy' | 'rollback' | 'stop' | 'start' | 'restart';

/** How the image of a planned deployment comes to be. */
export type ImageSource =
  | { how: 'reuse'; ref: string; imageId: string; from: string }
  | { how: 'build'; noCache: boolean; reason: string }
  | { how: 'existing'; ref: string | null; imageId: string | null };

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
  /** The deployment acted on (redeploy / rollback: the one shipped again). */
  target: Deployment;
  newVersion: number | null;
  image: ImageSource;
  config: DeployConfig;
  /** What happens to what serves now. */
  serving: string;
  switchStrategy: SwitchStrategy | null;
  /** How the configuration differs from the target's snapshot (redeploy) or from what serves (rollback). */
  changes: ConfigChange[];
  changesAgainst: string | null;
  /** Nothing to do (stop of a stopped one, rollback to what runs): said, and exit 0. */
  noop: string | null;
}

/** The plan as --dry-run --json prints it: secret values masked. */
export function publicPlan(p: ActionPlan) {
  return {
    action: p.action,
    app: p.app,
    title: p.title,
    endpoint: p.endpoint,
    target: { id: p.target.id, version: p.target.version, status: p.target.status, commit: p.target.commit, commitSubject: p.target.commitSubject },
    newVersion: p.newVersion,
    image: p.image,
    config: publicConfig(p.config),
    serving: p.serving,
    switchStrategy: p.switchStrategy,
    changes: p.changes,
    changesAgainst: p.changesAgainst,
    noop: p.noop,
  };
}
