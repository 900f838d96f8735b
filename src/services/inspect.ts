import { imageLocations, type ImageLocations } from '../core/image-place.js';
import { publicRecord } from '../core/record-view.js';
import { urlsOf } from '../core/urls.js';
import type { Deployment, DeploymentEvent } from '../core/types.js';
import type { Context } from '../context.js';
import { serviceTasks, type TaskReport } from './tasks.js';

export interface Inspection {
  deployment: Deployment;
  events: DeploymentEvent[];
  /** Parent, grandparent, ...: where a redeploy or rollback came from. */
  parents: Deployment[];
  logs: { build: boolean; runtime: boolean };
  /** Where its image lives: the registry it was pushed to, the engines whose records ran it. */
  image: ImageLocations;
  /** A Swarm service's tasks as its manager has them now (null: not a service, or gone); see withTasks. */
  tasks?: TaskReport | null;
}

/** Everything the store knows about one deployment. Reads only the store: it works with the engine down. */
export function inspectDeployment(ctx: Context, d: Deployment): Inspection {
  const store = ctx.store();
  const parents: Deployment[] = [];
  const seen = new Set([d.id]);
  let parentId = d.parentId;
  while (parentId && !seen.has(parentId) && parents.length < 50) {
    seen.add(parentId);
    const p = store.getDeployment(parentId);
    if (!p) break;
    parents.push(p);
    parentId = p.parentId;
  }
  return {
    deployment: d,
    events: store.events(d.id),
    parents,
    image: imageLocations(d, store.list({ app: d.app })),
    logs: {
      build: store.getLog(d.id, 'build') !== null,
      runtime: store.getLog(d.id, 'runtime') !== null || d.containerId !== null,
    },
  };
}

/** The inspection with, for a deployment that runs as a Swarm service, its tasks as the manager has them now. */
export async function withTasks(ctx: Context, i: Inspection): Promise<Inspection> {
  return { ...i, tasks: await serviceTasks(ctx, i.deployment) };
}

/** The exportable record (the seeds' "Download JSON"): the record, its timeline and its parent chain. */
export function inspectionJson(i: Inspection) {
  return {
    ...publicRecord(i.deployment),
    events: i.events.map((e) => ({ at: new Date(e.at).toISOString(), type: e.type, message: e.message })),
    parents: i.parents.map((p) => ({ id: p.id, version: p.version, kind: p.kind, status: p.status, commit: p.commit })),
    logs: i.logs,
    imageLocations: i.image,
    /** Where a person opens it: through the front door, or the ports its container publishes. */
    urls: urlsOf(i.deployment),
    /** A Swarm service's: desired against running (per node) and each task; absent for a container. */
    ...(i.tasks
      ? i.tasks.error === null
        ? { replicas: i.tasks.counts, tasks: i.tasks.tasks }
        : { tasks: null, tasksError: i.tasks.error }
      : {}),
  };
}
