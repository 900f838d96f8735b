import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { DOOR_NAMES } from '../../src/core/door.js';
import { cli } from '../helpers/cli.js';
import { fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { load } from '../helpers/load.js';
import { remoteEngines } from '../helpers/remote.js';
import { workspace } from '../helpers/workspace.js';

/**
 * The front door driven over the remote endpoints (the tool reaches it only through the Engine API: one exec per
 * change): ssh:// (docker system dial-stdio on the far side, this machine's engine behind it) and tcp:// with TLS
 * (a second engine of its own, which gets the door's base image copied in, as a machine without a registry would).
 */
describe('the front door over ssh:// and tcp:// with TLS (real sshd, real second engine)', () => {
  const remote = remoteEngines(['busybox:1.36', 'node:24-slim']);
  // Its apps on the TLS engine go with that engine; removing them here too (from this machine's) finds nothing.
  const w = workspace();
  const repo = w.newRepo();
  const sshApp = w.newApp('dssh');
  const tlsApp = w.newApp('dtls');
  afterAll(() => {
    w.remove();
    // The ssh:// engine is this machine's: the door the ssh case made there goes too, with its saved routes, as
    // the local front door tests leave none.
    for (const args of [
      ['rm', '-f', '-v', DOOR_NAMES.container, DOOR_NAMES.relay, `${DOOR_NAMES.container}.lock`],
      ['volume', 'rm', DOOR_NAMES.volume],
      ['network', 'rm', DOOR_NAMES.network],
    ]) {
      try {
        execFileSync('docker', args, { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
  });

  it('over ssh://: deploys behind the door, and a redeploy under load drops no request', async () => {
    const port = await freePort();
    repo.commit(
      'ssh',
      webApp('ssh one', {
        deployJson: { app: sshApp, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, proxy: true },
      }),
    );
    const run = (...args: string[]) =>
      cli(['--host', remote.ssh.url, ...args], { cwd: repo.dir, env: { ...remote.ssh.env, ...w.env } });
    const first = await run('deploy', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json<PublicRecord>()).toMatchObject({ endpoint: remote.ssh.url, status: 'running' });
    expect(await fetchText(port)).toBe('ssh one');

    const traffic = load(port, { clients: 8 });
    const again = await run('redeploy', sshApp, '--yes', '--json');
    const outcomes = await traffic.stop();
    expect(again.code, again.stderr).toBe(0);
    expect(outcomes.filter((o) => o.error !== null).map((o) => o.error)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(20);

    const status = await run('proxy', 'status', '--json');
    expect(status.json<{ apps: Array<{ app: string; routesTo: { id: string } | null }> }>().apps).toContainEqual(
      expect.objectContaining({
        app: sshApp,
        routesTo: expect.objectContaining({ id: again.json<PublicRecord>().id }),
      }),
    );
  });

  it('over tcp:// with TLS: the door is built on that engine and routes the app there', async () => {
    // This machine's second engine runs in the host's namespace with --iptables=false, where the first engine's
    // FORWARD policy (DROP, with bridge-nf-call-iptables) would drop traffic between two containers of one of its
    // networks (../shared/ENVIRONMENT.md). A real remote engine manages its own rules; here the door's network is
    // made first, as the tool makes it (its labels), and its bridge alone is let through for this test.
    const networkId = await remote.tls.docker(
      'network',
      'create',
      '--label',
      'dev.deploy.managed=true',
      '--label',
      'dev.deploy.front-door=network',
      DOOR_NAMES.network,
    );
    const bridge = `br-${networkId.trim().slice(0, 12)}`;
    const rule = ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
    execFileSync('iptables', ['-I', ...rule]);
    onTestFinished(() => {
      execFileSync('iptables', ['-D', ...rule]);
    });
    const port = await freePort();
    repo.commit(
      'tls',
      webApp('tls one', {
        deployJson: { app: tlsApp, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, proxy: true },
      }),
    );
    const run = (...args: string[]) => cli(args, { cwd: repo.dir, env: { ...remote.tls.env, ...w.env } });
    const r = await run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<PublicRecord>()).toMatchObject({ endpoint: remote.tls.url, status: 'running' });
    expect(await fetchText(port)).toBe('tls one');
    // The door runs on the second engine: its container and the app's, on the door's network there.
    expect(await remote.tls.docker('ps', '--format', '{{.Names}}')).toContain(DOOR_NAMES.container);
    const traffic = load(port, { clients: 4 });
    const again = await run('redeploy', tlsApp, '--yes');
    const outcomes = await traffic.stop();
    expect(again.code, again.stderr).toBe(0);
    expect(outcomes.filter((o) => o.error !== null).map((o) => o.error)).toEqual([]);
  });
});
