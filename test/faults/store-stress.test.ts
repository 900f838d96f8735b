import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/adapters/store/store.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import { encodeKeptLines } from '../../src/core/logs.js';
import { cli, tempHome } from '../helpers/cli.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';
import { fault } from './fault.js';
import { newDeployment } from '../helpers/new-deployment.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Eight characters of the id alphabet, one per record. */
const idOf = (i: number) => `r${[...String(i).padStart(7, '0')].map((c) => 'abcdefghjk'[Number(c)]).join('')}`;

/** A store with one app's history (no engine needed: its endpoint is a socket that does not exist). */
function seed(dir: string, records = 3): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const store = Store.open(join(dir, 'deploy.db'));
  const base = Date.UTC(2026, 10, 1);
  for (let i = 0; i < records; i++) {
    const d = newDeployment({
      id: idOf(i),
      app: 'ro-app',
      status: i === records - 1 ? 'running' : 'superseded',
      containerId: i === records - 1 ? 'c0ffee' : null,
      createdAt: base + i * 60_000,
      endpoint: 'unix:///nonexistent/docker.sock',
      commitSubject: `change ${i} ${'x'.repeat(200)}`,
    });
    store.createDeployment(d);
    store.saveLog(
      d.id,
      'runtime',
      encodeKeptLines([{ time: base, stream: 'stdout', message: `hello from ${i}` }]).content,
      false,
      base,
    );
  }
  store.setCurrent('ro-app', idOf(records - 1), base);
  store.close();
}

describe('the store on a read-only file system', () => {
  const home = tempHome();
  const src = join(home.dir, 'src');
  const ro = join(home.dir, 'ro');
  const repo = new TempRepo();

  beforeAll(() => {
    seed(src);
    mkdirSync(ro);
    // A read-only bind mount of the store's directory (root, as CI and these machines run).
    execFileSync('mount', ['--bind', src, ro]);
    execFileSync('mount', ['-o', 'remount,bind,ro', ro]);
    repo.commit('app', webApp('hi', { deployJson: { app: 'ro-app' } }));
  });
  afterAll(() => {
    // Lazily: a closed SQLite handle can keep the mount busy for a moment.
    execFileSync('umount', ['-l', ro]);
    repo.remove();
    home.remove();
  });

  it('reading commands answer; changes refuse with exit 15 and leave the file as it was', async ({ task }) => {
    const report = fault(
      task,
      `ls, inspect, stats, logs answer (exit 0); config set and deploy exit ${EXIT_CODES.store}; file unchanged`,
    );
    const before = sha(join(ro, 'deploy.db'));
    const env = { DEPLOY_HOME: ro };
    for (const argv of [['ls'], ['ls', '--json'], ['inspect', 'ro-app'], ['stats'], ['logs', idOf(0)]]) {
      const r = await cli(argv, { env });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect((await cli(['ls'], { env })).stderr).toContain('cannot be changed now (read-only file system)');
    for (const [argv, cwd] of [
      [['config', 'set', 'A=1', '--app', 'ro-app'], undefined],
      [['deploy'], repo.dir],
    ] as const) {
      const r = await cli([...argv], { env, ...(cwd ? { cwd } : {}) });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(EXIT_CODES.store);
      expect(r.stderr).toMatch(/cannot be changed|read-only/);
    }
    expect(sha(join(ro, 'deploy.db'))).toBe(before);
    report('reads answered; config set and deploy refused with exit 15; file bytes unchanged');
  });
});

describe('a store damaged inside (a bad page, not a bad header)', () => {
  const home = tempHome();
  const repo = new TempRepo();

  beforeAll(() => {
    seed(home.dir, 400);
    const path = join(home.dir, 'deploy.db');
    // Overwrite a stretch in the middle of the file: pages of the deployments table, the header left intact.
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    repo.commit('app', webApp('hi', { deployJson: { app: 'ro-app' } }));
  });
  afterAll(() => {
    repo.remove();
    home.remove();
  });

  it('is reported before anything is written to it', async ({ task }) => {
    const report = fault(task, `exit ${EXIT_CODES.store} "damaged" before any record is added; file bytes unchanged`);
    const path = join(home.dir, 'deploy.db');
    const before = sha(path);
    for (const [argv, cwd] of [
      [['deploy'], repo.dir],
      [['config', 'set', 'A=1', '--app', 'ro-app'], undefined],
    ] as const) {
      const r = await cli([...argv], { env: { DEPLOY_HOME: home.dir }, ...(cwd ? { cwd } : {}) });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(EXIT_CODES.store);
      expect(r.stderr).toMatch(/is damaged/);
      expect(r.stderr).toContain('.broken');
    }
    expect(sha(path)).toBe(before);
    report('deploy and config set refused with exit 15 before writing; file bytes unchanged');
  });
});
