import { runtimeOfKind, workloadsOn } from '../adapters/runtime/runtime-for.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { LABEL } from '../core/names.js';
import { inScope, namedIds, planSync, toInspect, type InspectedContainer } from '../core/sync-plan.js';
import type { Status } from '../core/types.js';
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

/**
 * `deploy sync`: brings the store in line with what an engine holds (what changes is decided by planSync in
 * core/sync-plan.ts; this gathers what it needs and writes what it decides). Deployments made elsewhere (another
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
export async function syncEngine(
  ctx: Context,
  engine: Engine,
  app?: string,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const store = ctx.store();
  const url = engine.endpoint.url;
  const known = store.appNames();
  const scope = { app, all: options.all, known };

  const readAt = ctx.now();
  const [containers, images, locks] = await Promise.all([
    workloadsOn(engine, app ? { [LABEL.app]: app } : { [LABEL.app]: null }),
    imagesOf(engine, app),
    options.underLock
      ? Promise.resolve([])
      : engine.containers.list(app ? { [LABEL.lock]: app } : { [LABEL.lock]: null }),
  ]);
  const report: SyncReport = {
    endpoint: url,
    added: [],
    corrected: [],
    conflicts: [],
    adopted: [],
    notAdopted: [],
    busy: [],
    rolledBack: [],
    current: {},
  };

  // Apps someone is changing right now: left alone (under our own lock no one else is at work).
  const busy = new Set<string>();
  if (!options.underLock) {
    for (const a of store.appsInProgress()) busy.add(a);
    for (const l of locks) {
      const a = l.labels[LABEL.lock] as string;
      if (busy.has(a) || !inScope(scope, a)) continue;
      const held = await readLock(engine, a).catch(() => null);
      if (held !== null && stalenessHere(held, ctx.now()) === null) busy.add(a);
    }
  }

  // Gathered: the records the engine names and those that say a container exists, then the inspections the plan needs.
  const named = namedIds(containers, images).flatMap((id) => store.getDeployment(id) ?? []);
  const withContainers = store.list({ statuses: ['running', 'stopped', 'exited'] });
  const seen = { endpoint: url, now: ctx.now(), scope, busy: [...busy], containers, images, named, withContainers };
  const inspected = new Map<string, InspectedContainer | null>();
  // Each asked of the runtime that runs it: as listed, else as its record says.
  const kindOf = new Map([
    ...[...named, ...withContainers].flatMap((d) => (d.containerId ? [[d.containerId, d.runtime] as const] : [])),
    ...containers.map((c) => [c.id, c.runtime] as const),
  ]);
  for (const id of toInspect(seen))
    inspected.set(id, await runtimeOfKind(engine, kindOf.get(id) ?? 'container').inspect(id));
  const plan = planSync({ ...seen, inspected });

  for (const change of plan.changes) {
    if (change.kind === 'add') {
      const d = change.deployment;
      if (store.insertDeployment(d)) {
        store.addEvent(
          d.id,
          ctx.now(),
          'synced',
          `added from ${change.from} labels on ${url}; times after the build are approximate`,
        );
        report.added.push({ id: d.id, app: d.app, version: d.version, status: d.status, from: change.from });
      } else {
        report.conflicts.push({
          id: d.id,
          app: d.app,
          version: d.version,
          reason: `${d.app}@v${d.version} is already another deployment in this store`,
        });
      }
      continue;
    }
    if (busy.has(change.app)) continue;
    if (change.kind === 'forget-container') {
      store.updateDeployment(change.id, { containerId: null });
      continue;
    }
    // Outside a lock, a deployment of the app that began (or ended) since the engine was read may have moved its
    // containers: what was read is then a moment of a switch-over, and is not recorded.
    if (
      !options.underLock &&
      (store.appsInProgress().has(change.app) || store.deploymentActivitySince(change.app, readAt))
    ) {
      busy.add(change.app);
      continue;
    }
    store.updateDeployment(change.id, change.patch);
    store.addEvent(change.id, ctx.now(), 'synced', `status ${change.from} → ${change.to}: ${change.why}`);
    report.corrected.push({
      id: change.id,
      app: change.app,
      version: change.version,
      from: change.from,
      to: change.to,
    });
  }

  for (const [a, id] of Object.entries(plan.current)) {
    store.setCurrent(a, id, ctx.now());
    report.current[a] = id;
  }

  // Releases that rollbacks replaced stay marked in a store rebuilt from the engine, so rollback never picks them.
  for (const a of new Set([...Object.keys(plan.labels), ...report.added.map((x) => x.app)])) {
    const records = store.list({ app: a });
    const marked = store.markRolledBack(a, rolledBackIds(records, plan.labels[a] ?? []));
    for (const id of marked) {
      const d = records.find((r) => r.id === id);
      if (!d) continue;
      store.addEvent(id, ctx.now(), 'synced', "marked rolled back: a rollback replaced it (from the engine's records)");
      report.rolledBack.push({ id, app: a, version: d.version });
    }
  }

  for (const a of new Set(report.added.map((x) => x.app))) {
    store.recomputeFirstReady(a);
    if (!known.includes(a)) report.adopted.push(a);
  }
  report.adopted.sort();
  report.notAdopted = plan.strangers;
  report.busy = [...busy].filter((a) => inScope(scope, a)).sort();
  if (app) ctx.syncedAt.set(`${url} ${app}`, ctx.now());
  return report;
}
