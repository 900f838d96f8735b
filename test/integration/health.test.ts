import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { containersOf, fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { appForSuite } from '../helpers/workspace.js';

describe('the health gate and the switch-over', () => {
  const w = appForSuite('gate');
  const { repo, app, run } = w;

  it("waits for the image's own HEALTHCHECK when it has one", async () => {
    repo.commit(
      'healthcheck',
      webApp('with a healthcheck', {
        dockerfileExtra:
          'HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1',
        deployJson: { app, ports: [`127.0.0.1:${w.port}:8080`] },
      }),
    );
    const r = await run('deploy', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Healthy: HEALTHCHECK healthy after/);
    expect(r.json<PublicRecord>().status).toBe('running');
    expect(await fetchText(w.port)).toBe('with a healthcheck');
  });

  it('fails a deployment whose HEALTHCHECK reports unhealthy, and keeps the previous one', async () => {
    repo.commit('unhealthy', {
      Dockerfile:
        'FROM busybox:1.36\nWORKDIR /www\nCOPY index.html start.sh ./\nHEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD exit 1\nCMD ["sh", "/www/start.sh"]\n',
      'index.html': 'never healthy\n',
    });
    const r = await run('deploy', '--json');
    expect(r.code).toBe(EXIT_CODES.health_failed);
    expect(r.json<PublicRecord>().error?.message).toContain("the image's HEALTHCHECK reported unhealthy");
    expect(await fetchText(w.port)).toBe('with a healthcheck');
    repo.git('revert', '--no-edit', 'HEAD');
  });

  it('without a shared port, starts the new one beside the old, which stops only once the new one is healthy', async () => {
    const other = await freePort();
    repo.commit('moved', { 'index.html': 'on another port\n' });
    const r = await run('deploy', '--json', '--port', `127.0.0.1:${other}:8080`, '--health-path', '/');
    expect(r.code).toBe(0);
    // start-first: nothing was stopped before the new one started.
    expect(r.stderr).not.toContain('Stopping v');
    expect(r.stderr).toMatch(/Retired v1 \([a-z2-9]{8}\): superseded/);
    expect(await fetchText(other)).toBe('on another port');
    expect(await fetchText(w.port)).toBeNull();
    expect(containersOf(app).map((c) => c.state)).toEqual(['running']);
  });

  it('checks that a container without any health check keeps running for the settle time', async () => {
    repo.commit('no check', {
      ...webApp('settled'),
      // Published by its container: behind the front door the gate is the door's TCP connect instead.
      'deploy.json': JSON.stringify({ app, ports: [`127.0.0.1:${w.port}:8080`], proxy: false }),
    });
    const r = await run('deploy', '--json', '--health-path', 'none');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Healthy: still running after 2s/);
  });
});
