// Moving an app's traffic: gate the new target, swap the pointer, drain the old one, watch the new one during the
// bake window and fall back on its failure; rollback inside the window is the same swap back.
import type { AddressStatus, Release } from './release.js';
import type { AppRoute, Baking, Service } from './service.js';

export interface DeployResult {
  app: string;
  target: string;
  previous: string | null;
  /** Checks the gate ran before the target was routed. */
  checks: number;
  /** From the passing check to the swap, in ms. */
  swapMs: number;
  bakeUntil: string | null;
  /** The release's addresses at the swap (one for a container; a Swarm service's tasks), each with its state. */
  addresses: AddressStatus[];
  drained?: { cutRequests: number; cutStreams: number };
}

export class DeployError extends Error {}

/** The hooks deploy needs from the router: applying route changes and saving state. */
export interface DeployHooks {
  /** Called right before the swap, synchronously: a last conflict check (throw to refuse) and route changes. */
  beforeSwap(): void;
  /** Persist the state; resolves once it is on disk (never rejects: a failed write is logged). */
  save(): Promise<void>;
}

/**
 * Gate `address`, then route `service` to it. Resolves after the swap (and the save), with the drain of the replaced
 * target still running (`drained`). Rejects with DeployError (nothing changed) when the gate fails.
 */
export async function deployTarget(
  service: Service,
  next: AppRoute,
  hooks: DeployHooks,
  { signal }: { signal?: AbortSignal } = {},
): Promise<{ result: DeployResult; drained: Promise<{ cutRequests: number; cutStreams: number }> | null }> {
  const { health, timing, target: address } = next;
  const candidate = service.release(address, next);
  const gate = await candidate.gate(timing.deployTimeoutMs, signal);
  if (!gate.ok) {
    await candidate.close();
    service.record('deploy-failed', `${address}: ${gate.detail}`);
    throw new DeployError(`${service.name}: ${address} did not pass its health check: ${gate.detail}`);
  }
  const passedAt = performance.now();
  const old = service.active;
  const fresh = old?.address === address ? old : candidate;
  if (fresh !== candidate) await candidate.close();

  // The swap: from here on every new request goes to `fresh`.
  try {
    hooks.beforeSwap();
  } catch (err) {
    if (fresh !== old) await fresh.close();
    throw err;
  }
  if (fresh === old) fresh.configure(health, next.expect ?? null);
  service.route = { ...next, paused: service.route.paused };
  const replaced = endBake(service);
  // The release kept from the deploy before: its drain started at that swap; it closes when that drain ends.
  if (replaced && replaced.target !== fresh) retire(service, replaced.target, replaced.drained);
  service.active = fresh;
  service.route.target = address;
  const swapMs = performance.now() - passedAt;
  fresh.serving = true;
  // A set of tasks is checked for as long as it serves; a container only in the bake window (below).
  if (fresh.continuous) fresh.watch(null);
  else fresh.stopWatch();

  let drained: Promise<{ cutRequests: number; cutStreams: number }> | null = null;
  if (old && old !== fresh) {
    const drainControl = new AbortController();
    drained = old.drain(timing.drainMs, timing.streamDrainMs, drainControl.signal);
    if (timing.bakeMs > 0) {
      service.previous = {
        target: old,
        until: Date.now() + timing.bakeMs,
        drainControl,
        drained,
        timer: setTimeout(() => {
          const baked = endBake(service);
          if (baked) {
            service.record('bake-passed', `${fresh.address} stayed healthy for ${timing.bakeMs} ms`);
            retire(service, baked.target, baked.drained);
          }
        }, timing.bakeMs),
      };
      // Down only when no address passed `failures` rounds in a row: one task of three dying is not that.
      fresh.watch((detail) => {
        void service.serial(() => fallBack(service, fresh, detail, hooks));
      });
    } else {
      retire(service, old, drained);
    }
  }
  service.record('deployed', old && old !== fresh ? `${old.address} -> ${address}` : `${address}`);
  // Traffic has moved already; the answer waits until the state file says so too.
  await hooks.save();

  const result: DeployResult = {
    app: service.name,
    target: address,
    previous: old && old !== fresh ? old.address : null,
    checks: gate.checks,
    swapMs: Math.round(swapMs * 1000) / 1000,
    bakeUntil: service.previous ? new Date(service.previous.until).toISOString() : null,
    addresses: fresh.addresses(),
  };
  return { result, drained: drained && drained.then(({ cutRequests, cutStreams }) => ({ cutRequests, cutStreams })) };
}

/** Swap back to the target kept for the bake window; resolves once saved. */
export async function swapBack(
  service: Service,
  reason: string,
  kind: 'fell-back' | 'rolled-back',
  hooks: DeployHooks,
): Promise<string> {
  const baking = service.previous;
  if (!baking)
    throw new DeployError(
      `${service.name}: no earlier release is kept (the bake window has ended); deploy it again instead`,
    );
  const failed = service.active;
  endBake(service);
  baking.drainControl.abort();
  service.active = baking.target;
  baking.target.serving = true;
  if (baking.target.continuous) baking.target.watch(null);
  service.route.target = baking.target.address;
  if (failed && failed !== baking.target) {
    const t = service.route.timing;
    retire(service, failed, failed.drain(t.drainMs, t.streamDrainMs));
  }
  service.record(kind, `${failed?.address ?? 'none'} -> ${baking.target.address}: ${reason}`);
  await hooks.save();
  return baking.target.address;
}

/** The bake watch saw the new release fail: go back, but only to a previous release that answers now. */
async function fallBack(service: Service, failing: Release, detail: string, hooks: DeployHooks): Promise<void> {
  if (service.active !== failing || !service.previous) return;
  const previous = service.previous.target;
  const check = await previous.probe();
  if (service.active !== failing || service.previous?.target !== previous) return;
  if (!check.ok) {
    service.record(
      'unhealthy',
      `${failing.address} is failing (${detail}) and ${previous.address} is not healthy either (${check.detail}): kept`,
    );
    return;
  }
  await swapBack(service, `health checks failed in the bake window: ${detail}`, 'fell-back', hooks);
}

/** End the bake window: stop its watch and timer; what was kept is returned for the caller to retire. */
function endBake(service: Service): Baking | null {
  const baking = service.previous;
  if (!baking) return null;
  clearTimeout(baking.timer);
  service.previous = null;
  service.active?.endBake();
  return baking;
}

/** A replaced release: let its drain run out, then close it. */
function retire(service: Service, target: Release | null, drained?: Promise<unknown>): void {
  if (!target || target === service.active) return;
  target.serving = false;
  target.stopWatch();
  service.retiring.add(target);
  const t = service.route.timing;
  void (drained ?? target.drain(t.drainMs, t.streamDrainMs)).then(async () => {
    // A drain cancelled by a swap back resolves early; wait out a fresh one.
    if (target.inflight().requests + target.inflight().streams > 0) await target.drain(t.drainMs, t.streamDrainMs);
    service.retiring.delete(target);
    if (target === service.active) return;
    service.record('drained', `${target.address} closed`);
    await target.close();
  });
}

/** Stop everything of an app (remove): no fallback, drain every target, then close. */
export async function stopService(service: Service): Promise<void> {
  const baked = endBake(service)?.target ?? null;
  const targets = [service.active, baked, ...service.retiring].filter((t): t is Release => t !== null);
  service.active = null;
  service.releaseHeld();
  const t = service.route.timing;
  await Promise.all(
    targets.map(async (target) => {
      await target.drain(t.drainMs, t.streamDrainMs);
      await target.close();
    }),
  );
  service.retiring.clear();
}
