import type { Engine } from '../adapters/docker/engine/engine.js';
import { runtimeMove, runtimeRefusal } from '../core/runtime-choice.js';
import type { DeployConfig, Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { askYes } from '../ui/confirm.js';
import { nodeEngines } from './swarm-nodes.js';

/**
 * Before anything is recorded or built: refuses what the settings ask of a runtime that cannot be (replicas on
 * containers, a setting a service cannot carry, runtime swarm on an engine that is not a swarm manager), each
 * with the next step (exit 8); and an endpoint in `nodes` that is not a node of the manager's swarm.
 */
export async function assertRuntimeFits(
  ctx: Context,
  engine: Engine,
  app: string,
  config: DeployConfig,
): Promise<void> {
  const place = config.runtime === 'swarm' ? (await engine.system.infoOnce()).swarm : null;
  const refusal = runtimeRefusal(app, config, place);
  if (refusal) throw refusal;
  // Each of the swarm's nodes named must be one (exit 8 when not), checked before anything is built.
  if (config.runtime === 'swarm') await nodeEngines(ctx, engine, app, config.nodes);
}

/**
 * A deploy that moves the app to another runtime than the one serving it (containers → swarm, or back) is a
 * step taken on purpose: asked in a terminal, refused without one unless --yes (exit 5).
 */
export async function confirmRuntimeMove(
  ctx: Context,
  current: Deployment | null,
  config: DeployConfig,
  yes: boolean,
): Promise<void> {
  const move = runtimeMove(current, config);
  if (!move || !current) return;
  await askYes(
    ctx,
    `Move ${current.app} from runtime ${move.from} to ${move.to}? v${current.version} stops serving once the new release is healthy.`,
    `Moving ${current.app} from runtime ${move.from} to ${move.to}`,
    {
      yes,
      hint: `Pass --yes to move it (runtime ${move.to}), or deploy with --runtime ${move.from} to keep it where it runs.`,
      cancelled: 'Cancelled; nothing was changed.',
    },
  );
}
