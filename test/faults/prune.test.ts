import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, tempHome } from '../helpers/cli.js';
import { fetchText, freePort, imageExists, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';

type PruneDoc = {
  apps: Array<{ app: string; remove: string[]; kept: Array<{ image: string; why: string }> }>;
  removed: string[];
};

describe('pruning never deletes what a rollback needs', () => {
  const home = tempHome();
  const other = tempHome();
  const web = testApp('pw');
  const api = testApp('pa');
  const repos = { web: new TempRepo(), api: new TempRepo() };
  const ports = { web: 0, api: 0 };
  const records: { web: PublicRecord[]; api: PublicRecord[] } = { web: [], api: [] };
  const foreign = `deploy/${web}:made-by-hand`;
  let otherStoreImage = '';
  const run = (...args: string[]) => cli(args, { env: { DEPLOY_HOME: home.dir } });

  beforeAll(async () => {
    for (const name of ['web', 'api'] as const) {
      ports[name] = await freePort();
      const app = name === 'web' ? web : api;
      const count = name === 'web' ? 4 : 2;
      for (let i = 1; i <= count; i++) {
        repos[name].commit(
          `${name} ${i}`,
          i === 1
            ? webApp(`${name} ${i}`, {
                deployJson: { app, ports: [`127.0.0.1:${ports[name]}:8080`], healthCheck: { path: '/' } },
              })
            : { 'index.html': `${name} ${i}\n` },
        );
        const r = await cli(['deploy', '--json'], { cwd: repos[name].dir, env: { DEPLOY_HOME: home.dir } });
        expect(r.code).toBe(0);
        records[name].push(r.json<PublicRecord>());
      }
    }
    // api's current deployment is stopped, not gone.
    expect((await run('stop', api, '--yes')).code).toBe(0);
    // An image of web the tool did not make, and one made by another store (another machine).
    execFileSync('docker', ['tag', 'busybox:1.36', foreign]);
    repos.web.commit('elsewhere', { 'index.html': 'elsewhere\n' });
    const elsewhere = await cli(['deploy', '--json', '--port', `127.0.0.1:${await freePort()}:8080`], {
      cwd: repos.web.dir,
      env: { DEPLOY_HOME: other.dir },
    });
    otherStoreImage = elsewhere.json<PublicRecord>().image as string;
    // Put web back on its own latest release from the first store (the other one replaced it there).
    repos.web.git('revert', '--no-edit', 'HEAD');
  });
  afterAll(() => {
    try {
      execFileSync('docker', ['rmi', foreign], { stdio: 'ignore' });
    } catch {
      // gone already
    }
    removeApps([web, api]);
    Object.values(repos).forEach((r) => r.remove());
    home.remove();
    other.remove();
  });

  it('--dry-run lists what would go, with why the rest stays, and removes nothing', async ({ task }) => {
    const report = fault(task, 'a plan per app; nothing removed');
    const r = await run('prune', '--keep', '1', '--dry-run', '--json');
    expect(r.code).toBe(0);
    const doc = r.json<PruneDoc>();
    const webPlan = doc.apps.find((a) => a.app === web);
    expect([...(webPlan?.remove ?? [])].sort()).toEqual([records.web[0]?.image, records.web[1]?.image].sort());
    expect(webPlan?.kept.map((k) => k.why)).toEqual(
      expect.arrayContaining(['running v4', 'rollback target v3', 'built by a deployment this store does not know']),
    );
    expect(doc.removed).toEqual([]);
    for (const d of [...records.web, ...records.api]) expect(imageExists(d.image as string)).toBe(true);
    report(`would remove ${doc.apps.flatMap((a) => a.remove).length} images; removed none`);
  });

  it("removes old images of several apps, never the running one, a stopped-but-current one, the kept rollback targets, foreign images, or another store's", async ({
    task,
  }) => {
    const report = fault(task, 'only images beyond running + N successful per app go');
    const r = await run('prune', '--keep', '1', '--yes', '--json');
    expect(r.code).toBe(0);
    const [w1, w2, w3, w4] = records.web as [PublicRecord, PublicRecord, PublicRecord, PublicRecord];
    const [a1, a2] = records.api as [PublicRecord, PublicRecord];
    expect(r.json<PruneDoc>().removed.sort()).toEqual([w1.image, w2.image].sort());
    expect([w3, w4, a1, a2].map((d) => imageExists(d.image as string))).toEqual([true, true, true, true]);
    expect(imageExists(foreign)).toBe(true);
    expect(imageExists(otherStoreImage)).toBe(true);
    expect(imageExists('busybox:1.36')).toBe(true);
    // The kept target still rolls back fast (no build).
    const back = await run('rollback', web, '--yes', '--json');
    expect(back.code).toBe(0);
    expect(back.json<PublicRecord>()).toMatchObject({
      parentId: expect.any(String) as unknown as string,
      buildStartedAt: null,
    });
    expect(await fetchText(ports.web)).toMatch(/^web [34]$|^elsewhere$/);
    report(
      `removed ${w1.version === 1 ? 'web v1 and v2' : 'two'}; kept the running, stopped-but-current, target, foreign and other-store images`,
    );
  });
});
