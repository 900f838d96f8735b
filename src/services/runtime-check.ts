import type { Engine } from '../adapters/docker/engine/engine.js';
import { runtimeMove, runtimeRefusal } from '../core/runtime-choice.js';
import type { DeployConfig, Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { askYes } from '../ui/confirm.js';

/**
 * Before anything is recorded or built: refuses what the settings ask of a runtime that cannot be (replicas on
 * containers, a setting a service cannot carry, runtime swarm on an engine that is not a swarm manager), each
 * with the next step (exit 8).
 */
export async function assertRuntimeFits(engine: Engine, app: string, config: DeployConfig): Promise<void> {
  const place = config.runtime === 'swarm' ? (await engine.system.infoOnce()).swarm : null;
  const refusal = runtimeRefusal(app, config, place);
  if (refusal) throw refusal;
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
