import { runtimeKindOf } from './runtime-choice.js';
import { isUnproven, LABEL } from './names.js';
import { containerUp, observe, type Observation } from './observed.js';
import { parseRecordLabel, type RecordLabel } from './record-label.js';
import { ROLLED_BACK_HISTORY, type Deployment, type EnvVar, type Status } from './types.js';

/**
 * `deploy sync` decided as data: given this store's records and what an engine holds (its containers and images,
 * with their record labels), which records are added (adopted from labels), which change to which status, which
 * lose a container that is gone, and which deployment is each app's current one. The service (services/sync.ts)
 * only gathers what this needs and writes what it decides.
 */

/** A container as the engine's listing shows it. */
export interface ListedContainer {
  id: string;
  name: string;
  /** created, running, paused, restarting, removing, exited or dead. */
  state: string;
  exitCode: number | null;
  labels: Record<string, string>;
}

/** A container as an inspection shows it. */
export interface InspectedContainer {
  id: string;
  name: string;
  status: string;
  restarting: boolean;
  exitCode: number;
  imageId: string;
  env: string[];
  startedAt: number | null;
  finishedAt: number | null;
}

/** An image of the apps, with its labels. */
export interface ListedImage {
  id: string;
  labels: Record<string, string>;
}

export interface SyncScope {
  /** Only this app (`sync --app`), whether this store knows it or not. */
  app?: string | undefined;
  /** Every app on the engine (`sync --all`). */
  all?: boolean | undefined;
  /** The apps this store knows: the only ones brought in otherwise. */
  known: readonly string[];
}

export interface SyncInput {
  endpoint: string;
  now: number;
  scope: SyncScope;
  /** Apps someone is changing right now (a live lock, a deployment in progress): left as recorded. */
  busy: readonly string[];
  /** The engine's containers of the apps (lock containers included: they are left out here). */
  containers: readonly ListedContainer[];
  images: readonly ListedImage[];
  /** This store's records of the deployments the engine's containers and images name (see namedIds). */
  named: readonly Deployment[];
  /** This store's records that say a container exists (running, stopped, exited), newest first. */
  withContainers: readonly Deployment[];
  /** The inspections made of the containers toInspect named (null: gone by the time it was asked). */
  inspected: ReadonlyMap<string, InspectedContainer | null>;
}

export type SyncChange =
  /** A record rebuilt from a label, from a container or from an image found without one. */
  | { kind: 'add'; deployment: Deployment; from: 'container' | 'image' }
  /** A record's status corrected, with the patch that says so and why (for its timeline). */
  | {
      kind: 'correct';
      id: string;
      app: string;
      version: number;
      from: Status;
      to: Status;
      patch: Partial<Deployment>;
      why: string;
    }
  /** A record that was already right, but names a container the engine no longer has. */
  | { kind: 'forget-container'; id: string; app: string };

export interface SyncPlan {
  /** What to write, in order. Corrections and forgotten containers are skipped for an app found busy meanwhile. */
  changes: SyncChange[];
  /** Each app's current deployment on this engine: the newest running one, else the newest with a container. */
  current: Record<string, string>;
  /** Apps on the engine out of scope, left alone. */
  strangers: string[];
  /** The record labels read, by app (releases that rollbacks replaced are marked from them). */
  labels: Record<string, RecordLabel[]>;
}

/** Is the app one sync brings in (given `--app`, `--all` and the apps the store knows)? */
export function inScope(scope: SyncScope, app: string): boolean {
  return scope.app !== undefined ? app === scope.app : scope.all === true || scope.known.includes(app);
}

/** The deployment ids the engine's containers and images name: the records sync must read. */
export function namedIds(containers: readonly ListedContainer[], images: readonly ListedImage[]): string[] {
  const ids = new Set<string>();
  for (const c of containers) {
    if (c.labels[LABEL.lock]) continue;
    const id = parseRecordLabel(c.labels[LABEL.record])?.id ?? c.labels[LABEL.id];
    if (id) ids.add(id);
  }
  for (const i of images) {
    const id = parseRecordLabel(i.labels[LABEL.record])?.id;
    if (id) ids.add(id);
  }
  return [...ids];
}

interface Live {
  label: RecordLabel | null;
  app: string;
  version: number;
  container: ListedContainer;
}

/** What the engine shows, read against the records: the deployments with a container, those with only an image. */
interface EngineView {
  records: Map<string, Deployment>;
  live: Map<string, Live>;
  built: Map<string, { label: RecordLabel; imageId: string }>;
  strangers: Set<string>;
  currentOf: Map<string, string>;
}

function view(input: Omit<SyncInput, 'inspected'>): EngineView {
  const records = new Map(input.named.map((d) => [d.id, d]));
  const busy = new Set(input.busy);
  const strangers = new Set<string>();
  const wanted = (a: string) => {
    if (!inScope(input.scope, a)) {
      strangers.add(a);
      return false;
    }
    return !busy.has(a);
  };
  const live = new Map<string, Live>();
  for (const c of input.containers) {
    if (c.labels[LABEL.lock]) continue;
    const label = parseRecordLabel(c.labels[LABEL.record]);
    // Containers made before record labels existed still carry their deployment id.
    const id = label?.id ?? c.labels[LABEL.id];
    const a = label?.app ?? c.labels[LABEL.app];
    if (!id || !a || !wanted(a)) continue;
    // A container this store has no record of is adopted from its label: without one there is nothing to adopt.
    if (!records.has(id) && !label) continue;
    live.set(id, { label, app: a, version: label?.version ?? Number(c.labels[LABEL.version] ?? 0), container: c });
  }
  const built = new Map<string, { label: RecordLabel; imageId: string }>();
  for (const i of input.images) {
    const label = parseRecordLabel(i.labels[LABEL.record]);
    if (label && wanted(label.app)) built.set(label.id, { label, imageId: i.id });
  }
  // The app's current deployment on this engine: the newest running one, else the newest with a container. A
  // container still named ".starting" never passed its health gate: it is never the current one.
  const currentOf = new Map<string, string>();
  for (const a of new Set([...live.values()].map((l) => l.app))) {
    const mine = [...live.entries()]
      .filter(([, l]) => l.app === a && !isUnproven(l.container.name))
      .sort(
        ([, x], [, y]) => Number(containerUp(y.container)) - Number(containerUp(x.container)) || y.version - x.version,
      );
    if (mine[0]) currentOf.set(a, mine[0][0]);
  }
  return { records, live, built, strangers, currentOf };
}

/** What the listing alone says of a container this store has a record of, on this engine. */
function listed(input: { endpoint: string; now: number }, record: Deployment | undefined, l: Live): Observation | null {
  if (!record || record.endpoint !== input.endpoint) return null;
  return observe(record, { state: l.container.state, exitCode: l.container.exitCode }, input.now);
}

/** Images found without a container or a record: deployments that served elsewhere (or never passed their gate). */
function imageOnly(v: EngineView): Array<{ id: string; label: RecordLabel; imageId: string }> {
  return [...v.built].filter(([id]) => !v.live.has(id) && !v.records.has(id)).map(([id, b]) => ({ id, ...b }));
}

/**
 * The containers sync must inspect: those it adopts (their environment holds the secret values the label left out,
 * and they say when they started), those whose record turns exited (the listing gives no exit time), and an app's
 * current one when an image it adopts had secrets (their values are in the current container's environment).
 */
export function toInspect(input: Omit<SyncInput, 'inspected'>): string[] {
  const v = view(input);
  const ids = new Set<string>();
  for (const [id, l] of v.live) {
    const record = v.records.get(id);
    if (!record) ids.add(l.container.id);
    else if (listed(input, record, l)?.status === 'exited') ids.add(l.container.id);
  }
  for (const { label } of imageOnly(v)) {
    const current = v.currentOf.get(label.app);
    const holder = current ? v.live.get(current) : undefined;
    if (holder && Object.values(label.config.env).some((e) => e.secret)) ids.add(holder.container.id);
  }
  return [...ids];
}

/**
 * Whether an image found without its container belongs to a deployment that served, as the app's current container
 * tells: its label names the deployments that had served when it was made. A label from before that list existed
 * (or no current container) cannot tell, and the image is taken as served, as it always was.
 */
function servedPerCurrent(label: RecordLabel, current: Live | undefined): boolean {
  const raw = current?.container.labels[LABEL.record];
  if (!current?.label || !raw?.includes('"servedBefore"')) return true;
  if (label.version > current.version) return false;
  const history = current.label.servedBefore;
  if (history.includes(label.id)) return true;
  return history.length >= ROLLED_BACK_HISTORY && label.version < current.version;
}

/** Fills secret values the label left out from the container's own environment (the engine has them). */
function withSecrets(env: Record<string, EnvVar>, containerEnv: readonly string[] | null): Record<string, EnvVar> {
  if (!containerEnv) return env;
  const values = new Map(
    containerEnv.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const),
  );
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      v.secret && values.has(k) ? { value: values.get(k) as string, secret: true } : v,
    ]),
  );
}

/**
 * A record rebuilt from a label. Its runtime is the one its settings chose (runtime swarm: a Swarm service, else a
 * container; its workload: the container or service found, if any); its image's digest is the registry digest its label names when
 * it was pushed, else the content id sync found.
 */
export function fromLabel(r: RecordLabel, endpoint: string, extra: Partial<Deployment>): Deployment {
  return {
    ...r,
    status: 'superseded',
    imageId: null,
    // A pushed release's registry digest, from its label; else the content id sync found.
    imageDigest: (r.config.registry ? r.imageDigest : null) ?? extra.imageId ?? null,
    runtime: runtimeKindOf(r.config),
    workload: extra.containerId ?? null,
    containerId: null,
    containerName: null,
    endpoint,
    startedAt: null,
    readyAt: null,
    finishedAt: null,
    error: null,
    supersededBy: null,
    rolledBack: false,
    worker: null,
    overrides: null,
    exitCode: null,
    exitedAt: null,
    checkedAt: null,
    ...extra,
  } as Deployment;
}

/**
 * What sync writes. Deployments made elsewhere are added from the record labels of their containers (running or
 * not; one still named ".starting" never passed its gate: interrupted) and of their images (an image left on an
 * engine belongs to a deployment that served, unless the current container's label says it never did: failed);
 * this store's records are corrected from the real container states (`observe`: a container that died unasked is
 * `exited`; one stopped with `deploy stop` stays `stopped`), and a record whose container is gone is superseded when
 * another deployment of the app has one, else observed as gone.
 */
export function planSync(input: SyncInput): SyncPlan {
  const { endpoint: url, now } = input;
  const v = view(input);
  const changes: SyncChange[] = [];
  const add = (deployment: Deployment, from: 'container' | 'image') => changes.push({ kind: 'add', deployment, from });
  const correct = (d: Deployment, to: Status, patch: Partial<Deployment>, why: string) =>
    changes.push({
      kind: 'correct',
      id: d.id,
      app: d.app,
      version: d.version,
      from: d.status,
      to,
      patch: { status: to, ...patch },
      why,
    });
  const inspected = (id: string) => input.inspected.get(id) ?? null;

  for (const [id, l] of v.live) {
    const record = v.records.get(id);
    if (!record && l.label && isUnproven(l.container.name)) {
      // Its deploy ended (killed, lost its engine) before the health gate passed, and no one works on it now (its
      // app is not busy): it never served. Recorded interrupted, with its container, which the next change to the
      // app removes.
      const message = 'its deploy ended before its health gate passed (found on the engine by sync)';
      add(
        fromLabel(l.label, url, {
          status: 'interrupted',
          containerId: l.container.id,
          containerName: l.container.name,
          checkedAt: now,
          error: { code: 'interrupted', message },
        }),
        'container',
      );
    } else if (!record && l.label) {
      const state = inspected(l.container.id);
      if (!state || state.status === 'created') continue;
      const image = [...v.built.values()].find((b) => b.imageId === state.imageId);
      const running = containerUp(l.container);
      add(
        fromLabel(l.label, url, {
          status: running ? 'running' : 'exited',
          exitCode: running ? null : state.exitCode,
          exitedAt: running ? null : state.finishedAt,
          checkedAt: now,
          imageId: image?.imageId ?? state.imageId,
          containerId: state.id,
          containerName: state.name,
          startedAt: state.startedAt,
          readyAt: state.startedAt ?? l.label.createdAt,
          finishedAt: state.startedAt ?? l.label.createdAt,
          config: { ...l.label.config, env: withSecrets(l.label.config.env, state.env) },
        }),
        'container',
      );
    } else if (record) {
      let observation = listed(input, record, l);
      if (observation?.status === 'exited') {
        // The listing names the exit code; the time it exited takes an inspection (only when the state changed).
        const state = inspected(l.container.id);
        if (state)
          observation = observe(
            record,
            {
              state: state.restarting ? 'restarting' : state.status,
              exitCode: state.exitCode,
              finishedAt: state.finishedAt,
            },
            now,
          );
      }
      if (observation)
        correct(
          record,
          observation.status,
          {
            containerId: l.container.id,
            exitCode: observation.exitCode,
            exitedAt: observation.exitedAt,
            checkedAt: now,
          },
          `${observation.why}, as the engine says`,
        );
    }
  }

  for (const { label, imageId } of imageOnly(v)) {
    // Its container is gone: it served and was replaced. Secret values come from the app's current container.
    const current = v.currentOf.get(label.app);
    const holder = current ? v.live.get(current) : undefined;
    const env =
      holder && Object.values(label.config.env).some((e) => e.secret)
        ? withSecrets(label.config.env, inspected(holder.container.id)?.env ?? null)
        : label.config.env;
    if (!servedPerCurrent(label, holder)) {
      // Left by a deploy that never passed its gate (its image could not be removed: a full disk, a lost engine).
      const message = 'never passed its health gate: its image was left on the engine (found by sync)';
      add(
        fromLabel(label, url, {
          status: 'failed',
          imageId,
          finishedAt: label.buildFinishedAt ?? label.createdAt,
          config: { ...label.config, env },
          error: { code: 'failed', message },
        }),
        'image',
      );
      continue;
    }
    add(
      fromLabel(label, url, {
        imageId,
        readyAt: label.buildFinishedAt ?? label.createdAt,
        finishedAt: label.buildFinishedAt ?? label.createdAt,
        config: { ...label.config, env },
        supersededBy: current ?? null,
      }),
      'image',
    );
  }

  // This store's records on this engine whose containers are gone (deployments still in progress are left to the
  // process doing them).
  const busy = new Set(input.busy);
  for (const d of input.withContainers) {
    if (d.endpoint !== url || !inScope(input.scope, d.app) || busy.has(d.app) || v.live.has(d.id)) continue;
    const replacedBy = v.currentOf.get(d.app);
    if (replacedBy) {
      correct(
        d,
        'superseded',
        { containerId: null, supersededBy: replacedBy },
        'its container is no longer on the engine, and another deployment of the app has one',
      );
      continue;
    }
    const observation = observe(d, null, now);
    if (observation)
      correct(
        d,
        observation.status,
        { containerId: null, exitCode: observation.exitCode, exitedAt: observation.exitedAt, checkedAt: now },
        observation.why,
      );
    else if (d.containerId !== null) changes.push({ kind: 'forget-container', id: d.id, app: d.app });
  }

  const labels: Record<string, RecordLabel[]> = {};
  for (const l of [...[...v.live.values()].map((x) => x.label), ...[...v.built.values()].map((b) => b.label)]) {
    if (l) (labels[l.app] ??= []).push(l);
  }
  return { changes, current: Object.fromEntries(v.currentOf), strangers: [...v.strangers].sort(), labels };
}
