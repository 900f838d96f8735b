import { serviceRuntimeOn } from '../adapters/runtime/runtime-for.js';
import type { TaskCounts, TaskView } from '../core/tasks.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { engineFor } from './engines.js';

/** A Swarm deployment's tasks as its manager has them now, or why they could not be read. */
export type TaskReport =
  { tasks: TaskView[]; counts: TaskCounts; error: null } | { tasks: null; counts: null; error: string };

/**
 * The tasks of a deployment that runs as a Swarm service (null for a container, or a service that is gone):
 * each with its node and state, and desired against running, per node. A manager that does not answer is said.
 */
export async function serviceTasks(ctx: Context, d: Deployment): Promise<TaskReport | null> {
  if (d.runtime !== 'service' || !d.containerId) return null;
  try {
    const engine = await engineFor(ctx, d.endpoint);
    const seen = await serviceRuntimeOn(engine).tasks(d.containerId);
    return seen && { ...seen, error: null };
  } catch (error) {
    return {
      tasks: null,
      counts: null,
      error: (error instanceof Error ? error.message : String(error)).replace(/\.$/, ''),
    };
  }
}
