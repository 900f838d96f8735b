import { hostname, userInfo } from 'node:os';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { machineId, pidNamespace, pidNamespaceAlive, processAlive } from '../adapters/machine.js';
import { durationInProse, formatAge } from '../core/duration.js';
import { DeployError } from '../core/errors.js';
import { LABEL } from '../core/names.js';
import { firstTarFile, tarFile } from '../core/tar.js';
import type { Context } from '../context.js';

/**
 * A lock per app that holds across machines, kept on the engine itself: a container created under a fixed
 * name, which the engine refuses to create twice. Its labels say who holds it, from where, since when and
 * for what; the holder writes a heartbeat file into it while it works. A holder whose process is gone (same
 * machine) or whose heartbeat stopped (any machine) is taken over, and the takeover is reported.
 */

const LOCK_IMAGE_REPO = 'deploy-lock';
const LOCK_IMAGE_TAG = '1';
const LOCK_IMAGE = `${LOCK_IMAGE_REPO}:${LOCK_IMAGE_TAG}`;
const HOLDER_LABEL = 'dev.deploy.lock-holder';
/** How often a holder proves it is alive, and how long without proof makes a lock stale. */
const HEARTBEAT_MS = 10_000;
export const LEASE_MS = 45_000;

export interface LockHolder {
  who: string;
  host: string;
  machine: string;
  pid: number;
  since: number;
  purpose: string;
  /** The holder's PID namespace: its pid means something here only when it is this process's namespace too. */
  pidns?: string | undefined;
}

export interface HeldLock {
  holder: LockHolder;
  containerId: string;
  heartbeat: number;
}

export interface Lock {
  /** True when another holder had to be waited for or taken over: the app may have changed meanwhile. */
  contended: boolean;
  release(): Promise<void>;
}

function lockName(app: string): string {
  return `deploy-lock.${app}`;
}

function me(purpose: string, now: number): LockHolder {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return {
    who: `${user}@${hostname()}`,
    host: hostname(),
    machine: machineId(),
    pid: process.pid,
    since: now,
    purpose,
    pidns: pidNamespace() ?? undefined,
  };
}

export function describeHolder(h: LockHolder, now: number): string {
  return `${h.who} (pid ${h.pid}), ${h.purpose}, started ${formatAge(h.since, now)}`;
}

async function ensureLockImage(engine: Engine): Promise<void> {
  if (await engine.images.inspect(LOCK_IMAGE)) return;
  // A one-file image made on the spot: the lock needs no registry and no base image on the engine.
  await engine.images.import(tarFile('lock', Buffer.from('deploy lock\n')), LOCK_IMAGE_REPO, LOCK_IMAGE_TAG, [
    `LABEL ${LABEL.managed}=true`,
  ]);
}

async function beat(engine: Engine, containerId: string, now: number): Promise<void> {
  await engine.containers.putArchive(containerId, '/', tarFile('heartbeat', Buffer.from(String(now)), now));
}

/** Who holds the app's lock on this engine, if anyone. */
export async function readLock(engine: Engine, app: string): Promise<HeldLock | null> {
  const state = await engine.containers.inspect(lockName(app));
  if (!state) return null;
  let holder: LockHolder;
  try {
    holder = JSON.parse(state.labels[HOLDER_LABEL] ?? '') as LockHolder;
  } catch {
    holder = { who: 'unknown', host: 'unknown', machine: 'unknown', pid: 0, since: 0, purpose: 'unknown' };
  }
  const tar = await engine.containers.getArchive(state.id, '/heartbeat').catch(() => null);
  const written = tar ? Number(firstTarFile(tar)?.toString('utf8')) : NaN;
  return { holder, containerId: state.id, heartbeat: Number.isFinite(written) ? written : holder.since };
}

/** Why a held lock no longer protects anything, or null while its holder is alive. */
export interface HereView {
  machine: string;
  alive: (pid: number) => boolean;
  /** This process's PID namespace, and whether a namespace still has a process in it. */
  pidns?: string | null;
  namespaceAlive?: (ns: string) => boolean;
}

export function staleness(lock: HeldLock, now: number, here: HereView): string | null {
  const h = lock.holder;
  if (h.machine === here.machine) {
    // A holder in another PID namespace (a deploy run in a container): its pid is not ours to look up; its
    // namespace is gone once its container is.
    const elsewhere =
      h.pidns !== undefined && here.pidns !== undefined && here.pidns !== null && h.pidns !== here.pidns;
    if (elsewhere && here.namespaceAlive && !here.namespaceAlive(h.pidns as string))
      return `its PID namespace on this machine (a container, pid ${h.pid} there) is gone`;
    if (!elsewhere && !here.alive(h.pid)) return `its process ${h.pid} on this machine is gone`;
  }
  if (now - lock.heartbeat > LEASE_MS) return `no heartbeat for ${durationInProse(now - lock.heartbeat)}`;
  return null;
}

/** staleness() as seen from this machine. */
export function stalenessHere(lock: HeldLock, now: number): string | null {
  return staleness(lock, now, hereView());
}

/** This machine as staleness() needs to see it. */
export function hereView(): HereView {
  return { machine: machineId(), alive: processAlive, pidns: pidNamespace(), namespaceAlive: pidNamespaceAlive };
}

/**
 * Takes the app's lock on the engine, waiting up to waitMs for a live holder (engine events, not polling),
 * taking over a stale one. Fails at once with the lock code when waitMs is 0 and the lock is held.
 */
async function acquireLock(
  ctx: Context,
  engine: Engine,
  app: string,
  purpose: string,
  waitMs = ctx.lockWaitMs,
): Promise<Lock> {
  const deadline = ctx.now() + waitMs;
  const holder = me(purpose, ctx.now());
  const here = hereView();
  let announced = false;
  let contended = false;
  for (let attempt = 0; attempt < 1000; attempt++) {
    let id: string | null;
    try {
      id = await engine.containers.createNamed({
        name: lockName(app),
        Image: LOCK_IMAGE,
        Cmd: ['/lock'],
        Labels: {
          [LABEL.managed]: 'true',
          [LABEL.lock]: app,
          [HOLDER_LABEL]: JSON.stringify({ ...holder, since: ctx.now() }),
        },
      });
    } catch (error) {
      // The lock image is made the first time an engine needs it (optimistic: one request in the usual case).
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      await ensureLockImage(engine);
      continue;
    }
    if (id) {
      // The holder label's "since" is the first heartbeat; the timer writes the next ones.
      const timer = setInterval(() => void beat(engine, id, Date.now()).catch(() => undefined), HEARTBEAT_MS);
      timer.unref();
      return {
        contended,
        async release() {
          clearInterval(timer);
          // By id: if the lock was taken over meanwhile, the new holder's container is left alone.
          await engine.containers.remove(id).catch(() => undefined);
        },
      };
    }
    contended = true;
    const held = await readLock(engine, app);
    if (!held) continue; // released between our attempt and our look
    const stale = staleness(held, ctx.now(), here);
    if (stale) {
      await engine.containers.remove(held.containerId);
      ctx.reporter.warn(`Took over the lock of ${app} from ${describeHolder(held.holder, ctx.now())}: ${stale}.`);
      continue;
    }
    const left = deadline - ctx.now();
    if (left <= 0) {
      throw new DeployError(
        'lock_held',
        `${app} is locked on ${engine.endpoint.url} by ${describeHolder(held.holder, ctx.now())}.`,
        {
          hint: `Wait for it, or retry with --lock-wait 5m. If it is stuck: deploy lock release ${app}`,
          details: { holder: held.holder, heartbeat: new Date(held.heartbeat).toISOString() },
        },
      );
    }
    if (!announced) {
      ctx.reporter.step(`Waiting for the lock of ${app}, held by ${describeHolder(held.holder, ctx.now())}`);
      announced = true;
    }
    // Wake when the lock goes, or in time to check its heartbeat.
    await engine.containers.waitForRemoval(lockName(app), Math.min(left, LEASE_MS), ctx.signal);
    if (ctx.signal.aborted) throw new DeployError('interrupted', `Interrupted while waiting for the lock of ${app}.`);
  }
  throw new DeployError('lock_held', `Could not take the lock of ${app}.`);
}

/** `deploy lock release`: removes the lock whoever holds it (for a holder that is stuck, not gone). */
export async function forceRelease(engine: Engine, app: string): Promise<HeldLock | null> {
  const held = await readLock(engine, app);
  if (held) await engine.containers.remove(held.containerId);
  return held;
}

/** Runs work under the app's lock, releasing it on every path out (the error path included). */
export async function withLock<T>(
  ctx: Context,
  engine: Engine,
  app: string,
  purpose: string,
  work: (lock: Lock) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(ctx, engine, app, purpose);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}
