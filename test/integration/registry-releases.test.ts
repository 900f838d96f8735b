/**
 * Releases pushed to a registry, against a real registry (docker-registry with htpasswd on 127.0.0.1), the real
 * engine and a second real engine (a dockerd on tcp + TLS): a build is pushed as REGISTRY/APP:ID and its record keeps
 * the registry's digest; a redeploy on the second engine, which has never seen the image, pulls it by that digest
 * with docker login's credentials; a wrong password fails the push with exit 9 naming the registry and
 * `docker login`, the release before still serving; the password appears in no output, record, label or log.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli, type CliResult } from '../helpers/cli.js';
import { fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { hasRegistry, startRegistry, type Registry } from '../helpers/registry.js';
import { startTlsEngine, type TlsEngine } from '../helpers/remote.js';
import { appFixture } from '../helpers/app-fixture.js';
import { appWorkspace, type AppWorkspace } from '../helpers/workspace.js';

const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Every file under a directory, as text (the store, its journal, kept logs). */
function allText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out += statSync(path).isDirectory() ? allText(path) : readFileSync(path).toString('latin1');
  }
  return out;
}

describe.skipIf(!hasRegistry())('releases pushed to a registry', () => {
  let registry: Registry;
  let tls: TlsEngine;
  let w: AppWorkspace;
  const outputs: CliResult[] = [];
  const run = async (env: Record<string, string>, ...args: string[]) => {
    const r = await cli(args, { cwd: w.repo.dir, env: { ...w.env, ...env } });
    outputs.push(r);
    return r;
  };

  beforeAll(async () => {
    [registry, tls] = await Promise.all([startRegistry(), startTlsEngine()]);
    w = appWorkspace('pushed', { DOCKER_CONFIG: registry.loggedIn() });
  }, 180_000);
  afterAll(async () => {
    w?.remove();
    await tls?.stop();
    registry?.stop();
  }, 120_000);

  it('pushes each build, pulls it by digest on an engine that lacks it, and refuses a wrong password with exit 9', async () => {
    const [port, portB] = [await freePort(), await freePort()];
    const repository = `${registry.host}/team/${w.app}`;
    w.repo.commit(
      'one',
      webApp('one', {
        deployJson: {
          app: w.app,
          ports: [`127.0.0.1:${port}:8080`],
          healthCheck: { path: '/' },
          registry: `${registry.host}/team`,
        },
      }),
    );
    // --verbose: the build's and the push's whole output is part of what the sentinel search below reads.
    const first = await run({}, 'deploy', '--json', '--yes', '--verbose');
    expect(first.code, first.stderr).toBe(0);
    const v1 = first.json<PublicRecord>();
    expect(v1.status).toBe('running');
    expect(first.stderr).toContain(`Pushed ${repository}:${v1.id}`);
    // The registry's own digest of REGISTRY/team/APP:ID, as it answers for the manifest.
    const manifest = await fetch(`http://${registry.host}/v2/team/${w.app}/manifests/${v1.id}`, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${registry.user}:${registry.password}`).toString('base64')}`,
        Accept: 'application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    expect(manifest.status).toBe(200);
    expect(v1.imageDigest).toBe(manifest.headers.get('docker-content-digest'));
    expect(v1.imageDigest).not.toBe(v1.imageId);
    // The engine keeps the image under the release's own name only.
    expect(docker('images', '--format', '{{.Repository}}:{{.Tag}}', repository)).toBe('');
    // Nor any reference into the registry: retention removes an image by its id, which two repositories would refuse.
    expect(
      docker('image', 'inspect', '--format', '{{json .RepoDigests}} {{json .RepoTags}}', v1.imageId as string),
    ).toBe(`[] ["deploy/${w.app}:${v1.id}"]`);

    // A wrong password: the push is refused after the build, nothing new serves, v1 still does.
    const wrong = registry.wrongPassword();
    w.repo.commit('two', { 'index.html': 'two\n' });
    const refused = await run({ DOCKER_CONFIG: wrong }, 'deploy', '--yes');
    expect(refused.code, refused.stderr).toBe(EXIT_CODES.build_failed);
    expect(refused.stderr).toContain(`The registry ${registry.host} refused the push of ${repository}:`);
    expect(refused.stderr).toContain(`docker login ${registry.host}`);
    expect(await fetchText(port)).toBe('one');
    const records = (await run({}, 'ls', '--json')).json<PublicRecord[]>();
    expect(records.map((r) => [r.version, r.status])).toEqual([
      [2, 'failed'],
      [1, 'running'],
    ]);

    // The second engine has never seen the image: a redeploy of v1 there (the app moves to it) pulls it by the
    // recorded digest.
    expect(await tls.docker('images', '-q', `deploy/${w.app}`)).toBe('');
    const redeployOnB = (env: Record<string, string>, ...args: string[]) =>
      run({ ...tls.env, ...env }, 'redeploy', v1.id, '--host', tls.url, '--port', `127.0.0.1:${portB}:8080`, ...args);
    // With a wrong password the registry refuses the pull: exit 9 naming it and docker login, nothing starts there.
    const pullRefused = await redeployOnB({ DOCKER_CONFIG: wrong }, '--yes');
    expect(pullRefused.code, pullRefused.stderr).toBe(EXIT_CODES.build_failed);
    expect(pullRefused.stderr).toContain(
      `The registry ${registry.host} refused the pull of ${repository}@${v1.imageDigest}`,
    );
    expect(pullRefused.stderr).toContain(`docker login ${registry.host}`);
    expect(await tls.docker('ps', '-aq')).toBe('');
    expect(await fetchText(port)).toBe('one');
    const onB = await redeployOnB({}, '--json', '--yes');
    expect(onB.code, onB.stderr).toBe(0);
    const b = onB.json<PublicRecord>();
    expect(b).toMatchObject({ endpoint: tls.url, status: 'running', imageId: v1.imageId, imageDigest: v1.imageDigest });
    expect(onB.stderr).toContain('no build');
    expect(await fetchText(portB)).toBe('one');
    // inspect says where the image lives: the registry reference, and the engines whose records ran it.
    const inspected = await run({}, 'inspect', v1.id, '--json');
    expect(inspected.json<{ imageLocations: unknown }>().imageLocations).toEqual({
      registry: `${repository}@${v1.imageDigest}`,
      engines: [
        { endpoint: 'unix:///var/run/docker.sock', versions: [1] },
        { endpoint: tls.url, versions: [b.version] },
      ],
    });
    const shown = await run({}, 'inspect', v1.id);
    expect(shown.stdout).toMatch(new RegExp(`registry\\s+${repository.replace(/\./g, '\\.')}@${v1.imageDigest}`));
    expect(shown.stdout).toMatch(/image on\s+unix:\/\/\/var\/run\/docker\.sock \(v1\)/);
    // Kept there under the release's name alone, as a built image is (so retention can remove it by its id).
    expect(await tls.docker('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}')).toContain(
      `deploy/${w.app}:${v1.id} ${(v1.imageId as string).slice(7, 19)}`,
    );
    expect(await tls.docker('images', '-q', repository)).toBe('');
    expect(
      await tls.docker('rmi', '--no-prune', (v1.imageId as string).slice(7)).catch((e: Error) => e.message),
    ).toMatch(/being used by running container|image is being used/);

    // Sentinel: the password is in no output, record, kept log, label or image.
    const logs = await run({}, 'logs', v1.id, '--build');
    const everything = [
      ...outputs.map((o) => o.stdout + o.stderr),
      logs.stdout,
      allText(w.home.dir),
      docker('image', 'inspect', `deploy/${w.app}:${v1.id}`),
      docker('ps', '-a', '--no-trunc', '--filter', `label=dev.deploy.app=${w.app}`, '--format', '{{json .}}'),
      await tls.docker('image', 'inspect', `deploy/${w.app}:${v1.id}`),
      await tls.docker('inspect', ...(await tls.docker('ps', '-aq')).split('\n').filter(Boolean)),
    ].join('\n');
    expect(everything).toContain(v1.imageDigest as string);
    expect(everything).not.toContain(registry.password);
  }, 300_000);

  it('pushes with the credentials a credential helper gives (credHelpers), asked for this registry only', async () => {
    const helper = registry.credentialHelper('pushreg');
    const h = appWorkspace('helper', helper.env);
    try {
      h.repo.commit('one', webApp('helper', { deployJson: { app: h.app, registry: registry.host } }));
      const r = await h.run('deploy', '--json', '--yes', '--verbose');
      expect(r.code, r.stderr).toBe(0);
      const rec = r.json<PublicRecord>();
      expect(rec.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(rec.imageDigest).not.toBe(rec.imageId);
      expect(r.stderr).toContain(`Pushed ${registry.host}/${h.app}:${rec.id}`);
      expect(helper.askedFor()).toEqual([registry.host]);
      expect(r.stdout + r.stderr + allText(h.home.dir)).not.toContain(registry.password);
    } finally {
      h.remove();
    }
  }, 120_000);
  it('deploy start of a release whose container and image the engine lost pulls the image by its digest and runs it', async () => {
    const s = await appFixture({
      prefix: 'restart-pull',
      body: 'pulled back',
      deployJson: { registry: `${registry.host}/team` },
      env: { DOCKER_CONFIG: registry.loggedIn() },
    });
    try {
      const { port } = s;
      const first = await s.run('deploy', '--json', '--yes');
      expect(first.code, first.stderr).toBe(0);
      const rec = first.json<PublicRecord>();
      // The engine loses both (a reset engine, a prune by hand).
      execFileSync('docker', ['rm', '-f', rec.containerId as string]);
      execFileSync('docker', ['rmi', '-f', rec.imageId as string]);
      const started = await s.run('start', s.app, '--yes', '--json');
      expect(started.code, started.stderr).toBe(0);
      expect(started.json<PublicRecord>().status).toBe('running');
      expect(await fetchText(port)).toBe('pulled back');
      expect(
        execFileSync('docker', ['image', 'inspect', '-f', '{{.Id}}', `deploy/${s.app}:${rec.id}`], {
          encoding: 'utf8',
        }).trim(),
      ).toBe(rec.imageId);
    } finally {
      s.remove();
    }
  }, 120_000);
});
