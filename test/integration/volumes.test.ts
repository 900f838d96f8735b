import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { bareContainer, freePort, testApp } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { workspace } from '../helpers/workspace.js';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Runs a shell command in a container; its output, or null when it fails. */
function execIn(container: string, script: string): string | null {
  try {
    return docker('exec', container, 'sh', '-c', script);
  } catch {
    return null;
  }
}

function volumeLabels(name: string): Record<string, string> | null {
  try {
    return JSON.parse(docker('volume', 'inspect', '--format', '{{json .Labels}}', name)) as Record<string, string>;
  } catch {
    return null;
  }
}

/** The mounts of a container as the engine has them: type, volume name (or host path) and target. */
function mountsOf(
  container: string,
): Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }> {
  return JSON.parse(docker('inspect', '--format', '{{json .Mounts}}', container)) as Array<{
    Type: string;
    Name?: string;
    Source: string;
    Destination: string;
    RW: boolean;
  }>;
}

/** Removes the volumes the tool made for these apps (found by label), and any named ones given. */
function removeVolumes(apps: readonly string[], names: readonly string[] = []): void {
  for (const app of apps) {
    const list = docker('volume', 'ls', '-q', '--filter', `label=dev.deploy.app=${app}`);
    if (list) docker('volume', 'rm', '-f', ...list.split('\n'));
  }
  for (const name of names) {
    try {
      docker('volume', 'rm', '-f', name);
    } catch {
      // gone already
    }
  }
}

/** The app counts its starts in /data (so the volume's data is seen from inside), then serves /www. */
const COUNT_STARTS = 'mkdir -p "$DATA_DIR"\necho start >> "$DATA_DIR/starts.txt"\nexec httpd -f -p 8080 -h /www\n';

describe('volumes on a real engine', () => {
  const w = workspace();
  const { run, newApp, newRepo, newWebApp, apps } = w;
  let bindDir = '';

  beforeAll(() => {
    bindDir = mkdtempSync(join(tmpdir(), 'deploy-bind-'));
  });
  afterAll(() => {
    w.remove();
    removeVolumes(apps);
    rmSync(bindDir, { recursive: true, force: true });
  });

  it('keeps a file written to a named volume across a deploy, a redeploy, a rollback and a restart', async () => {
    const { app, repo } = await newWebApp('vol', {
      start: COUNT_STARTS,
      deployJson: { env: { DATA_DIR: '/data' }, volumes: ['data:/data'] },
    });
    const v1 = (await run(repo.dir, 'deploy', '--json')).json<PublicRecord>();
    expect(v1.status).toBe('running');
    expect(v1.config.volumes).toEqual(['data:/data']);
    const volume = `deploy-${app}-data`;
    expect(volumeLabels(volume)).toEqual({
      'dev.deploy.managed': 'true',
      'dev.deploy.app': app,
      'dev.deploy.volume': 'data',
    });
    expect(mountsOf(v1.containerName as string)).toEqual([
      expect.objectContaining({ Type: 'volume', Name: volume, Destination: '/data', RW: true }),
    ]);
    expect(execIn(v1.containerName as string, 'echo "written by v1" > /data/note.txt && cat /data/note.txt')).toBe(
      'written by v1',
    );

    repo.commit('two', { 'index.html': 'two\n' });
    const v2 = (await run(repo.dir, 'deploy', '--json')).json<PublicRecord>();
    expect(v2.status).toBe('running');
    expect(execIn(v2.containerName as string, 'cat /data/note.txt')).toBe('written by v1');

    const v3 = (await run(repo.dir, 'redeploy', v1.id, '--yes', '--json')).json<PublicRecord>();
    expect(v3).toMatchObject({ kind: 'redeploy', status: 'running' });
    expect(execIn(v3.containerName as string, 'cat /data/note.txt')).toBe('written by v1');

    const v4 = (await run(repo.dir, 'rollback', app, '--to', v2.id, '--yes', '--json')).json<PublicRecord>();
    expect(v4).toMatchObject({ kind: 'rollback', status: 'running' });
    expect(execIn(v4.containerName as string, 'cat /data/note.txt')).toBe('written by v1');

    expect((await run(repo.dir, 'restart', app, '--yes')).code).toBe(0);
    expect(execIn(v4.containerName as string, 'cat /data/note.txt')).toBe('written by v1');
    // Five starts of the app, each counted in the same volume: v1, v2, v3, v4 and v4's restart.
    expect(execIn(v4.containerName as string, 'wc -l < /data/starts.txt')).toBe('5');

    // The plan and inspect show the volume under the engine's name.
    const plan = await run(repo.dir, 'redeploy', v4.id, '--dry-run');
    expect(plan.stdout + plan.stderr).toContain(`/data ← volume ${volume}`);
    const inspect = await run(repo.dir, 'inspect', v4.id);
    expect(inspect.stdout).toContain(`/data ← volume ${volume}`);
  });

  it("gives an image's VOLUME a kept volume of the app's: its data survives a deploy of a new commit, and it is said once", async () => {
    const { app, repo } = await newWebApp('ivol', {
      start: COUNT_STARTS,
      dockerfileExtra: 'VOLUME /var/lib/state',
      deployJson: { env: { DATA_DIR: '/var/lib/state' } },
    });
    const first = await run(repo.dir, 'deploy', '--json');
    const v1 = first.json<PublicRecord>();
    expect(v1.status).toBe('running');
    const volume = `deploy-${app}-var-lib-state`;
    expect(first.stderr).toContain(
      `The image declares VOLUME /var/lib/state: its data is kept in the volume ${volume}`,
    );
    // No anonymous volume: the one mount is the app's named volume.
    expect(mountsOf(v1.containerName as string)).toEqual([
      expect.objectContaining({ Type: 'volume', Name: volume, Destination: '/var/lib/state' }),
    ]);
    expect(volumeLabels(volume)).toMatchObject({ 'dev.deploy.app': app, 'dev.deploy.managed': 'true' });
    expect(
      execIn(v1.containerName as string, 'echo kept > /var/lib/state/kept.txt && cat /var/lib/state/kept.txt'),
    ).toBe('kept');

    repo.commit('two', { 'index.html': 'two\n' });
    const second = await run(repo.dir, 'deploy', '--json');
    const v2 = second.json<PublicRecord>();
    expect(v2.status).toBe('running');
    expect(execIn(v2.containerName as string, 'cat /var/lib/state/kept.txt')).toBe('kept');
    expect(second.stderr).not.toContain('The image declares VOLUME');
    // v1's container was removed with v=true: that removes anonymous volumes only, never the named one.
    expect(docker('container', 'ls', '-aq', '--filter', `name=${v1.containerName as string}`)).toBe('');
    expect(volumeLabels(volume)).not.toBeNull();
  });

  it('mounts a host directory read-only with :ro, and keeps it on a redeploy', async () => {
    const { repo } = await newWebApp('bind');
    writeFileSync(join(bindDir, 'hello.txt'), 'from the host\n');
    const v1 = (await run(repo.dir, 'deploy', '--volume', `${bindDir}:/host:ro`, '--json')).json<PublicRecord>();
    expect(v1.status).toBe('running');
    expect(v1.config.volumes).toEqual([`${bindDir}:/host:ro`]);
    const name = v1.containerName as string;
    expect(execIn(name, 'cat /host/hello.txt')).toBe('from the host');
    expect(execIn(name, 'touch /host/new.txt && echo wrote')).toBeNull();
    expect(mountsOf(name)).toEqual([
      expect.objectContaining({ Type: 'bind', Source: bindDir, Destination: '/host', RW: false }),
    ]);

    const v2 = (await run(repo.dir, 'redeploy', v1.id, '--yes', '--json')).json<PublicRecord>();
    expect(v2.config.volumes).toEqual([`${bindDir}:/host:ro`]);
    expect(execIn(v2.containerName as string, 'cat /host/hello.txt')).toBe('from the host');
  });

  it('refuses a bad --volume (exit 2) and a bad volumes setting (exit 8), changing nothing', async () => {
    const app = newApp('badvol');
    const repo = newRepo();
    repo.commit('one', webApp('one', { deployJson: { app, volumes: ['data:relative'] } }));
    const flag = await run(repo.dir, 'deploy', '--volume', 'data', '--json');
    expect(flag.code).toBe(EXIT_CODES.usage);
    expect(flag.stdout + flag.stderr).toContain('Invalid volume "data": it names no container path');
    const file = await run(repo.dir, 'deploy', '--json');
    expect(file.code).toBe(EXIT_CODES.config);
    expect(file.stdout + file.stderr).toContain('deploy.json:');
    expect(file.stdout + file.stderr).toContain('$.volumes[0]');
    const set = await run(repo.dir, 'config', 'set', 'volumes=data:/data,other:/data', '--global');
    expect(set.code).toBe(EXIT_CODES.config);
    expect(set.stdout + set.stderr).toContain('mount on the same container path /data');
    expect((await run(repo.dir, 'config', 'get', 'volumes', '--global')).stdout.trim()).toBe('none');
    expect((await run(repo.dir, 'ls', '--app', app, '--json')).json<unknown[]>()).toEqual([]);
    expect(docker('volume', 'ls', '-q', '--filter', `label=dev.deploy.app=${app}`)).toBe('');
  });

  it('destroy keeps the volumes (a new deploy finds the data) and removes them only with --volumes', async () => {
    const { app, repo } = await newWebApp('dvol', { start: COUNT_STARTS, deployJson: { env: { DATA_DIR: '/data' } } });
    expect((await run(repo.dir, 'config', 'set', 'volumes=data:/data', '--app', app)).code).toBe(0);
    const v1 = (await run(repo.dir, 'deploy', '--json')).json<PublicRecord>();
    expect(v1.config.volumes).toEqual(['data:/data']);
    const volume = `deploy-${app}-data`;
    execIn(v1.containerName as string, 'echo precious > /data/precious.txt');

    const dry = await run(repo.dir, 'destroy', app, '--dry-run');
    expect(dry.stdout).toContain(`volumes kept: ${volume}`);
    const kept = await run(repo.dir, 'destroy', app, '--yes', '--json');
    expect(kept.code).toBe(0);
    expect(kept.json<{ keptVolumes: string[]; removed: { volumes: string[] } }>()).toMatchObject({
      keptVolumes: [volume],
      removed: { volumes: [] },
    });
    expect(volumeLabels(volume)).not.toBeNull();

    // The settings went with the app; the volume did not: a new deploy naming it finds the data.
    const v2 = (await run(repo.dir, 'deploy', '--volume', 'data:/data', '--json')).json<PublicRecord>();
    expect(execIn(v2.containerName as string, 'cat /data/precious.txt')).toBe('precious');

    // With --volumes, the confirmation names them; with no terminal and no --yes, nothing happens.
    const asked = await run(repo.dir, 'destroy', app, '--volumes');
    expect(asked.code).toBe(EXIT_CODES.confirmation_required);
    expect(asked.stderr).toContain(`volumes, their data deleted (--volumes): ${volume}`);
    expect(volumeLabels(volume)).not.toBeNull();
    const gone = await run(repo.dir, 'destroy', app, '--volumes', '--yes', '--json');
    expect(gone.code).toBe(0);
    expect(gone.json<{ keptVolumes: string[]; removed: { volumes: string[] } }>()).toMatchObject({
      keptVolumes: [],
      removed: { volumes: [volume] },
    });
    expect(volumeLabels(volume)).toBeNull();
  });

  it('gives two apps naming the same volume two engine volumes, and refuses a volume of another app', async () => {
    const base = testApp('two');
    const [a, b, clash] = [`${base}-x`, `${base}-y`, base];
    apps.push(a, b, clash);
    const deployOf = async (app: string, volume: string, script: string) => {
      const repo = newRepo();
      const port = await freePort();
      repo.commit(
        'one',
        webApp('one', {
          deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, volumes: [volume] },
        }),
      );
      const r = await run(repo.dir, 'deploy', '--json');
      if (r.code === 0) execIn(r.json<PublicRecord>().containerName as string, script);
      return r;
    };
    const ra = await deployOf(a, 'data:/data', 'echo a > /data/who.txt');
    const rb = await deployOf(b, 'data:/data', 'echo b > /data/who.txt');
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(execIn(ra.json<PublicRecord>().containerName as string, 'cat /data/who.txt')).toBe('a');
    expect(execIn(rb.json<PublicRecord>().containerName as string, 'cat /data/who.txt')).toBe('b');
    expect(mountsOf(ra.json<PublicRecord>().containerName as string)[0]?.Name).toBe(`deploy-${a}-data`);
    expect(mountsOf(rb.json<PublicRecord>().containerName as string)[0]?.Name).toBe(`deploy-${b}-data`);

    // App "BASE" with volume "x-data" would be deploy-BASE-x-data: the volume of app "BASE-x". Refused.
    const rc = await deployOf(clash, 'x-data:/data', 'true');
    expect(rc.code).toBe(EXIT_CODES.config);
    expect(rc.stdout + rc.stderr).toContain(
      `The volume deploy-${a}-data (for /data) belongs to the app ${a}, not to ${clash}`,
    );
    expect(execIn(ra.json<PublicRecord>().containerName as string, 'cat /data/who.txt')).toBe('a');
  });

  it("the engine's v=true on container removal takes anonymous volumes only, never a named one", async () => {
    const engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
    const named = `deploy-test-${testApp('named')}`;
    try {
      await engine.volumes.create(named, { 'dev.deploy.test': 'true' });
      const id = await engine.containers.create(
        bareContainer(`${named}-c`, {
          mounts: [
            { Type: 'volume', Source: named, Target: '/named', ReadOnly: false },
            // No Source: an anonymous volume, as the engine makes for an unmapped image VOLUME.
            { Type: 'volume', Source: '', Target: '/anonymous', ReadOnly: false },
          ],
        }),
      );
      const anonymous = mountsOf(id).find((m) => m.Destination === '/anonymous')?.Name as string;
      expect(anonymous).toMatch(/^[0-9a-f]{64}$/);
      await engine.containers.remove(id);
      expect(volumeLabels(named)).not.toBeNull();
      expect(volumeLabels(anonymous)).toBeNull();
    } finally {
      removeVolumes([], [named]);
      engine.close();
    }
  });
});
