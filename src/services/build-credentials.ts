import { posix } from 'node:path';
import type { BuildCredentials, RegistryAuth } from '../adapters/docker/engine/types.js';
import type { Git } from '../adapters/git.js';
import { RegistryCredentials } from '../adapters/registry-credentials.js';
import { baseImages } from '../core/dockerfile.js';
import { DOCKER_HUB, registryOf } from '../core/image-ref.js';
import type { DeployConfig } from '../core/types.js';
import type { Context } from '../context.js';
import type { ContextSource } from './build-context.js';

/**
 * The registry credentials a build may need, as the docker CLI has them (docker login, credential helpers): none
 * when the user has none and the build pulls only from Docker Hub; else a lookup BuildKit's session asks as it pulls, and the registries the Dockerfile's
 * base images come from (the classic builder is sent theirs). Values are read only when asked, and go only to the
 * engine.
 */
export async function buildCredentials(
  ctx: Context,
  git: Git,
  src: ContextSource,
  config: Pick<DeployConfig, 'context' | 'dockerfile' | 'buildArgs'>,
): Promise<BuildCredentials | undefined> {
  const credentials = RegistryCredentials.read(ctx.env);
  const registries = await pulledRegistries(git, src, config);
  // Public Docker Hub images and no login: nothing to serve, and no session to open. A private registry without
  // credentials still gets a session (answering "none"), so its refusal is the registry's own 401, as with docker.
  if (!credentials.any && registries.every((r) => r === DOCKER_HUB)) return undefined;
  return { registries, lookUp: (registry) => (credentials.any ? credentials.get(registry) : Promise.resolve(null)) };
}

/** The registries a build pulls its base images from, as its Dockerfile at the commit names them. */
export async function pulledRegistries(
  git: Git,
  src: ContextSource,
  config: Pick<DeployConfig, 'context' | 'dockerfile' | 'buildArgs'>,
): Promise<string[]> {
  const path = posix.normalize(posix.join(src.subdir, config.context, config.dockerfile));
  const dockerfile = (await git.readAt(src.root, src.treeish, path).catch(() => null)) ?? '';
  return [...new Set(baseImages(dockerfile, config.buildArgs).map(registryOf))];
}

/**
 * What a Swarm service of a pushed release sends its nodes to pull with (X-Registry-Auth, as docker service create
 * --with-registry-auth): the credentials of the registry its image is in; null when it is in none (or none are known).
 */
export function serviceRegistryAuth(ctx: Context, image: string): Promise<RegistryAuth | null> {
  const registry = registryOf(image);
  if (registry === DOCKER_HUB) return Promise.resolve(null);
  const credentials = RegistryCredentials.read(ctx.env);
  return credentials.any ? credentials.get(registry) : Promise.resolve(null);
}
