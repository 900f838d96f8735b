import type { Readable, Writable } from 'node:stream';
import type { Engine } from './adapters/docker/engine/engine.js';
import type { Endpoint } from './adapters/docker/endpoint.js';
import type { Git } from './adapters/git.js';
import { resolvePaths, type Paths } from './adapters/paths.js';
import { Store } from './adapters/store/store.js';
import type { Reporter } from './ui/reporter.js';

type Stream<T> = T & { isTTY?: boolean };

/** What a command may touch. Tests hand in their own streams, environment, clock and directories. */
export interface IO {
  env: Record<string, string | undefined>;
  cwd: string;
  stdin: Stream<Readable>;
  stdout: Stream<Writable>;
  stderr: Stream<Writable>;
  now: () => number;
  random: (n: number) => Uint8Array;
}

export interface Context extends IO {
  paths: Paths;
  reporter: Reporter;
  /** True when a person can answer a prompt: stdin and stderr are terminals and this is not CI. */
  canPrompt: boolean;
  isCI: boolean;
  /** Aborted on Ctrl-C (SIGINT) and SIGTERM, so long waits end cleanly. */
  signal: AbortSignal;
  /** The engine chosen on the command line (--context, --host), if any. */
  flags: { context?: string | undefined; host?: string | undefined };
  /** How long to wait for an app's lock held by someone else (--lock-wait); 0 fails at once. */
  lockWaitMs: number;
  /** When this command last synced an app from an engine ("URL APP" → epoch ms). */
  syncedAt: Map<string, number>;
  store(): Store;
  git(): Promise<Git>;
  /** An engine, connected once per endpoint and reused. */
  engine(endpoint: Endpoint): Promise<Engine>;
  close(): void;
}

export function isCI(env: Record<string, string | undefined>): boolean {
  const ci = env.CI;
  return (
    (ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false') ||
    Boolean(env.GITHUB_ACTIONS || env.GITLAB_CI || env.BUILDKITE || env.JENKINS_URL)
  );
}

export function createContext(
  io: IO,
  reporter: Reporter,
  signal: AbortSignal,
  flags: Context['flags'] = {},
  lockWaitMs = 0,
): Context {
  const paths = resolvePaths(io.env);
  const ci = isCI(io.env);
  let store: Store | null = null;
  let git: Git | null = null;
  const engines = new Map<string, Promise<Engine>>();
  return {
    ...io,
    paths,
    reporter,
    isCI: ci,
    canPrompt: Boolean(io.stdin.isTTY && io.stderr.isTTY) && !ci,
    signal,
    flags,
    lockWaitMs,
    syncedAt: new Map(),
    store() {
      if (!store) {
        store = Store.open(paths.store);
        for (const w of store.warnings) reporter.warn(w);
      }
      return store;
    },
    async git() {
      if (!git) {
        const { Git } = await import('./adapters/git.js');
        git = new Git(io.env, signal);
      }
      return git;
    },
    engine(endpoint) {
      const key = endpoint.url;
      let engine = engines.get(key);
      if (!engine) {
        engine = import('./adapters/docker/engine/engine.js').then(({ Engine }) => Engine.connect(endpoint, io.env));
        engine.catch(() => engines.delete(key));
        engines.set(key, engine);
      }
      return engine;
    },
    close() {
      store?.close();
      // Idle kept-alive connections (ssh processes among them) must not hold the process open.
      for (const engine of engines.values()) engine.then((e) => e.close()).catch(() => undefined);
    },
  };
}
