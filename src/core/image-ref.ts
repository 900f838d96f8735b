/**
 * Image references as docker reads them (distribution/reference's normalisation): which registry an image lives in,
 * and under which key docker's config.json keeps that registry's credentials. Pure, unit-tested.
 */

/** Docker Hub: what a reference without a registry means. */
export const DOCKER_HUB = 'docker.io';

/** The key config.json (`docker login` with no server) and credential helpers use for Docker Hub. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/**
 * The registry of an image reference: its first path component when that looks like a host (has a "." or a ":",
 * or is "localhost"), else Docker Hub. `busybox` and `team/app` are on Docker Hub; `127.0.0.1:5000/app`,
 * `ghcr.io/team/app` and `localhost/app` are not.
 */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') {
    const host = first.toLowerCase();
    return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
  }
  return DOCKER_HUB;
}

/**
 * The host a config.json key names: `https://registry.example.com/v1/`, `http://127.0.0.1:5000` and
 * `registry.example.com` all name `registry.example.com` (docker's ConvertToHostname); Docker Hub's keys name
 * docker.io.
 */
export function hostOfAuthKey(key: string): string {
  const host = key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** The key under which docker keeps a registry's credentials (and what a credential helper is asked for). */
export function authKeyOf(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry;
}

/** How registries and engines say a pull was refused for want of (good) credentials. */
const REFUSED =
  /\b401\b|unauthorized|authentication required|no basic auth credentials|pull access denied|access to the resource is denied|insufficient_scope/i;

/**
 * The registry that refused a build's pull for want of credentials, from the build's failure and the registries its
 * Dockerfile pulls from: the one the message names, else the only one that is not Docker Hub. null when the
 * failure is not a refusal.
 */
export function refusedRegistry(failure: string, registries: readonly string[]): string | null {
  if (!REFUSED.test(failure)) return null;
  const named = registries.find((r) => failure.includes(r));
  if (named) return named;
  const url = /https?:\/\/([^/\s"]+)/.exec(failure);
  if (url) return hostOfAuthKey(url[1]!);
  const private_ = registries.filter((r) => r !== DOCKER_HUB);
  return private_.length === 1 ? private_[0]! : registries.length === 1 ? registries[0]! : null;
}

/**
 * The `registry` setting: where releases are pushed, `HOST[:PORT][/PATH]` (`registry.example.com/team`,
 * `127.0.0.1:5000`, `ghcr.io/org`), written as docker names a repository's prefix: a host (with a "." or a ":", or
 * `localhost`) and optional lower-case path components. Returns it without a trailing slash, or throws a message.
 */
export function parseRegistrySetting(value: string): string {
  const v = value.trim().replace(/\/+$/, '');
  const [host = '', ...path] = v.split('/');
  if (
    !/^[a-zA-Z0-9.-]+(:[0-9]{1,5})?$/.test(host) ||
    !(host.includes('.') || host.includes(':') || host === 'localhost')
  )
    throw new Error(
      `${JSON.stringify(value)} does not start with a registry host (a name with a "." or a port, or localhost)`,
    );
  const component = /^[a-z0-9]+(?:(?:\.|_{1,2}|-+)[a-z0-9]+)*$/;
  const bad = path.find((p) => !component.test(p));
  if (bad !== undefined)
    throw new Error(
      `${JSON.stringify(bad)} in ${JSON.stringify(value)} is not a repository path component (a-z, 0-9, . _ -)`,
    );
  return [host.toLowerCase(), ...path].join('/');
}

/** The repository an app's releases are pushed to in a registry: REGISTRY/APP (each release tagged with its id). */
export function releaseRepository(registry: string, app: string): string {
  return `${registry}/${app}`;
}

/** A registry digest (sha256:<64 hex>), as a push reports it and a record keeps it. */
export function isDigest(value: string | null | undefined): value is string {
  return typeof value === 'string' && /^sha256:[0-9a-f]{64}$/.test(value);
}
