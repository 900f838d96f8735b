import { routedByFrontDoor } from './front-door.js';
import { imageRef, isUnproven, LABEL } from './names.js';
import { IN_PROGRESS, type Deployment } from './types.js';

/**
 * The recovery of an app on an engine decided as data (services/recovery.ts gathers and carries it out): under the
 * app's lock no process works on a deployment still "in progress", so it is marked interrupted; containers that
 * interrupted and failed deployments left go (their logs kept, with a never-served image), and so does any
 * container still named ".starting"; a deployment that passed its gate but was not yet made current is; one a
 * newer deployment replaced is retired; and the current one, if an interrupted switch-over stopped it, is started
 * again (restartCurrent, once its container has been looked at).
 */

/** A container of the app, as the engine's listing shows it. */
export interface AppContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface RecoveryInput {
  endpoint: string;
  /** The app's records in progress (queued, building, starting), newest first. */
  inProgress: readonly Deployment[];
  /** The app's interrupted and failed records, newest first. */
  interruptedOrFailed: readonly Deployment[];
  /** The event types of the records eventsToRead names. */
  events: ReadonlyMap<string, readonly string[]>;
  /** The app's containers on the engine. */
  containers: readonly AppContainer[];
  /** The records of the deployments whose containers are still named ".starting" (by their id label). */
  named: readonly Deployment[];
  /** The app's current deployment (running, stopped or exited), if any. */
  current: Deployment | null;
  /** The app's running and stopped records, newest first. */
  runningOrStopped: readonly Deployment[];
}

export type RecoveryAction =
  /** No process works on it: interrupted (why, for its timeline). */
  | { kind: 'mark-interrupted'; deployment: Deployment; why: string }
  /** An interrupted switch-over had begun stopping the deployment it replaced: noted once, as seen to. */
  | { kind: 'note-recovered'; deployment: Deployment }
  /** The container an interrupted or failed deployment left: logs kept, removed, with its image if it never served. */
  | { kind: 'remove-container'; deployment: Deployment & { containerId: string }; image: string | null }
  /** A container that never passed its health gate, and its record if this store has one. */
  | {
      kind: 'remove-unproven';
      container: AppContainer;
      deployment: Deployment | null;
      why: string;
      keepLogs: boolean;
      markInterrupted: boolean;
    }
  /** It passed its gate and serves, but its process died before making it the app's current one. */
  | { kind: 'make-current'; deployment: Deployment }
  /** Replaced by the current one, whose process died before retiring it. */
  | { kind: 'retire'; deployment: Deployment; by: Deployment }
  /**
   * Before a release goes that the front door may route to or still gate (the door finishes a route whose sender
   * died: its exec outlives the process): the door is sent the current release's route, which overtakes a gate in
   * flight and swaps back if the dead one's had passed.
   */
  | { kind: 'door-to-current'; deployment: Deployment }
  /** As door-to-current, for an app with no current release: its route is removed (a gate in flight cancelled). */
  | { kind: 'door-forget'; app: string };

export interface RecoveryPlan {
  /** What to do, in order. */
  actions: RecoveryAction[];
  /** The app's current deployment once the plan is carried out. */
  current: Deployment | null;
  /** An interrupted switch-over may have a stop of the current deployment still in flight on the engine. */
  stopsInFlight: boolean;
  /** The current deployment's container to look at (restartCurrent decides from what it shows), if any. */
  lookAt: string | null;
}

/** Interrupted records on this engine whose events the plan reads (was a stop of the old one begun? seen to?). */
export function eventsToRead(input: Pick<RecoveryInput, 'endpoint' | 'inProgress' | 'interruptedOrFailed'>): string[] {
  return [
    ...input.inProgress,
    ...input.interruptedOrFailed.filter((d) => d.status === 'interrupted' && d.finishedAt !== null),
  ]
    .filter((d) => d.endpoint === input.endpoint)
    .map((d) => d.id);
}

const NO_PROCESS = 'no process was working on it';

export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const url = input.endpoint;
  const actions: RecoveryAction[] = [];
  const events = (id: string) => input.events.get(id) ?? [];

  const marked = input.inProgress.filter((d) => d.endpoint === url);
  for (const d of marked) actions.push({ kind: 'mark-interrupted', deployment: d, why: NO_PROCESS });
  const markedIds = new Set(marked.map((d) => d.id));
  // What the records say once those are marked (interrupted, finished now), newest first.
  const interruptedOrFailed = [
    ...input.interruptedOrFailed,
    ...marked.map((d) => ({ ...d, status: 'interrupted' as const })),
  ].sort((a, b) => b.createdAt - a.createdAt);

  // Interrupted switch-overs that had begun stopping the deployment they replace (whose stop may still run).
  const stopsInFlight = interruptedOrFailed.filter(
    (d) =>
      d.status === 'interrupted' &&
      d.endpoint === url &&
      (markedIds.has(d.id) || d.finishedAt !== null) &&
      !events(d.id).includes('recovered') &&
      events(d.id).includes('stopping-old'),
  );
  for (const d of stopsInFlight) actions.push({ kind: 'note-recovered', deployment: d });

  const removed = new Set<string>();
  for (const d of interruptedOrFailed) {
    if (d.endpoint !== url || !d.containerId) continue;
    removed.add(d.containerId);
    actions.push({
      kind: 'remove-container',
      deployment: { ...d, containerId: d.containerId },
      image: d.readyAt === null && d.image === imageRef(d.app, d.id) ? d.image : null,
    });
  }

  // A container still named ".starting" under the app's lock has no process working on it: a deploy died before
  // its gate passed, perhaps before it could even record the container's id. It never served; it goes.
  const named = new Map(input.named.map((d) => [d.id, d]));
  for (const c of input.containers) {
    if (!isUnproven(c.name) || removed.has(c.id)) continue;
    const id = c.labels[LABEL.id];
    const recorded = id ? named.get(id) : undefined;
    const d =
      recorded && markedIds.has(recorded.id) ? { ...recorded, status: 'interrupted' as const } : (recorded ?? null);
    actions.push({
      kind: 'remove-unproven',
      container: c,
      deployment: d,
      why: NO_PROCESS,
      keepLogs: d !== null && d.endpoint === url,
      markInterrupted: d !== null && IN_PROGRESS.includes(d.status),
    });
  }

  let current = input.current;
  // Killed between passing its gate and being made current: it serves, so it is the current one.
  const newest = input.runningOrStopped.find((d) => d.status === 'running' && d.endpoint === url && d.readyAt !== null);
  if (newest && current && newest.id !== current.id && newest.createdAt > current.createdAt) {
    actions.push({ kind: 'make-current', deployment: newest });
    current = newest;
  }
  // Killed while retiring the deployment it replaced: the new one serves and is current; the old one is retired
  // now, so that no two records of the app say running and a stale one is never started beside the real one.
  for (const d of input.runningOrStopped) {
    if (d.endpoint !== url || !current || d.id === current.id || d.createdAt > current.createdAt) continue;
    actions.push({ kind: 'retire', deployment: d, by: current });
  }
  const lookAt =
    current?.status === 'running' && current.containerId && current.endpoint === url ? current.containerId : null;
  const door = doorBeforeRemovals(actions, current, url);
  if (door) actions.splice(actions.findIndex(isRemoval), 0, door);
  return { actions, current, stopsInFlight: stopsInFlight.length > 0, lookAt };
}

function isRemoval(a: RecoveryAction): a is Extract<RecoveryAction, { kind: 'remove-container' | 'remove-unproven' }> {
  return a.kind === 'remove-container' || a.kind === 'remove-unproven';
}

/** What the front door is sent before the plan removes releases of an app it routes (see door-to-current). */
function doorBeforeRemovals(
  actions: readonly RecoveryAction[],
  current: Deployment | null,
  url: string,
): RecoveryAction | null {
  const removed = actions.filter(isRemoval).map((a) => a.deployment);
  if (removed.length === 0) return null;
  if (current?.status === 'running' && current.containerId && current.endpoint === url)
    return routedByFrontDoor(current.config) ? { kind: 'door-to-current', deployment: current } : null;
  if (current === null && removed.some((d) => d !== null && routedByFrontDoor(d.config)))
    return { kind: 'door-forget', app: removed.find((d) => d !== null)!.app };
  return null;
}

/**
 * Whether the current deployment is started again, given what its container shows (null: gone): when a stop of an
 * interrupted stop-first switch may still be in flight, the stop is waited out first (an app that ignores SIGTERM
 * takes the whole stop timeout, and starting it before would be undone by that stop); a container that is down is
 * started; one that runs, or restarts by its policy, is left.
 */
export function restartCurrent(
  state: { running: boolean; restarting: boolean } | null,
  stopsInFlight: boolean,
): 'wait-then-start' | 'start' | null {
  if (state?.running && stopsInFlight) return 'wait-then-start';
  if (state && !state.running && !state.restarting) return 'start';
  return null;
}
