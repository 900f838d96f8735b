import type { Engine } from '../adapters/docker/engine/engine.js';
import { reasonOf } from '../core/errors.js';
import { completeConfig } from '../core/setting-table.js';
import type { Deployment } from '../core/types.js';
import { taskRowName, unreachableNote, usageOf, type UsageRow } from '../core/usage.js';
import type { Context } from '../context.js';
import { appLayer } from './app-config.js';
import { engineFor } from './engines.js';
import { nodeEngines } from './swarm-nodes.js';

/**
 * `deploy stats --now`: what each running current release (of APP, or of every app) uses now, one row per
 * container or per running task of its Swarm service. A task is read on its node's engine: the manager's own, or
 * one of the app's `nodes` (those its release was deployed with, and those its settings name now); a task on a
 * node out of reach says so. An engine that cannot be read gives rows that say why. Samples are read together.
 */
export async function usageRows(ctx: Context, app?: string): Promise<UsageRow[]> {
  const running = ctx
    .store()
    .currentDeployments(app)
    .filter((d) => d.status === 'running' && d.containerId);
  const rows = await Promise.all(
    running.map(async (d) => {
      const row = (name: string, node: string | null): UsageRow => ({
        app: d.app,
        version: d.version,
        deployment: d.id,
        name,
        node,
        usage: null,
        note: null,
      });
      try {
        const engine = await engineFor(ctx, d.endpoint);
        if (d.runtime === 'service') return await taskRows(ctx, engine, d, row);
        const sample = await engine.containers.stats(d.containerId as string);
        const name = d.containerName ?? d.containerId ?? d.id;
        return [
          sample
            ? { ...row(name, null), usage: usageOf(sample) }
            : { ...row(name, null), note: 'its container is gone' },
        ];
      } catch (error) {
        return [{ ...row(d.containerName ?? d.id, null), note: `its engine could not be read: ${reasonOf(error)}` }];
      }
    }),
  );
  return rows.flat();
}

async function taskRows(
  ctx: Context,
  manager: Engine,
  d: Deployment,
  row: (name: string, node: string | null) => UsageRow,
): Promise<UsageRow[]> {
  const id = d.containerId as string;
  const [info, tasks, nodes, self] = await Promise.all([
    manager.services.inspect(id),
    manager.services.tasks(id),
    manager.services.nodes(),
    manager.system.infoOnce(),
  ]);
  if (!info) return [{ ...row(d.containerName ?? d.id, null), note: 'its service is gone' }];
  const hostname = new Map(nodes.map((n) => [n.id, n.hostname]));
  const reach = new Map<string, Engine>();
  if (self.swarm.nodeId) reach.set(self.swarm.nodeId, manager);
  const given = [...new Set([...completeConfig(d.config).nodes, ...(appLayer(ctx, d.app).nodes ?? [])])];
  try {
    for (const n of await nodeEngines(ctx, manager, d.app, given)) reach.set(n.nodeId, n.engine);
  } catch (error) {
    ctx.reporter.warn(`${d.app}'s nodes could not all be reached: ${reasonOf(error)}`);
  }
  const live = tasks
    .filter((t) => t.desiredState === 'running' && t.state === 'running' && t.containerId)
    .sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0));
  return Promise.all(
    live.map(async (t) => {
      const node = hostname.get(t.nodeId) ?? t.nodeId.slice(0, 12);
      const base = row(taskRowName(info.name, t.slot, node), node);
      const engine = reach.get(t.nodeId);
      if (!engine) return { ...base, note: unreachableNote(node) };
      try {
        const sample = await engine.containers.stats(t.containerId as string);
        return sample ? { ...base, usage: usageOf(sample) } : { ...base, note: 'its container is gone' };
      } catch (error) {
        return { ...base, note: `its node's engine could not be read: ${reasonOf(error)}` };
      }
    }),
  );
}
