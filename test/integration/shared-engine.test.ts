import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import type { SyncReport } from '../../src/services/sync.js';
import { cli, tempHome } from '../helpers/cli.js';
import {
  containersOf,
  fetchText,
  freePort,
  imageExists,
  removeApps,
  testApp,
  holdLock,
  removeLock,
} from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function storeAt(dir: string): Store {
  return Store.open(join(dir, 'deploy.db'));
}

/** Two people (two stores) on one engine: each one's sync and prune leave the other's apps alone. */
describe('a shared engine: sync and prune touch only what this store deployed or was asked to adopt', () => {
  const alice = tempHome();
  const bob = tempHome();
  const repoA = new TempRepo();
  const repoB = new TempRepo();
  const appA = testApp('alice');
  const appB = testApp('bob');
  const a = (...args: string[]) => cli(args, { cwd: repoA.dir, env: { DEPLOY_HOME: alice.dir } });
  const b = (...args: string[]) => cli(args, { cwd: repoB.dir, env: { DEPLOY_HOME: bob.dir } });
  const records: Record<string, PublicRecord> = {};
  let portA = 0;

  beforeAll(async () => {
    portA = await freePort();
    const portB = await freePort();
    const jsonA = { app: appA, ports: [`127.0.0.1:${portA}:8080`], healthCheck: { path: '/' } };
    repoA.commit('one', webApp('one', { deployJson: jsonA }));
    records.one = (await a('deploy', '--json')).json<PublicRecord>();
    repoA.commit('two', { 'index.html': 'two\n' });
    records.two = (await a('deploy', '--json')).json<PublicRecord>();
    const rb = await a('rollback', appA, '--yes', '--json');
    expect(rb.code, rb.stderr).toBe(0);
    records.three = rb.json<PublicRecord>();
    repoA.commit('four', { 'index.html': 'four\n' });
    records.four = (await a('deploy', '--json')).json<PublicRecord>();
    repoB.commit(
      'bob',
      webApp('bob', { deployJson: { app: appB, ports: [`127.0.0.1:${portB}:8080`], healthCheck: { path: '/' } } }),
    );
    const db = await b('deploy', '--json');
    expect(db.code, db.stderr).toBe(0);
    // What runs each: a container, named by its id; the image that ran: built (one, two, four) or reused (three).
    for (const r of [records.one, records.two, records.four]) {
      expect(r).toMatchObject({ runtime: 'container', workload: r?.containerId, imageDigest: r?.imageId });
      expect(r?.imageId).toMatch(/^sha256:/);
    }
    expect(records.three).toMatchObject({
      runtime: 'container',
      workload: records.three?.containerId,
      imageId: records.one?.imageId,
      imageDigest: records.one?.imageId,
    });
  });
  afterAll(() => {
    removeApps([appA, appB]);
    repoA.remove();
    repoB.remove();
    alice.remove();
    bob.remove();
  });

  it('sync without --app brings in only apps this store knows, and names the ones it left alone', async () => {
    const r = await b('sync', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = r.json<SyncReport>();
    expect(report.added.filter((x) => x.app === appA)).toEqual([]);
    expect(report.notAdopted).toContain(appA);
    expect(report.adopted).toEqual([]);
    expect((await b('ls', '--app', appA, '--json')).json<PublicRecord[]>()).toEqual([]);
    const plain = await b('sync');
    expect(plain.stderr).toContain(appA);
    expect(plain.stderr).toContain('deploy sync --all');
  });

  it("prune without --app leaves another store's app alone", async () => {
    const before = records.two?.image as string;
    expect(imageExists(before)).toBe(true);
    const r = await b('prune', '--keep', '0', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<{ apps: Array<{ app: string }> }>().apps.map((x) => x.app)).toEqual([appB]);
    expect(imageExists(before)).toBe(true);
  });

  it('sync --all adopts every app on the engine and lists what it adopted; prune still leaves the adopted app alone', async () => {
    const r = await b('sync', '--all', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = r.json<SyncReport>();
    expect(report.adopted).toContain(appA);
    expect(report.adopted).not.toContain(appB);
    expect(report.added.map((x) => x.id)).toEqual(expect.arrayContaining([records.four?.id, records.two?.id]));
    const third = tempHome();
    try {
      const plain = await cli(['sync', '--all'], { env: { DEPLOY_HOME: third.dir } });
      expect(plain.stdout).toMatch(new RegExp(`Adopted \\d+ apps? new to this store: .*${appA}`));
    } finally {
      third.remove();
    }
    const pruned = await b('prune', '--keep', '0', '--yes', '--json');
    expect(pruned.json<{ apps: Array<{ app: string }> }>().apps.map((x) => x.app)).not.toContain(appA);
    expect(imageExists(records.two?.image as string)).toBe(true);
  });

  it("a rolled-back release comes back marked rolled back in a fresh store, from the current container's label", async () => {
    const fresh = tempHome();
    try {
      const r = await cli(['sync', '--app', appA, '--json'], { env: { DEPLOY_HOME: fresh.dir } });
      expect(r.code, r.stderr).toBe(0);
      const report = r.json<SyncReport>();
      expect(report.rolledBack.map((x) => x.id)).toEqual([records.two?.id]);
      const store = storeAt(fresh.dir);
      try {
        expect(store.getDeployment(records.two?.id as string)?.rolledBack).toBe(true);
        expect(store.getDeployment(records.one?.id as string)?.rolledBack).toBe(false);
        expect(store.getDeployment(records.four?.id as string)?.rolledBackFrom).toEqual([records.two?.id]);
        // Adopted from its running container: a container runtime, named by that container, its image's id as digest.
        expect(store.getDeployment(records.four?.id as string)).toMatchObject({
          runtime: 'container',
          workload: records.four?.containerId,
          containerId: records.four?.containerId,
          imageDigest: records.four?.imageId,
        });
        // Adopted from its image alone (its container is gone): no workload, the image named.
        expect(store.getDeployment(records.two?.id as string)).toMatchObject({
          runtime: 'container',
          workload: null,
          containerId: null,
          imageDigest: records.two?.imageId,
        });
      } finally {
        store.close();
      }
    } finally {
      fresh.remove();
    }
  });

  it('sync during a held lock corrects nothing of that app; afterwards a container stopped outside is exited, a deploy stop stays stopped', async () => {
    const name = records.four?.containerName as string;
    holdLock(appA);
    try {
      docker('stop', '-t', '1', name);
      const r = await a('sync', '--json');
      const report = r.json<SyncReport>();
      expect(report.busy).toContain(appA);
      expect(report.corrected.filter((c) => c.app === appA)).toEqual([]);
      const store = storeAt(alice.dir);
      try {
        expect(store.getDeployment(records.four?.id as string)?.status).toBe('running');
      } finally {
        store.close();
      }
    } finally {
      removeLock(appA);
    }
    const after = (await a('sync', '--json')).json<SyncReport>();
    expect(after.corrected).toContainEqual({
      id: records.four?.id,
      app: appA,
      version: records.four?.version,
      from: 'running',
      to: 'exited',
    });
    docker('start', name);
    expect((await a('sync', '--json')).json<SyncReport>().corrected).toContainEqual(
      expect.objectContaining({ id: records.four?.id, from: 'exited', to: 'running' }),
    );
    expect(await fetchText(portA)).toBe('four');
    expect((await a('stop', appA, '--yes')).code).toBe(0);
    const stopped = (await a('sync', '--json')).json<SyncReport>();
    expect(stopped.corrected.filter((c) => c.app === appA)).toEqual([]);
    expect((await a('inspect', appA, '--json')).json<PublicRecord>().status).toBe('stopped');
    expect((await a('start', appA)).code).toBe(0);
  });
});

describe('deploy destroy', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('destroy');
  const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: { DEPLOY_HOME: home.dir } });
  let first: PublicRecord;
  let second: PublicRecord;

  beforeAll(async () => {
    const port = await freePort();
    repo.commit(
      'one',
      webApp('one', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } } }),
    );
    first = (await run('deploy', '--json')).json<PublicRecord>();
    repo.commit('two', { 'index.html': 'two\n' });
    second = (await run('deploy', '--json')).json<PublicRecord>();
    expect((await run('config', 'set', 'GREETING=hi', '--app', app)).code).toBe(0);
    expect(
      (await cli(['config', 'set', 'TOKEN=s3cr3t-value', '--secret', '--app', app], { env: { DEPLOY_HOME: home.dir } }))
        .code,
    ).toBe(0);
  });
  afterAll(() => {
    removeLock(app);
    removeApps([app]);
    repo.remove();
    home.remove();
  });

  it('without a terminal and without --yes refuses with exit 5 and changes nothing', async () => {
    const r = await run('destroy', app);
    expect(r.code).toBe(EXIT_CODES.confirmation_required);
    expect(r.stderr).toContain('--yes');
    expect(containersOf(app)).toHaveLength(1);
  });

  it('--dry-run lists what goes (containers, images, lock, settings by name, never values) and changes nothing', async () => {
    const r = await run('destroy', '--app', app, '--dry-run', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { plan } = r.json<{
      plan: {
        containers: Array<{ name: string }>;
        images: Array<{ tag: string }>;
        settings: { env: string[]; secrets: string[] };
        records: number;
        forget: boolean;
      };
    }>();
    expect(plan.containers.map((c) => c.name)).toEqual([second.containerName]);
    expect(plan.images.map((i) => i.tag).sort()).toEqual([first.image, second.image].sort());
    expect(plan.settings).toMatchObject({ env: ['GREETING'], secrets: ['TOKEN'] });
    expect(plan.records).toBe(2);
    expect(r.stdout).not.toContain('s3cr3t-value');
    const text = await run('destroy', app, '--dry-run');
    expect(text.stdout).toContain('Dry run: nothing was changed.');
    expect(text.stdout).toContain('TOKEN (secret)');
    expect(containersOf(app)).toHaveLength(1);
  });

  it('is refused with exit 14 while a live holder has the lock, and nothing goes', async () => {
    holdLock(app);
    try {
      const r = await run('destroy', app, '--yes');
      expect(r.code).toBe(EXIT_CODES.lock_held);
      expect(r.stderr).toContain('is locked');
      expect(containersOf(app).map((c) => c.name)).toEqual([second.containerName]);
      expect(imageExists(second.image as string)).toBe(true);
    } finally {
      removeLock(app);
    }
  });

  it('tears the app down and keeps its records as history, none current; settings go', async () => {
    const r = await run('destroy', app, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = r.json<{
      removed: { containers: string[]; images: string[]; lock: boolean; settings: number };
      history: number;
    }>();
    expect(result.removed.containers).toEqual([second.containerName]);
    expect(result.removed.images.sort()).toEqual([first.image, second.image].sort());
    expect(result.removed.settings).toBe(2);
    expect(result.history).toBe(2);
    expect(containersOf(app)).toEqual([]);
    expect(imageExists(second.image as string)).toBe(false);
    expect(() => docker('inspect', `deploy-lock.${app}`)).toThrow();
    const ls = (await run('ls', '--app', app, '--json')).json<PublicRecord[]>();
    expect(ls.map((d) => d.status).sort()).toEqual(['stopped', 'superseded']);
    expect((await run('status', app, '--json')).json<Array<{ deployment: unknown }>>()[0]?.deployment).toBeNull();
    expect((await run('config', 'list', '--app', app, '--json')).stdout).not.toContain('GREETING');
    // Its logs were kept before its container went.
    expect((await run('logs', second.id)).stderr).toContain('kept copy');
  });

  it('--forget deletes its records and settings from the store', async () => {
    const r = await run('destroy', app, '--yes', '--forget', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<{ removed: { records: number } }>().removed.records).toBe(2);
    expect((await run('ls', '--app', app, '--json')).json<unknown[]>()).toEqual([]);
    const again = await run('destroy', app, '--yes');
    expect(again.code).toBe(EXIT_CODES.not_found);
    expect(again.stderr).toContain('nothing was changed');
  });
});
