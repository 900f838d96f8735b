import { imagesOn } from '../adapters/images/engine-local.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import { ApiError } from '../adapters/docker/api.js';
import { runtimeFor, serviceRuntimeOn } from '../adapters/runtime/runtime-for.js';
import { serviceRegistryAuth } from './build-credentials.js';
import { serviceImageOf } from '../core/runtime-choice.js';
import { completeConfig } from '../core/setting-table.js';
import { imageToNodes, nodeEngines } from './swarm-nodes.js';
import { DeployError } from '../core/errors.js';
import { LABEL } from '../core/names.js';
import { planMounts, volumeLabels, type PlannedVolume } from '../core/volumes.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';

/**
 * Makes sure each named volume the container will use exists on the engine, labelled as the app's: created when
 * missing (said once, with an event on the record: the one-time notice for an image's VOLUME), refused when a
 * volume of that name belongs to another app. Returns the volumes it created.
 */
export async function ensureVolumes(
  ctx: Context,
  engine: Engine,
  d: Deployment,
  volumes: readonly PlannedVolume[],
): Promise<PlannedVolume[]> {
  const created: PlannedVolume[] = [];
  for (const v of volumes) {
    const found = await engine.volumes.inspect(v.engineName);
    if (found) {
      const owner = found.labels[LABEL.app];
      if (owner !== undefined && owner !== d.app) {
        throw new DeployError(
          'config',
          `The volume ${v.engineName} (for ${v.target}) belongs to the app ${owner}, not to ${d.app}.`,
          {
            hint: `Give ${d.app}'s volume another name in its settings (volumes), so that the two apps do not share data.`,
          },
        );
      }
      continue;
    }
    await engine.volumes.create(v.engineName, volumeLabels(d.app, v.name));
    created.push(v);
    const message = v.fromImage
      ? `the image declares VOLUME ${v.target}: its data is kept in the volume ${v.engineName} across releases`
      : `created the volume ${v.engineName} for ${v.target}`;
    ctx.store().addEvent(d.id, ctx.now(), 'volume', message);
    if (v.fromImage) {
      ctx.reporter.info(
        `The image declares VOLUME ${v.target}: its data is kept in the volume ${v.engineName}, across every release. ` +
          `To name it yourself, set volumes (for example ${v.name}:${v.target}); deploy destroy ${d.app} --volumes removes it.`,
      );
    } else {
      ctx.reporter.done(`Created volume ${v.engineName} for ${v.target}`);
    }
  }
  return created;
}

/** Refuses networks the engine does not have, before anything is created: docker run would fail on them too. */
export async function assertNetworks(engine: Engine, d: Pick<Deployment, 'app' | 'config'>): Promise<void> {
  for (const network of d.config.networks ?? []) {
    if (!(await engine.networks.has(network))) {
      throw new DeployError('config', `The network ${network} does not exist on the engine (${engine.endpoint.url}).`, {
        hint: `Create it first (docker network create ${network}), or remove it from ${d.app}'s networks setting.`,
      });
    }
  }
}

/**
 * Creates a deployment's container with its volumes: the configured ones, and one per app for each path the image
 * declares as VOLUME and the settings do not map (kept across releases, where the engine would make an anonymous
 * volume lost with the container). `image` is its ref with the VOLUME paths when known (else it is inspected).
 */
export async function createAppContainer(
  ctx: Context,
  engine: Engine,
  d: Deployment,
  image: string | { ref: string; volumes?: readonly string[] },
  name: string,
): Promise<string> {
  const ref = typeof image === 'string' ? image : image.ref;
  const imageVolumes =
    typeof image !== 'string' && image.volumes ? image.volumes : ((await imagesOn(engine).inspect(ref))?.volumes ?? []);
  const plan = planMounts(d.app, d.config.volumes ?? [], imageVolumes);
  await assertNetworks(engine, d);
  await ensureVolumes(ctx, engine, d, plan.volumes);
  try {
    // A Swarm service's nodes pull a pushed image with the registry's credentials; without a registry it runs where
    // built, and on the app's `nodes` once streamed to them.
    if (d.runtime === 'service') {
      const image = serviceImageOf(d, ref);
      const nodes =
        d.config.registry === null ? await nodeEngines(ctx, engine, d.app, completeConfig(d.config).nodes) : [];
      await imageToNodes(ctx, engine, nodes, ref, `${d.app} v${d.version} (${d.id})`);
      return await serviceRuntimeOn(engine).create(d, image, name, imageVolumes, {
        auth: await serviceRegistryAuth(ctx, image),
        holders: nodes.map((n) => n.nodeId),
      });
    }
    return await runtimeFor(engine, d).create(d, ref, name, imageVolumes);
  } catch (error) {
    // The engine checks a bind mount's host path, which lives on the engine's machine, not necessarily this one.
    if (error instanceof ApiError && /No command specified/i.test(error.message)) {
      throw new DeployError(
        'config',
        `${d.app}'s container has no command: the image has no CMD, or the entrypoint setting cleared it (as docker run --entrypoint does).`,
        {
          hint: 'Set command too (in deploy.json, deploy config set command=..., or --set command=...), or give the image a CMD.',
        },
      );
    }
    const missing = error instanceof ApiError ? /bind source path does not exist: (\S+)/.exec(error.message) : null;
    if (missing) {
      throw new DeployError(
        'config',
        `The host path ${missing[1] ?? ''} of a bind mount does not exist on the engine's machine (${engine.endpoint.url}).`,
        {
          hint: 'Create the directory there first, or fix the path in the volumes setting.',
        },
      );
    }
    throw error;
  }
}
