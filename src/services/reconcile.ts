import { isDeployError } from '../core/errors.js';
import { statSync } from 'node:fs';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { ContainerState, ContainerSummary } from '../adapters/docker/engine/types.js';
import { formatAge } from '../core/duration.js';
import { glanceContainers } from '../adapters/docker/glance.js';
import { LABEL } from '../core/names.js';
import { checkCurrent, type Observation } from '../core/observed.js';
import type { CurrentState } from '../adapters/store/store.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';

/**
 * Read-only commands (ls, inspect, stats, logs, status) compare the apps they show with their engines before
 * answering, cheaply: one container listing per engine, bounded in time. What they may record is only what
 * happened to a container outside the tool (it exited, crashed, was stopped or removed, or runs again), never
 * a moment of a switch-over: apps with a deployment in progress in the store, or whose lock is held by a live
 * holder, are left as recorded.
 */

/** The whole wait for all engines together: a read-only command never waits longer for them. */
export const RECONCILE_TIMEOUT_MS = 1_200;
/** An engine that did not answer is not asked again by read-only commands for this long (state from the store). */
const UNREACHABLE_MEMO_MS = 60_000;
/** How often a record's "checked at" is written when nothing changed (a write per ls would cost for nothing). */
const CHECKED_WRITE_MS = 30_000;

export interface Reconciled {
  /** Records whose status changed, with the reason. */
  changed: Array<{ deployment: Deployment; from: Deployment['status']; observation: Observation }>;
  /** Apps answered from the store: their engine did not answer (in time), or was not asked. */
  fromStore: Array<{ app: string; endpoint: string; reason: string; checkedAt: number | null }>;
  /** Apps left as recorded because someone is changing them right now. */
  busy: Array<{ app: string; why: string }>;
  /** What each compared deployment's engine showed (by deployment id): the listing, or with `inspect` the inspection. */
  seen: Map<string, { summary: ContainerSummary | null; inspected: ContainerState | null }>;
}

export interface ReconcileOptions {
  /** Only this app (default: every app with a current deployment). */
  app?: string | undefined;
  /** A deployment reference (id, APP@vN, app): its app. Unknown references reconcile nothing (the command says why). */
  ref?: string | undefined;
  /** Also inspect each current container (health, restart count, uptime: `deploy status`). */
  inspect?: boolean;
  /** Ask an engine even if it did not answer a moment ago (`deploy status`, the live view, always asks). */
  askAgain?: boolean;
  timeoutMs?: number;
  /** Say on stderr what changed and what is from the store (default true). */
  quiet?: boolean;
}

async function appOfRef(ctx: Context, ref: string): Promise<string | null> {
  try {
    const { deploymentByRef } = await import('./deployment-ref.js');
    return deploymentByRef(ctx, ref, { allowApp: true }).app;
  } catch {
    return null;
  }
}

/** A local socket that is not there cannot answer: no need to load the engine client to learn it. */
function missingSocket(url: string): boolean {
  if (!url.startsWith('unix://')) return false;
  try {
    return !statSync(decodeURIComponent(new URL(url).pathname)).isSocket();
  } catch {
    return true;
  }
}

function failureText(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${(timeoutMs / 1000).toFixed(1)} s`;
  const message = (error as Error).message ?? String(error);
  return message.replace(/^Cannot reach the Docker Engine at \S+ \((.*)\)\.?$/, '$1');
}

/** Is the app's lock (in the listing) held by a holder that is still alive? */
async function lockHeld(
  ctx: Context,
  engine: () => Promise<Engine>,
  listing: ContainerSummary[],
  app: string,
): Promise<boolean> {
  if (!listing.some((c) => c.labels[LABEL.lock] === app)) return false;
  const { readLock, stalenessHere } = await import('./lock.js');
  const held = await engine()
    .then((e) => readLock(e, app))
    .catch(() => null);
  return held !== null && stalenessHere(held, ctx.now()) === null;
}

/**
 * Compares the current deployments of the apps a read-only command shows with what their engines hold, and
 * records what changed outside the tool. Never throws for an engine that does not answer: the command answers
 * from the store, and says so once on stderr with how old the state is.
 */
export async function reconcile(ctx: Context, options: ReconcileOptions = {}): Promise<Reconciled> {
  try {
    return await reconcileOrFail(ctx, options);
  } catch (error) {
    // A store that cannot take the note (a full disk, another process's long write): the reading command still
    // answers, from the store as it is.
    if (isDeployError(error, 'store')) {
      ctx.reporter.warn(`Showing the store as it is: ${error.message}`);
      return { changed: [], fromStore: [], busy: [], seen: new Map() };
    }
    throw error;
  }
}

async function reconcileOrFail(ctx: Context, options: ReconcileOptions): Promise<Reconciled> {
  const out: Reconciled = { changed: [], fromStore: [], busy: [], seen: new Map() };
  const store = ctx.store();
  // A store that cannot be written (a read-only mount) is shown as it is; the warning on opening it says so.
  if (store.readOnly) return out;
  const app = options.app ?? (options.ref !== undefined ? await appOfRef(ctx, options.ref) : undefined);
  if (app === null) return out;
  const currents = store.currentStates(app);
  if (currents.length === 0) return out;
  const byEndpoint = new Map<string, CurrentState[]>();
  for (const d of currents) byEndpoint.set(d.endpoint, [...(byEndpoint.get(d.endpoint) ?? []), d]);
  // Apps someone is deploying are left as recorded; decided while the engines' answers are on their way.
  const busy = new Set<string>();

  const timeoutMs = options.timeoutMs ?? RECONCILE_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = ctx.now();
  const fromStore = (list: CurrentState[], url: string, reason: string) => {
    for (const d of list)
      if (!busy.has(d.app)) out.fromStore.push({ app: d.app, endpoint: url, reason, checkedAt: d.checkedAt });
  };
  try {
    const asked = Promise.all(
      [...byEndpoint].map(async ([url, list]) => {
        const memo = store.engineCheck(url);
        if (
          !options.askAgain &&
          memo.failedAt !== null &&
          (memo.answeredAt ?? 0) < memo.failedAt &&
          started - memo.failedAt < UNREACHABLE_MEMO_MS
        ) {
          fromStore(
            list,
            url,
            `did not answer ${formatAge(memo.failedAt, started)} (${memo.reason ?? 'unreachable'}) and is asked again after a minute`,
          );
          return;
        }
        if (missingSocket(url)) {
          fromStore(list, url, 'did not answer (no socket there)');
          return;
        }
        // The full client (a version handshake, node:http) only when the glance cannot do (TLS, ssh), or when a
        // lock must be read or an exit time learnt.
        const conn: { engine: Promise<Engine> | null } = { engine: null };
        const engine = () =>
          (conn.engine ??= Promise.all([import('../adapters/docker/engine/engine.js'), import('./engines.js')]).then(
            ([{ Engine }, { endpointForUrl }]) => Engine.connect(endpointForUrl(ctx, url), ctx.env, controller.signal),
          ));
        let listing: ContainerSummary[];
        try {
          // A local socket's request leaves before anything else is awaited (the answer is what takes time).
          const plain =
            url.startsWith('unix://') ||
            (url.startsWith('tcp://') && !(await import('./engines.js')).endpointForUrl(ctx, url).tls);
          listing =
            (plain ? await glanceContainers(url, { [LABEL.managed]: 'true' }, controller.signal) : null) ??
            (await (await engine()).containers.list({ [LABEL.managed]: 'true' }, controller.signal));
        } catch (error) {
          void conn.engine?.then(
            (e) => e.close(),
            () => undefined,
          );
          const reason = failureText(error, controller.signal.aborted, timeoutMs);
          store.recordEngineCheck(url, ctx.now(), reason);
          fromStore(list, url, `did not answer (${reason})`);
          return;
        }
        try {
          if (memo.answeredAt === null || started - memo.answeredAt > CHECKED_WRITE_MS || memo.failedAt !== null)
            store.recordEngineCheck(url, started, null);
          await compare(
            ctx,
            engine,
            listing,
            list.filter((d) => !busy.has(d.app)),
            options,
            out,
            controller.signal,
            started,
          );
        } finally {
          void conn.engine?.then(
            (e) => e.close(),
            () => undefined,
          );
        }
      }),
    );
    for (const a of store.appsInProgress()) {
      if (currents.some((d) => d.app === a)) {
        busy.add(a);
        out.busy.push({ app: a, why: 'a deployment of it is in progress' });
      }
    }
    await asked;
    out.fromStore = out.fromStore.filter((f) => !busy.has(f.app));
  } finally {
    clearTimeout(timer);
  }
  return report(ctx, out, options);
}

async function compare(
  ctx: Context,
  engine: () => Promise<Engine>,
  listing: ContainerSummary[],
  list: CurrentState[],
  options: ReconcileOptions,
  out: Reconciled,
  signal: AbortSignal,
  askedAt: number,
): Promise<void> {
  const store = ctx.store();
  const now = ctx.now();
  const byId = new Map(listing.filter((c) => c.labels[LABEL.id]).map((c) => [c.labels[LABEL.id] as string, c]));
  const checked: string[] = [];
  for (const d of list) {
    if (await lockHeld(ctx, engine, listing, d.app)) {
      out.busy.push({ app: d.app, why: 'its lock is held' });
      continue;
    }
    let summary = byId.get(d.id) ?? listing.find((c) => c.id === d.containerId) ?? null;
    let inspected: ContainerState | null | undefined = undefined;
    // A Swarm service is not among the engine's containers: it is asked of its manager (its tasks' state).
    if (d.runtime === 'service' && d.containerId && !signal.aborted) {
      const id = d.containerId;
      inspected = await engine()
        .then(async (e) => (await import('../adapters/runtime/runtime-for.js')).serviceRuntimeOn(e).inspect(id))
        .catch(() => undefined);
      if (inspected === undefined) continue;
      summary = inspected && {
        id: inspected.id,
        name: inspected.name,
        state: inspected.restarting ? 'restarting' : inspected.status,
        status: inspected.status,
        exitCode: inspected.running ? null : inspected.exitCode,
        imageId: inspected.imageId,
        labels: inspected.labels,
      };
    }
    // (An inspection that failed here is asked again if the state changed.)
    if (summary && options.inspect && !signal.aborted && d.runtime !== 'service')
      inspected =
        (await engine()
          .then((e) => e.containers.inspect(summary.id))
          .catch(() => null)) ?? undefined;
    const listed = summary && { state: summary.state, exitCode: summary.exitCode };
    const seen = () =>
      inspected && {
        state: inspected.restarting ? 'restarting' : inspected.status,
        exitCode: inspected.exitCode,
        finishedAt: inspected.finishedAt,
      };
    let check = checkCurrent(d, listed, seen(), now, CHECKED_WRITE_MS);
    if (check.kind === 'inspect' && summary && d.runtime !== 'service') {
      inspected = await engine()
        .then((e) => e.containers.inspect(summary.id))
        .catch(() => null);
      check = checkCurrent(d, listed, seen(), now, CHECKED_WRITE_MS);
    }
    out.seen.set(d.id, { summary, inspected: inspected ?? null });
    if (check.kind === 'mark-checked') checked.push(d.id);
    if (check.kind !== 'record') continue;
    const applied = record(ctx, d, check.observation, now, askedAt);
    if (applied) out.changed.push({ deployment: applied, from: d.status, observation: check.observation });
  }
  store.markChecked(checked, now);
}

/**
 * Writes an observation, unless the record changed since it was read, or a deployment of the app is in
 * progress, began or ended since the engine was asked (then the moment seen may be a switch-over's — a
 * stop-first one that failed and started the old container again, say: nothing is written).
 */
function record(ctx: Context, d: CurrentState, o: Observation, now: number, askedAt: number): Deployment | null {
  const store = ctx.store();
  return store.transaction(() => {
    const fresh = store.getDeployment(d.id);
    if (!fresh || fresh.status !== d.status || store.getApp(d.app)?.currentId !== d.id) return null;
    if (store.appsInProgress().has(d.app) || store.deploymentActivitySince(d.app, askedAt)) return null;
    store.updateDeployment(d.id, { status: o.status, exitCode: o.exitCode, exitedAt: o.exitedAt, checkedAt: now });
    store.addEvent(d.id, now, o.status === 'running' ? 'running' : 'exited', `${d.status} → ${o.status}: ${o.why}`);
    return store.getDeployment(d.id);
  });
}

function names(apps: string[]): string {
  return apps.length <= 3 ? apps.join(', ') : `${apps.slice(0, 3).join(', ')} and ${apps.length - 3} more`;
}

/** Says once, on stderr, what changed and which apps are shown as the store has them (and how old that is). */
function report(ctx: Context, out: Reconciled, options: ReconcileOptions): Reconciled {
  if (options.quiet) return out;
  const r = ctx.reporter;
  const now = ctx.now();
  for (const c of out.changed) {
    const d = c.deployment;
    r.info(
      r.colors.dim(
        `${d.app} v${d.version} (${d.id}) is ${d.status} now: ${c.observation.why}.${d.status === 'exited' ? ` Start it again: deploy start ${d.app}` : ''}`,
      ),
    );
  }
  const byEndpoint = new Map<string, typeof out.fromStore>();
  for (const s of out.fromStore) byEndpoint.set(s.endpoint, [...(byEndpoint.get(s.endpoint) ?? []), s]);
  for (const [url, list] of byEndpoint) {
    const checked = list.map((s) => s.checkedAt).filter((t): t is number => t !== null);
    const age =
      checked.length === 0 ? 'never checked against it' : `last checked ${formatAge(Math.min(...checked), now)}`;
    r.warn(
      `The state of ${names(list.map((s) => s.app))} is as the store has it (${age}): the engine at ${url} ${list[0]?.reason ?? 'did not answer'}.`,
    );
  }
  if (out.busy.length > 0) {
    r.info(
      r.colors.dim(
        `${names(out.busy.map((b) => b.app))}: shown as recorded, ${out.busy.length === 1 ? out.busy[0]?.why : 'being changed by another command'} right now.`,
      ),
    );
  }
  return out;
}
