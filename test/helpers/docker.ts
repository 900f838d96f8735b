import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { ContainerSpec } from '../../src/core/container-spec.js';
import type { EngineMount } from '../../src/core/volumes.js';
import { DOOR_NAMES } from '../../src/core/door.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * The Engine API's create body for a busybox container with nothing of the tool's (no labels, ports or restart
 * policy), for tests that drive the engine adapter directly.
 */
export function bareContainer(
  name: string,
  { cmd, init = false, mounts }: { cmd?: string[]; init?: boolean; mounts?: EngineMount[] } = {},
): ContainerSpec {
  return {
    name,
    Image: 'busybox:1.36',
    Env: [],
    Labels: {},
    ExposedPorts: {},
    ...(cmd ? { Cmd: cmd } : {}),
    HostConfig: {
      PortBindings: {},
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: {} },
      Init: init,
      ...(mounts ? { Mounts: mounts } : {}),
    },
  };
}

/** Removes every container and image the tool made for these apps (tests call it in afterAll/afterEach). */
export function removeApps(apps: readonly string[]): void {
  for (const app of apps) {
    // A lock left by a deploy the test killed (or a prompt left waiting) carries the lock label, not the app one.
    removeLock(app);
    const containers = docker('ps', '-aq', '--filter', `label=dev.deploy.app=${app}`);
    if (containers) docker('rm', '-f', '-v', ...containers.split('\n'));
    // Images carry the record label only; their tags are deploy/APP:ID.
    const images = docker('images', '-q', '--filter', `reference=deploy/${app}`);
    if (images) {
      try {
        docker('rmi', '-f', ...new Set(images.split('\n')));
      } catch {
        // already gone
      }
    }
  }
}

export function containersOf(app: string): Array<{ name: string; state: string }> {
  const out = docker('ps', '-a', '--filter', `label=dev.deploy.app=${app}`, '--format', '{{.Names}} {{.State}}');
  return out === ''
    ? []
    : out.split('\n').map((l) => {
        const [name = '', state = ''] = l.split(' ');
        return { name, state };
      });
}

export function imageExists(ref: string): boolean {
  try {
    docker('image', 'inspect', ref);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** GET http://127.0.0.1:PORT/ once, bounded; the body, or null when nothing answers. */
export async function fetchText(port: number, path = '/'): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    return (await res.text()).trim();
  } catch {
    return null;
  }
}

/** A short random app name, so tests never collide with each other or with real apps. */
export function testApp(prefix = 't'): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Removes the app's lock container, if there is one. */
export function removeLock(app: string): void {
  try {
    execFileSync('docker', ['rm', '-f', `deploy-lock.${app}`], { stdio: 'ignore' });
  } catch {
    // not there
  }
}

/**
 * A lock on the engine as a holder leaves it: by default this very process (alive, on this machine, heartbeat
 * fresh), a live holder; `holder` changes any of that (a pid that is gone, an older `since`).
 */
export function holdLock(
  app: string,
  holder: Partial<Record<'who' | 'host' | 'machine' | 'purpose', string> & Record<'pid' | 'since', number>> = {},
): void {
  const machine = execFileSync('cat', ['/etc/machine-id'], { encoding: 'utf8' }).trim();
  const label = JSON.stringify({
    who: 'test@here',
    host: 'here',
    machine,
    pid: process.pid,
    since: Date.now(),
    purpose: 'deploy of main@1234567',
    ...holder,
  });
  docker(
    'create',
    '--name',
    `deploy-lock.${app}`,
    '--label',
    'dev.deploy.managed=true',
    '--label',
    `dev.deploy.lock=${app}`,
    '--label',
    `dev.deploy.lock-holder=${label}`,
    'deploy-lock:1',
    '/lock',
  );
}

/**
 * For a test file whose deploys start the engine's front door (the default) when none runs: call at the file's
 * top; the returned function (for its afterAll, after the file's apps are gone) removes the door, its relay, lock,
 * network and volume if the file started it, and leaves a door that ran before as it was.
 */
export function doorCleanup(): () => void {
  const ids = (name: string) => docker('ps', '-aq', '--filter', `name=^${name}$`);
  const before = ids(DOOR_NAMES.container) !== '';
  return () => {
    if (before) return;
    const quietly = (...args: string[]) => {
      try {
        docker(...args);
      } catch {
        // Not there.
      }
    };
    const containers = [DOOR_NAMES.container, DOOR_NAMES.next, DOOR_NAMES.relay, DOOR_NAMES.relayNext];
    quietly('rm', '-f', '-v', ...containers, `${DOOR_NAMES.container}.lock`);
    quietly('network', 'rm', DOOR_NAMES.network);
    quietly('volume', 'rm', DOOR_NAMES.volume);
  };
}
