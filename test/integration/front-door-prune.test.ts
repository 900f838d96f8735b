import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { appForTest } from '../helpers/app-fixture.js';
import { cli } from '../helpers/cli.js';
import { doorCleanup, fetchText } from '../helpers/docker.js';

/** `deploy proxy prune` against the engine's real door: routes of releases removed outside the tool (docker rm). */

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** Whether this process can listen on the loopback port (nothing else holds it). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('deploy proxy prune', () => {
  afterAll(doorCleanup());

  it('removes the route of a release removed with docker rm, frees its port, and leaves the other apps served', async () => {
    const gone = await appForTest({ prefix: 'prn', body: 'gone', deployJson: { proxy: true } });
    const kept = await appForTest({ prefix: 'prk', body: 'kept', deployJson: { proxy: true } });
    const g = await gone.deploy();
    await kept.deploy();
    expect(await fetchText(gone.port)).toBe('gone');
    docker('rm', '-f', g.containerName as string);
    // Its port is still the door's: every request there fails now.
    expect(await canListen(gone.port)).toBe(false);
    expect(await fetchText(gone.port)).not.toBe('gone');

    // Without a terminal or --yes, it says what it would remove and removes nothing.
    const refused = await cli(['proxy', 'prune'], { env: gone.env });
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toContain(
      `${gone.app} → ${gone.app}-${g.id}:8080: no container or service of release ${g.id}`,
    );
    expect(refused.stderr).not.toContain(kept.app);
    expect(await canListen(gone.port)).toBe(false);

    const pruned = await cli(['proxy', 'prune', '--yes', '--json'], { env: gone.env });
    expect(pruned.code, pruned.stderr).toBe(0);
    const out = pruned.json<{ removed: Array<{ app: string }>; released: Array<{ hostPort: number }> }>();
    // Stale routes other tests left in a shared door go too; the kept app's does not.
    expect(out.removed.map((r) => r.app)).toContain(gone.app);
    expect(out.removed.map((r) => r.app)).not.toContain(kept.app);
    expect(out.released.map((b) => b.hostPort)).toContain(gone.port);
    expect(out.released.map((b) => b.hostPort)).not.toContain(kept.port);
    expect(await canListen(gone.port)).toBe(true);
    expect(await fetchText(kept.port)).toBe('kept');

    const again = await cli(['proxy', 'prune', '--yes', '--json'], { env: gone.env });
    expect(again.json<{ removed: unknown[] }>().removed).toEqual([]);

    // Deployed again, the app gets its route and port back.
    const back = await gone.cli(['deploy', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(await fetchText(gone.port)).toBe('gone');
  });
});
