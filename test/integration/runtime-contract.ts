import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LivenessEvent, Runtime } from '../../src/adapters/runtime/runtime.js';
import { LABEL, unprovenName } from '../../src/core/names.js';
import type { Deployment } from '../../src/core/types.js';
import { makeConfig, makeDeployment } from '../helpers/unit.js';

/** What a runtime can do that another cannot; the contract's cases that depend on it say so. */
export interface RuntimeCapabilities {
  /**
   * 'any': a workload can be given any name (a container). 'proven-only': only the unproven mark can be dropped
   * (NAME.starting → NAME): a Swarm service cannot be renamed, and its rename to another name is refused.
   */
  renames: 'any' | 'proven-only';
}

/**
 * The contract every runtime keeps (see src/adapters/runtime/runtime.ts), against a real engine: each runtime
 * (one container per deployment, one Swarm service per deployment) runs this same suite. `make` gives the
 * runtime (called once, before the suite's first case); what a case made is removed after the suite, by label.
 */
export function runtimeContract(
  name: string,
  make: () => Promise<{ runtime: Runtime; close(): void }>,
  capabilities: RuntimeCapabilities = { renames: 'any' },
): void {
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
    const made = async (script: string, config: Partial<Deployment['config']> = {}, unproven = false) => {
      const d = deployment(script, config);
      const workloadName = `${app}-v${d.version}`;
      return {
        d,
        workloadName,
        id: await runtime.create(d, 'busybox:1.36', unproven ? unprovenName(workloadName) : workloadName, []),
      };
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
    afterAll(async () => {
      // What the runtime made (a Swarm service's tasks go with it), then any container left on the host engine.
      for (const w of await runtime.list({ [LABEL.app]: app }).catch(() => []))
        await runtime.remove(w.id).catch(() => undefined);
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

    it('drops the unproven mark of a running workload in place: the same workload, still running, under its name', async () => {
      const { id, workloadName } = await made('exec sleep 60', {}, true);
      expect((await runtime.inspect(id))?.name).toBe(unprovenName(workloadName));
      await runtime.start(id);
      const before = await runtime.inspect(id);
      await runtime.rename(id, workloadName);
      const after = await runtime.inspect(id);
      expect(after).toMatchObject({ id: before?.id, name: workloadName, running: true, startedAt: before?.startedAt });
      expect((await runtime.list({ [LABEL.app]: app })).find((w) => w.id === id)?.name).toBe(workloadName);
    });

    it(`${capabilities.renames === 'any' ? 'renames a workload' : 'refuses a name other than its own (it cannot be renamed)'}, and removes it by id whether it runs or not; a gone one is fine`, async () => {
      const { id, workloadName } = await made('exec sleep 60');
      if (capabilities.renames === 'any') {
        await runtime.rename(id, `${app}-renamed`);
        expect((await runtime.inspect(id))?.name).toBe(`${app}-renamed`);
      } else {
        await expect(runtime.rename(id, `${app}-renamed`)).rejects.toThrow(/cannot be renamed/);
        expect((await runtime.inspect(id))?.name).toBe(workloadName);
      }
      await runtime.start(id);
      await runtime.remove(id);
      expect(await runtime.inspect(id)).toBeNull();
      await runtime.remove(id);
      expect((await runtime.list({ [LABEL.app]: app })).map((w) => w.id)).not.toContain(id);
    });
  });
}
