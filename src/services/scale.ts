import type { Engine } from '../adapters/docker/engine/engine.js';
import { serviceRuntimeOn } from '../adapters/runtime/runtime-for.js';
import { DeployError } from '../core/errors.js';
import { hostPortTaskLimit } from '../core/runtime-choice.js';
import { ImageNotOnNodes } from '../adapters/runtime/services.js';
import { imageNotOnNodes } from './health.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { currentDeployment } from './current.js';

export interface ScaleResult {
  deployment: Deployment;
  /** The count before. */
  from: number;
  message: string;
}

/**
 * `deploy scale APP N`, under the app's lock: the current release's Swarm service runs N tasks (an update of the
 * service, waited for), and the count is recorded with the release (its snapshot and its one-off settings), so a
 * stop and start come back to it and a redeploy keeps it. A stopped release keeps the count for its next start.
 */
export async function scaleApp(ctx: Context, engine: Engine, app: string, replicas: number): Promise<ScaleResult> {
  const store = ctx.store();
  const d = currentDeployment(ctx, app);
  if (!d)
    throw new DeployError('not_found', `${app} has no current deployment to scale.`, {
      hint: `Deploy it first: deploy deploy --app ${app} --runtime swarm --replicas ${replicas}`,
    });
  const who = `${d.app} v${d.version} (${d.id})`;
  if (d.runtime !== 'service')
    throw new DeployError('usage', `${who} runs as one container (runtime containers): only a Swarm service scales.`, {
      hint: `Move it to a swarm first: deploy redeploy ${app} --runtime swarm --replicas ${replicas} --yes (on a swarm manager)`,
    });
  if (!d.containerId)
    throw new DeployError('usage', `${who} has no Swarm service (it is ${d.status}).`, {
      hint: `See: deploy inspect ${d.id}`,
    });
  const perNode = hostPortTaskLimit(app, d.config, replicas, (await engine.system.infoOnce()).swarm);
  if (perNode) throw perNode;
  const from = d.config.replicas;
  const stopped = d.status === 'stopped';
  ctx.reporter.step(`Scaling ${d.app} v${d.version} from ${from} to ${replicas} task${replicas === 1 ? '' : 's'}`);
  try {
    await serviceRuntimeOn(engine).scale(d.containerId, replicas);
  } catch (error) {
    if (error instanceof ImageNotOnNodes) throw imageNotOnNodes(who, error, d.config.registry);
    throw error;
  }
  store.updateDeployment(d.id, {
    config: { ...d.config, replicas },
    overrides: { ...d.overrides, replicas },
  });
  store.addEvent(d.id, ctx.now(), 'scaled', `replicas ${from} → ${replicas}`);
  ctx.reporter.done(`${who} ${stopped ? 'will run' : 'runs'} ${replicas} task${replicas === 1 ? '' : 's'}`);
  return {
    deployment: store.getDeployment(d.id) as Deployment,
    from,
    message: stopped
      ? `${who} is stopped; it will run ${replicas} task${replicas === 1 ? '' : 's'} when started (deploy start ${app}).`
      : `${who} runs ${replicas} task${replicas === 1 ? '' : 's'} (was ${from}).`,
  };
}
