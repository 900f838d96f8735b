import type { Engine } from '../adapters/docker/engine/engine.js';
import { transferImage } from '../adapters/images/transfer.js';
import { mib } from '../adapters/images/images.js';
import { DeployError, reasonOf } from '../core/errors.js';
import { nodeRefusal } from '../core/runtime-choice.js';
import type { Context } from '../context.js';
import { endpointOfText } from './engines.js';
import { transferLine } from './release-image.js';

/** One of an app's `nodes`: the engine it names, and which node of the swarm that engine is. */
export interface NodeEngine {
  /** The endpoint as the setting gives it (a URL or a context name). */
  given: string;
  engine: Engine;
  nodeId: string;
  hostname: string;
}

/**
 * The engines of an app's `nodes`, each connected and known by its swarm node id (its /info's Swarm.NodeID),
 * checked against the nodes the manager lists: an endpoint that is not a node of the manager's swarm (in no swarm,
 * or in another one) is refused (exit 8) with the nodes the swarm has. The manager itself, if listed, is left out.
 */
export async function nodeEngines(
  ctx: Context,
  manager: Engine,
  app: string,
  nodes: readonly string[],
): Promise<NodeEngine[]> {
  if (nodes.length === 0) return [];
  const [self, swarm] = await Promise.all([manager.system.infoOnce(), manager.services.nodes()]);
  const out = await Promise.all(
    nodes.map(async (given) => {
      let engine: Engine;
      let nodeId: string | null;
      try {
        engine = await ctx.engine(endpointOfText(ctx, given, `nodes (${app})`));
        nodeId = (await engine.system.infoOnce()).swarm.nodeId;
      } catch (error) {
        if (!(error instanceof DeployError)) throw error;
        throw new DeployError(error.code, `${app}'s node ${given}: ${error.message}`, {
          hint: error.hint ?? `Check that engine, or leave it out of nodes (deploy config set nodes=...).`,
        });
      }
      const refusal = nodeRefusal(app, given, engine.endpoint.url, nodeId, swarm, manager.endpoint.url);
      if (refusal) throw refusal;
      const hostname = swarm.find((n) => n.id === nodeId)?.hostname ?? (nodeId as string);
      return { given, engine, nodeId: nodeId as string, hostname };
    }),
  );
  return out.filter((n) => n.nodeId !== self.swarm.nodeId);
}

/**
 * Streams a release's image from the manager that holds it to each node that lacks it (the engines' own save and
 * load, only the layers a node lacks: adapters/images/transfer.ts), the nodes one after another. A node that cannot
 * load it fails the release (start_failed, exit 10), naming the node and what to do.
 */
export async function imageToNodes(
  ctx: Context,
  manager: Engine,
  nodes: readonly NodeEngine[],
  ref: string,
  who: string,
): Promise<void> {
  const r = ctx.reporter;
  const imageId = (await manager.images.inspect(ref))?.id ?? ref;
  for (const n of nodes) {
    try {
      if (await n.engine.images.inspect(imageId)) continue;
      const title = `Loading ${ref} into node ${n.hostname}`;
      r.step(title);
      const t = await transferImage(manager, n.engine, ref, {
        onProgress: (sent, saved) => r.update(`${title}: ${mib(sent)} MiB sent of ${mib(saved)} MiB read`),
        signal: ctx.signal,
      });
      r.done(`Node ${n.hostname}: ${transferLine(ref, manager.endpoint.url, t)}`);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      throw new DeployError(
        'start_failed',
        `${who} could not start: node ${n.hostname} (${n.given}) could not load the image ${ref}: ${reasonOf(error)}`,
        {
          hint:
            `Check that node's engine (its disk, docker info there) and deploy again, or leave it out of nodes ` +
            `(deploy config set nodes=...), or set a registry every node pulls from (deploy config set registry=HOST).`,
          details: { nodes: [n.hostname], image: ref },
        },
      );
    }
  }
}
