import { runtimeOn } from '../adapters/runtime/containers.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { ContainerState, ContainerSummary } from '../adapters/docker/engine/types.js';
import { isUnproven, LABEL } from '../core/names.js';
import { containerUp, observe } from '../core/observed.js';
import { parseRecordLabel, type RecordLabel } from '../core/record-label.js';
import { ROLLED_BACK_HISTORY, type Deployment, type EnvVar, type Status } from '../core/types.js';
import type { Context } from '../context.js';
import { readLock, stalenessHere } from './lock.js';
import { imagesOf } from './retention.js';
import { rolledBackIds } from '../core/rolled-back.js';

export interface SyncReport {
  endpoint: string;
  added: Array<{ id: string; app: string; version: number; status: Status; from: 'container' | 'image' }>;
  corrected: Array<{ id: string; app: string; version: number; from: Status; to: Status }>;
  conflicts: Array<{ id: string; app: string; version: number; reason: string }>;
  /** Apps this store did not know before, brought in by this sync (`--all`, or `--app`). */
  adopted: string[];
  /** Apps on the engine this store does not know, left alone (`sync --all` adopts them). */
  notAdopted: string[];
  /** Apps left as recorded because another command is changing them (their lock is held, or a deployment is in progress). */
  busy: string[];
  /** Deployments marked as rolled back (the record labels' history, or their place before a rollback). */
  rolledBack: Array<{ id: string; app: string; version: number }>;
  current: Record<string, string | null>;
}

export interface SyncOptions {
  /** Run under the app's own lock (deploy, rollback, ...): no one else is at work on it. */
  underLock?: boolean;
  /** Adopt every app on the engine, not only those this store knows. */
  all?: boolean;
}

interface Live {
  label: RecordLabel | null;
  app: string;
  version: number;
  summary: ContainerSummary;
  /** The inspection, for strangers (environment, start time) and for containers that exited (their exit time). */
  state: ContainerState | null;
}

/**
 * Whether an image found without its container belongs to a deployment that served, as the app's current container
 * tells: its label names the deployments that had served when it was made. A label from before that list existed
 * (or no current container) cannot tell, and the image is taken as served, as it always was.
 */
function servedPerCurrent(label: RecordLabel, current: Live | undefined): boolean {
  const raw = current?.summary.labels[LABEL.record];
  if (!current?.label || !raw?.includes('"servedBefore"')) return true;
  if (label.version > current.version) return false;
  const history = current.label.servedBefore;
  if (history.includes(label.id)) return true;
  return history.length >= ROLLED_BACK_HISTORY && label.version < current.version;
}

function up(l: Live): boolean {
  return containerUp(l.summary);
}

/** Fills secret values the label left out from the container's own environment (the engine has them). */
function withSecrets(env: Record<string, EnvVar>, containerEnv: readonly string[] | null): Record<string, EnvVar> {
  if (!containerEnv) return env;
  const values = new Map(containerEnv.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.secret && values.has(k) ? { value: values.get(k) as string, secret: true } : v]));
}

/**
 * A record rebuilt from a label. What sync reads on an engine is containers and images, so what it adopts ran as a
 * container (its workload: the container, if any); its image's digest is the content id sync found.
 */
function fromLabel(r: RecordLabel, endpoint: string, extra: Partial<Deployment>): Deployment {
  return {
    ...r,
    status: 'superseded',
    imageId: null,
    imageDigest: extra.imageId ?? null,
    runtime: 'container',
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
 * `deploy sync`: brings the store in line with what an engine holds. Deployments made elsewhere (another
 * laptop, another CI runner) are added from the record labels of their containers (running or not) and of
 * their images (an image left on an engine belongs to a deployment that served: failed builds' images are
 * removed); statuses of this store's records are corrected from the real container states (a container that
 * died unasked is `exited`; one stopped with `deploy stop` stays `stopped`).
 *
 * Only apps this store knows are brought in, unless `app` names one or `all` is given: on a shared engine
 * another person's apps are never adopted unasked. Outside a lock, apps another command is changing (lock
 * held by a live holder, or a deployment in progress in this store) are left as they are: what the engine
 * shows of them may be a moment of a switch-over.
 */
export async function syncEngine(ctx: Context, engine: Engine, app?: string, options: SyncOptions = {}): Promise<SyncReport> {
  const store = ctx.store();
  const url = engine.endpoint.url;
  const known = new Set(store.appNames());
  const inScope = (a: string) => (app !== undefined ? a === app : options.all === true || known.has(a));

  const readAt = ctx.now();
  const [containers, images, locks] = await Promise.all([
    runtimeOn(engine).list(app ? { [LABEL.app]: app } : { [LABEL.app]: null }),
    imagesOf(engine, app),
    options.underLock ? Promise.resolve([]) : engine.containers.list(app ? { [LABEL.lock]: app } : { [LABEL.lock]: null }),
  ]);
  const report: SyncReport = { endpoint: url, added: [], corrected: [], conflicts: [], adopted: [], notAdopted: [], busy: [], rolledBack: [], current: {} };

  // Apps someone is changing right now: left alone (under our own lock no one else is at work).
  const busy = new Set<string>();
  if (!options.underLock) {
    for (const a of store.appsInProgress()) busy.add(a);
    for (const l of locks) {
      const a = l.labels[LABEL.lock] as string;
      if (busy.has(a) || !inScope(a)) continue;
      const held = await readLock(engine, a).catch(() => null);
      if (held !== null && stalenessHere(held, ctx.now()) === null) busy.add(a);
    }
  }
  const strangers = new Set<string>();
  const wanted = (a: string) => {
    if (!inScope(a)) {
      strangers.add(a);
      return false;
    }
    return !busy.has(a);
  };

  // What the engine says: each deployment with a container, and its state.
  const live = new Map<string, Live>();
  for (const c of containers) {
    if (c.labels[LABEL.lock]) continue;
    const label = parseRecordLabel(c.labels[LABEL.record]);
    // Containers made before record labels existed still carry their deployment id.
    const id = label?.id ?? c.labels[LABEL.id];
    const a = label?.app ?? c.labels[LABEL.app];
    if (!id || !a || !wanted(a)) continue;
    // The listing says enough about containers this store knows; only a stranger's is inspected (for the
    // secret values in its environment and when it started).
    if (!store.getDeployment(id) && !label) continue;
    const state = store.getDeployment(id) ? null : await runtimeOn(engine).inspect(c.id);
    live.set(id, { label, app: a, version: label?.version ?? Number(c.labels[LABEL.version] ?? 0), summary: c, state });
  }
  const built = new Map<string, { label: RecordLabel; imageId: string }>();
  for (const i of images) {
    const label = parseRecordLabel(i.labels[LABEL.record]);
    if (label && wanted(label.app)) built.set(label.id, { label, imageId: i.id });
  }

  // The app's current deployment on this engine: the newest running one, else the newest with a container. A
  // container still named ".starting" never passed its health gate: it is never the current one.
  const currentOf = new Map<string, string>();
  for (const a of new Set([...live.values()].map((l) => l.app))) {
    const mine = [...live.entries()]
      .filter(([, l]) => l.app === a && !isUnproven(l.summary.name))
      .sort(([, x], [, y]) => Number(up(y)) - Number(up(x)) || y.version - x.version);
    if (mine[0]) currentOf.set(a, mine[0][0]);
  }

  const add = (d: Deployment, from: 'container' | 'image') => {
    if (store.insertDeployment(d)) {
      store.addEvent(d.id, ctx.now(), 'synced', `added from ${from} labels on ${url}; times after the build are approximate`);
      report.added.push({ id: d.id, app: d.app, version: d.version, status: d.status, from });
    } else {
      report.conflicts.push({ id: d.id, app: d.app, version: d.version, reason: `${d.app}@v${d.version} is already another deployment in this store` });
    }
  };
  const correct = (d: Deployment, to: Status, patch: Partial<Deployment>, why: string) => {
    // Outside a lock, a deployment of the app that began (or ended) since the engine was read may have moved its
    // containers: what was read is then a moment of a switch-over, and is not recorded.
    if (!options.underLock && (store.appsInProgress().has(d.app) || store.deploymentActivitySince(d.app, readAt))) {
      busy.add(d.app);
      return;
    }
    store.updateDeployment(d.id, { status: to, ...patch });
    store.addEvent(d.id, ctx.now(), 'synced', `status ${d.status} → ${to}: ${why}`);
    report.corrected.push({ id: d.id, app: d.app, version: d.version, from: d.status, to });
  };

  for (const [id, l] of live) {
    const record = store.getDeployment(id);
    if (!record && l.label && isUnproven(l.summary.name)) {
      // Its deploy ended (killed, lost its engine) before the health gate passed, and no one works on it now (its
      // app is not busy): it never served. Recorded interrupted, with its container, which the next change to the
      // app removes.
      const message = 'its deploy ended before its health gate passed (found on the engine by sync)';
      add(fromLabel(l.label, url, { status: 'interrupted', containerId: l.summary.id, containerName: l.summary.name, checkedAt: ctx.now(), error: { code: 'interrupted', message } }), 'container');
    } else if (!record && l.label) {
      const state = l.state;
      if (!state || state.status === 'created') continue;
      const image = [...built.values()].find((b) => b.imageId === state.imageId);
      const running = up(l);
      add(
        fromLabel(l.label, url, {
          status: running ? 'running' : 'exited',
          exitCode: running ? null : state.exitCode,
          exitedAt: running ? null : state.finishedAt,
          checkedAt: ctx.now(),
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
    } else if (record && record.endpoint === url) {
      let observation = observe(record, { state: l.summary.state, exitCode: l.summary.exitCode }, ctx.now());
      if (observation?.status === 'exited') {
        // The listing names the exit code; the time it exited takes an inspection (only when the state changed).
        const state = await runtimeOn(engine).inspect(l.summary.id);
        if (state) observation = observe(record, { state: state.restarting ? 'restarting' : state.status, exitCode: state.exitCode, finishedAt: state.finishedAt }, ctx.now());
      }
      if (observation) correct(record, observation.status, { containerId: l.summary.id, exitCode: observation.exitCode, exitedAt: observation.exitedAt, checkedAt: ctx.now() }, `${observation.why}, as the engine says`);
    }
  }

  for (const [id, { label, imageId }] of built) {
    if (live.has(id) || store.getDeployment(id)) continue;
    // Its container is gone: it served and was replaced. Secret values come from the app's current container.
    const current = currentOf.get(label.app);
    let env = label.config.env;
    const holder = current ? live.get(current) : undefined;
    if (holder && Object.values(env).some((v) => v.secret)) {
      // The listing gave no environment; the live container's inspection has the secret values.
      holder.state ??= await runtimeOn(engine).inspect(holder.summary.id);
      env = withSecrets(env, holder.state?.env ?? null);
    }
    if (!servedPerCurrent(label, holder)) {
      // Left by a deploy that never passed its gate (its image could not be removed: a full disk, a lost engine).
      const message = 'never passed its health gate: its image was left on the engine (found by sync)';
      add(fromLabel(label, url, { status: 'failed', imageId, finishedAt: label.buildFinishedAt ?? label.createdAt, config: { ...label.config, env }, error: { code: 'failed', message } }), 'image');
      continue;
    }
    add(fromLabel(label, url, { imageId, readyAt: label.buildFinishedAt ?? label.createdAt, finishedAt: label.buildFinishedAt ?? label.createdAt, config: { ...label.config, env }, supersededBy: current ?? null }), 'image');
  }

  // This store's records on this engine whose containers are gone (deployments still in progress are left
  // to the process doing them).
  for (const d of store.list({ statuses: ['running', 'stopped', 'exited'] })) {
    if (d.endpoint !== url || !inScope(d.app) || busy.has(d.app) || live.has(d.id)) continue;
    const replacedBy = currentOf.get(d.app);
    if (replacedBy) {
      correct(d, 'superseded', { containerId: null, supersededBy: replacedBy }, 'its container is no longer on the engine, and another deployment of the app has one');
      continue;
    }
    const observation = observe(d, null, ctx.now());
    if (observation) correct(d, observation.status, { containerId: null, exitCode: observation.exitCode, exitedAt: observation.exitedAt, checkedAt: ctx.now() }, observation.why);
    else if (d.containerId !== null) store.updateDeployment(d.id, { containerId: null });
  }

  for (const [a, id] of currentOf) {
    store.setCurrent(a, id, ctx.now());
    report.current[a] = id;
  }

  // Releases that rollbacks replaced stay marked in a store rebuilt from the engine, so rollback never picks them.
  const labelsByApp = new Map<string, RecordLabel[]>();
  for (const l of [...[...live.values()].map((x) => x.label), ...[...built.values()].map((b) => b.label)]) {
    if (l) labelsByApp.set(l.app, [...(labelsByApp.get(l.app) ?? []), l]);
  }
  for (const a of new Set([...labelsByApp.keys(), ...report.added.map((x) => x.app)])) {
    const records = store.list({ app: a });
    const marked = store.markRolledBack(a, rolledBackIds(records, labelsByApp.get(a) ?? []));
    for (const id of marked) {
      const d = records.find((r) => r.id === id);
      if (!d) continue;
      store.addEvent(id, ctx.now(), 'synced', 'marked rolled back: a rollback replaced it (from the engine\'s records)');
      report.rolledBack.push({ id, app: a, version: d.version });
    }
  }

  for (const a of new Set(report.added.map((x) => x.app))) {
    store.recomputeFirstReady(a);
    if (!known.has(a)) report.adopted.push(a);
  }
  report.adopted.sort();
  report.notAdopted = [...strangers].sort();
  report.busy = [...busy].filter(inScope).sort();
  if (app) ctx.syncedAt.set(`${url} ${app}`, ctx.now());
  return report;
}

