import type { ContainerState, Engine } from '../adapters/docker/engine.js';
import { LABEL } from '../core/names.js';
import { parseRecordLabel, type RecordLabel } from '../core/record-label.js';
import type { Deployment, EnvVar, Status } from '../core/types.js';
import type { Context } from '../context.js';
import { readLock, stalenessHere } from './lock.js';
import { imagesOf } from './retention.js';

export interface SyncReport {
  endpoint: string;
  added: Array<{ id: string; app: string; version: number; status: Status; from: 'container' | 'image' }>;
  corrected: Array<{ id: string; app: string; version: number; from: Status; to: Status }>;
  conflicts: Array<{ id: string; app: string; version: number; reason: string }>;
  current: Record<string, string | null>;
}

/** The status a container's state means for its deployment. */
function statusOf(state: ContainerState): Status {
  return state.running || state.restarting ? 'running' : 'stopped';
}

/** Fills secret values the label left out from the container's own environment (the engine has them). */
function withSecrets(env: Record<string, EnvVar>, containerEnv: readonly string[] | null): Record<string, EnvVar> {
  if (!containerEnv) return env;
  const values = new Map(containerEnv.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.secret && values.has(k) ? { value: values.get(k) as string, secret: true } : v]));
}

function fromLabel(r: RecordLabel, endpoint: string, extra: Partial<Deployment>): Deployment {
  return {
    ...r,
    status: 'superseded',
    imageId: null,
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
    exitCode: null,
    exitedAt: null,
    checkedAt: null,
    ...extra,
  } as Deployment;
}

/**
 * `deploy sync`: brings the store in line with what an engine holds. Deployments made elsewhere (another
 * laptop, another CI runner) are added from the record labels of their containers (running or stopped)
 * and of their images (an image left on an engine belongs to a deployment that served: failed builds'
 * images are removed); statuses of this store's records are corrected from the real container states.
 */
export async function syncEngine(ctx: Context, engine: Engine, app?: string, options: { underLock?: boolean } = {}): Promise<SyncReport> {
  const store = ctx.store();
  const url = engine.endpoint.url;
  // A container of a deployment another machine is still working on (its lock held) has not served yet: it is
  // left for a later sync rather than recorded as a release. Under our own lock no one else is at work.
  const busy = new Map<string, boolean>();
  const inProgressElsewhere = async (a: string): Promise<boolean> => {
    if (options.underLock) return false;
    if (!busy.has(a)) {
      const held = await readLock(engine, a).catch(() => null);
      busy.set(a, held !== null && stalenessHere(held, ctx.now()) === null);
    }
    return busy.get(a) as boolean;
  };
  const [containers, images] = await Promise.all([engine.listContainers(app ? { [LABEL.app]: app } : { [LABEL.app]: null }), imagesOf(engine, app)]);
  const report: SyncReport = { endpoint: url, added: [], corrected: [], conflicts: [], current: {} };

  // What the engine says: each deployment with a container, and its state.
  const live = new Map<string, { label: RecordLabel | null; state: ContainerState }>();
  for (const c of containers) {
    if (c.labels[LABEL.lock]) continue;
    const label = parseRecordLabel(c.labels[LABEL.record]);
    // Containers made before record labels existed still carry their deployment id.
    const id = label?.id ?? c.labels[LABEL.id];
    if (!id) continue;
    // The listing says enough about containers this store knows; only a stranger's is inspected (for the
    // secret values in its environment and when it started).
    const state = store.getDeployment(id)
      ? { id: c.id, name: c.name, running: c.state === 'running', restarting: c.state === 'restarting', status: c.state, exitCode: 0, restartCount: 0, health: null, labels: c.labels, error: '', imageId: c.imageId, env: [], startedAt: null }
      : label
        ? await engine.inspectContainer(c.id)
        : null;
    if (state) live.set(id, { label, state });
  }
  const built = new Map<string, { label: RecordLabel; imageId: string }>();
  for (const i of images) {
    const label = parseRecordLabel(i.labels[LABEL.record]);
    if (label) built.set(label.id, { label, imageId: i.id });
  }

  // The app's current deployment on this engine: the newest running one, else the newest with a container.
  const apps = new Set([...live.values()].map((l) => l.state.labels[LABEL.app] as string));
  const currentOf = new Map<string, string>();
  for (const a of apps) {
    const mine = [...live.entries()]
      .filter(([, l]) => l.state.labels[LABEL.app] === a)
      .sort(([, x], [, y]) => Number(statusOf(y.state) === 'running') - Number(statusOf(x.state) === 'running') || Number(y.state.labels[LABEL.version] ?? 0) - Number(x.state.labels[LABEL.version] ?? 0));
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

  for (const [id, { label, state }] of live) {
    const known = store.getDeployment(id);
    const status = statusOf(state);
    if (!known && label) {
      if (state.status === 'created' || (await inProgressElsewhere(label.app))) continue;
      const image = [...built.values()].find((b) => b.imageId === state.imageId);
      add(
        fromLabel(label, url, {
          status,
          imageId: image?.imageId ?? state.imageId,
          containerId: state.id,
          containerName: state.name,
          startedAt: state.startedAt,
          readyAt: state.startedAt ?? label.createdAt,
          finishedAt: state.startedAt ?? label.createdAt,
          config: { ...label.config, env: withSecrets(label.config.env, state.env) },
        }),
        'container',
      );
    } else if (known && known.endpoint === url && known.status !== status && (known.status === 'running' || known.status === 'stopped')) {
      store.updateDeployment(id, { status, containerId: state.id });
      store.addEvent(id, ctx.now(), 'synced', `status ${known.status} → ${status}, as the engine says`);
      report.corrected.push({ id, app: known.app, version: known.version, from: known.status, to: status });
    }
  }

  for (const [id, { label, imageId }] of built) {
    if (live.has(id) || store.getDeployment(id) || (await inProgressElsewhere(label.app))) continue;
    // Its container is gone: it served and was replaced. Secret values come from the app's current container.
    const current = currentOf.get(label.app);
    let env = label.config.env;
    const wanted = Object.values(env).some((v) => v.secret);
    const holder = current ? live.get(current) : undefined;
    if (wanted && holder) {
      // The listing gave no environment; the live container's inspection has the secret values.
      if (holder.state.env.length === 0) holder.state = (await engine.inspectContainer(holder.state.id)) ?? holder.state;
      env = withSecrets(env, holder.state.env);
    }
    add(fromLabel(label, url, { imageId, readyAt: label.buildFinishedAt ?? label.createdAt, finishedAt: label.buildFinishedAt ?? label.createdAt, config: { ...label.config, env }, supersededBy: current ?? null }), 'image');
  }

  // This store's records on this engine whose containers are gone (deployments still in progress are left
  // to the process doing them).
  for (const d of store.list({ statuses: ['running', 'stopped'] })) {
    if (d.endpoint !== url || (app && d.app !== app) || live.has(d.id)) continue;
    const to: Status = currentOf.has(d.app) ? 'superseded' : 'stopped';
    if (d.status === to && d.containerId === null) continue;
    store.updateDeployment(d.id, { status: to, containerId: null, ...(to === 'superseded' ? { supersededBy: currentOf.get(d.app) ?? null } : {}) });
    store.addEvent(d.id, ctx.now(), 'synced', `status ${d.status} → ${to}: its container is no longer on the engine`);
    report.corrected.push({ id: d.id, app: d.app, version: d.version, from: d.status, to });
  }

  for (const [a, id] of currentOf) {
    store.setCurrent(a, id, ctx.now());
    report.current[a] = id;
  }
  for (const a of new Set(report.added.map((x) => x.app))) store.recomputeFirstReady(a);
  if (app) ctx.syncedAt.set(`${url} ${app}`, ctx.now());
  return report;
}

/**
 * The deployment a user means, after syncing its app from its engine: "web" is then what really runs now,
 * even when another machine deployed it. For commands that act on what runs (stop, start, restart, redeploy).
 */
export async function resolveFresh(ctx: Context, ref: string, options: { allowApp?: boolean } = {}): Promise<Deployment> {
  const { resolveDeployment } = await import('./resolve.js');
  const { endpointForUrl } = await import('./engines.js');
  const first = resolveDeployment(ctx, ref, options);
  await syncEngine(ctx, await ctx.engine(endpointForUrl(ctx, first.endpoint)), first.app);
  return resolveDeployment(ctx, ref, options);
}
