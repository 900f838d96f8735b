import { perEngine } from '../per-engine.js';
import type { Engine } from '../docker/engine/engine.js';
import { runtimeOn } from './containers.js';
import type { Runtime, RuntimeKind, WorkloadSummary } from './runtime.js';
import { ServiceRuntime } from './services.js';

/** The Swarm service runtime of an engine (a manager), one per engine connection. */
export const serviceRuntimeOn: (engine: Engine) => ServiceRuntime = perEngine((engine) => new ServiceRuntime(engine));

/** The runtime of a kind on this engine. */
export function runtimeOfKind(engine: Engine, kind: RuntimeKind): Runtime {
  return kind === 'service' ? serviceRuntimeOn(engine) : runtimeOn(engine);
}

/** The runtime that runs this deployment (its record's runtime: a container, or a Swarm service). */
export function runtimeFor(engine: Engine, d: { runtime: RuntimeKind }): Runtime {
  return runtimeOfKind(engine, d.runtime);
}

/** A workload of a listing, with the runtime that runs it. */
export type ListedWorkload = WorkloadSummary & { runtime: RuntimeKind };

/**
 * Every workload carrying these labels on this engine: its containers, and its Swarm services when it is a
 * swarm manager (a plain engine has none, and refuses to list them).
 */
export async function workloadsOn(
  engine: Engine,
  labels: Record<string, string | null>,
  signal?: AbortSignal,
): Promise<ListedWorkload[]> {
  const [containers, manager] = await Promise.all([
    runtimeOn(engine).list(labels, signal),
    engine.system.infoOnce().then((i) => i.swarm.manager),
  ]);
  const out: ListedWorkload[] = containers.map((c) => ({ ...c, runtime: 'container' as const }));
  if (manager)
    for (const s of await serviceRuntimeOn(engine).list(labels, signal)) out.push({ ...s, runtime: 'service' });
  return out;
}
