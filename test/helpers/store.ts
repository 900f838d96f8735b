/**
 * Reading a deploy home's store from a test, through the store's own API (adapters/store/store.ts), opened
 * read-only: nothing is created, migrated or changed, and no command runs (a command would itself sync and
 * recover, which is often what the test is about to check).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/adapters/store/store.js';
import { DeployError } from '../../src/core/errors.js';
import type { Deployment } from '../../src/core/types.js';

export function storePath(home: string): string {
  return join(home, 'deploy.db');
}

/** Runs fn on the home's store opened read-only; undefined when there is no store yet. */
export function readStore<T>(home: string, fn: (store: Store) => T): T | undefined {
  if (!existsSync(storePath(home))) return undefined;
  const store = Store.openToRead(storePath(home));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** The app's newest deployment (highest version), with the types of its events in order. */
export interface Newest extends Deployment {
  events: string[];
}

export function newestOf(home: string, app: string): Newest | undefined {
  return readStore(home, (store) => {
    const newest = store
      .list({ app })
      .reduce<Deployment | undefined>((a, d) => (a === undefined || d.version > a.version ? d : a), undefined);
    return newest && { ...newest, events: store.events(newest.id).map((e) => e.type) };
  });
}

/** The newest deployment, or why the store cannot be read yet: a store the command under test is still making. */
function newestOrWhyNot(home: string, app: string): { newest: Newest | undefined; unready: string | null } {
  try {
    return { newest: newestOf(home, app), unready: null };
  } catch (error) {
    if (!(error instanceof DeployError && error.code === 'store')) throw error;
    return { newest: undefined, unready: error.message };
  }
}

/**
 * Waits (bounded) until the app's newest deployment satisfies `until`, and returns it. A store the command under
 * test is still making (its file there, its schema not yet) counts as no deployment yet.
 */
export async function waitForNewest(
  home: string,
  app: string,
  until: (d: Newest) => boolean,
  what = 'the expected state',
  timeoutMs = 30_000,
): Promise<Newest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { newest, unready } = newestOrWhyNot(home, app);
    if (newest && until(newest)) return newest;
    if (Date.now() >= deadline) {
      const seen = unready ?? (newest ? `v${newest.version} ${newest.status}` : 'none');
      throw new Error(`the newest deployment of ${app} never reached ${what} within ${timeoutMs} ms (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The deployment of the app with this version, read-only. */
export function versionOf(home: string, app: string, version: number): Deployment | null | undefined {
  return readStore(home, (store) => store.getByVersion(app, version));
}
