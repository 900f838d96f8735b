import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LivenessEvent, Runtime } from '../../src/adapters/runtime/runtime.js';
import { LABEL } from '../../src/core/names.js';
import type { Deployment } from '../../src/core/types.js';
import { makeConfig, makeDeployment } from '../helpers/unit.js';

/**
 * The contract every runtime keeps (see src/adapters/runtime/runtime.ts), against a real engine: a new runtime
 * (Swarm services next) runs this same suite. `make` gives the runtime; `cleanup` removes what a test left by label.
 */
export function runtimeContract(name: string, make: () => Promise<{ runtime: Runtime; close(): void }>): void {
  describe(`the runtime contract: ${name}`, () => {
    let runtime: Runtime;
    let close = () => {};
    const app = `rt-${Math.random().toString(36).slice(2, 8)}`;
    let n = 0;

    /** A deployment of the test app whose process is `script` (busybox sh), with the runtime options given. */
    const deployment = (script: string, config: Partial<Deployment['config']> = {}): Deployment => {
      n += 1;
      return makeDeployment({
        id: `rt${n}${app.slice(3)}`,
        app,
        version: n,
        config: makeConfig({ command: ['sh', '-c', script], restart: 'no', ...config }),
      });
    };
    const made = async (script: string, config: Partial<Deployment['config']> = {}) => {
      const d = deployment(script, config);
      return { d, id: await runtime.create(d, 'busybox:1.36', `${app}-v${d.version}`, []) };
    };
    const waitFor = async (what: () => Promise<boolean>, ms = 10_000) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (await what()) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };

    beforeAll(async () => {
      ({ runtime, close } = await make());
    });
    afterAll(() => {
      const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${LABEL.app}=${app}`], {
        encoding: 'utf8',
      }).trim();
      if (ids) execFileSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
      close();
    });

    it('creates a workload that is not running, labelled as the deployment, and starts it', async () => {
      const { d, id } = await made('echo hello; exec sleep 60');
      const created = await runtime.inspect(id);
      expect(created).toMatchObject({
        running: false,
        labels: expect.objectContaining({ [LABEL.app]: app, [LABEL.id]: d.id }),
      });
      await runtime.start(id);
      expect((await runtime.inspect(id))?.running).toBe(true);
      const listed = await runtime.list({ [LABEL.app]: app });
      expect(listed.map((w) => w.id)).toContain(id);
      expect(await waitFor(async () => (await runtime.logs(id)).some((l) => l.message === 'hello'))).toBe(true);
    });

    it('stops within the grace it is given, restarts in place, and stopping a stopped one succeeds', async () => {
      const { d, id } = await made('trap "exit 0" TERM; while true; do sleep 0.1; done', { stopSignal: 'SIGTERM' });
      await runtime.start(id);
      await runtime.stop(id, 5);
      const stopped = await runtime.inspect(id);
      expect(stopped?.running).toBe(false);
      expect(stopped?.exitCode).toBe(0);
      await runtime.stop(id, 1);
      await runtime.restart(id, 1);
      expect((await runtime.inspect(id))?.running).toBe(true);
      expect((await runtime.inspect(id))?.labels[LABEL.id]).toBe(d.id);
    });

    it('reports a death with its exit code to a watch, and the watch can be closed', async () => {
      const { id } = await made('sleep 0.5; exit 3');
      const events: LivenessEvent[] = [];
      const watch = await runtime.watch(id, (e) => events.push(e));
      try {
        await runtime.start(id);
        expect(await waitFor(async () => events.some((e) => e.action === 'die'))).toBe(true);
        expect(events.find((e) => e.action === 'die')?.exitCode).toBe(3);
      } finally {
        watch.close();
      }
      expect((await runtime.inspect(id))?.exitCode).toBe(3);
    });

    it('follows its output until the signal aborts', async () => {
      const { id } = await made('i=0; while true; do i=$((i+1)); echo line $i; sleep 0.1; done');
      await runtime.start(id);
      const seen: string[] = [];
      const stop = new AbortController();
      const following = runtime.followLogs(
        id,
        { tail: 'all' },
        (l) => {
          seen.push(l.message);
          if (seen.length === 3) stop.abort();
        },
        stop.signal,
      );
      await following;
      expect(seen.slice(0, 3)).toEqual(['line 1', 'line 2', 'line 3']);
    });

    it('renames a workload, and removes it by id whether it runs or not; a gone one is fine', async () => {
      const { id } = await made('exec sleep 60');
      await runtime.rename(id, `${app}-renamed`);
      expect((await runtime.inspect(id))?.name).toBe(`${app}-renamed`);
      await runtime.start(id);
      await runtime.remove(id);
      expect(await runtime.inspect(id)).toBeNull();
      await runtime.remove(id);
      expect((await runtime.list({ [LABEL.app]: app })).map((w) => w.id)).not.toContain(id);
    });
  });
}
