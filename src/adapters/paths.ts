import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Paths {
  /** The SQLite store. */
  store: string;
  /** Directory of user-wide settings (conf's config.json). */
  configDir: string;
  /** Clones of Git URLs and other things that can be made again. */
  cacheDir: string;
}

/**
 * DEPLOY_HOME=DIR puts everything under DIR (tests and CI isolate themselves this way); otherwise the XDG
 * base directories: data for the store, config for settings, cache for clones.
 */
export function resolvePaths(env: Record<string, string | undefined>): Paths {
  const home = env.DEPLOY_HOME;
  if (home) {
    return { store: join(home, 'deploy.db'), configDir: home, cacheDir: join(home, 'cache') };
  }
  const user = env.HOME || homedir();
  const data = env.XDG_DATA_HOME || join(user, '.local', 'share');
  const config = env.XDG_CONFIG_HOME || join(user, '.config');
  const cache = env.XDG_CACHE_HOME || join(user, '.cache');
  return {
    store: join(data, 'deploy', 'deploy.db'),
    configDir: join(config, 'deploy'),
    cacheDir: join(cache, 'deploy'),
  };
}
