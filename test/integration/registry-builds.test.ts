/**
 * Builds whose base image is in a private registry, against a real registry (docker-registry with htpasswd on
 * 127.0.0.1) and the real engine, with both builders: the credentials `docker login` wrote (or a credential helper
 * gives) reach the engine and nothing else; without them, or with a wrong password, the build fails saying which
 * registry refused and how to log in.
 */
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildFailure } from '../../src/adapters/docker/engine/builds.js';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { BuildOptions } from '../../src/adapters/docker/engine/types.js';
import { RegistryCredentials } from '../../src/adapters/registry-credentials.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { tarFile } from '../../src/core/tar.js';
import { cli } from '../helpers/cli.js';
import { fetchText } from '../helpers/docker.js';
import { hasRegistry, startRegistry, type Registry } from '../helpers/registry.js';
import { appFixture } from '../helpers/app-fixture.js';

const tags = new Set<string>();
const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe.skipIf(!hasRegistry())('builds from a private registry', () => {
  let registry: Registry;
  let engine: Engine;
  let base = '';

  beforeAll(async () => {
    registry = await startRegistry();
    base = registry.push('busybox:1.36', `base/busybox:private-${process.pid}`);
    engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
  });
  afterAll(() => {
    for (const t of tags) {
      try {
        docker('rmi', '-f', t);
      } catch {
        // gone
      }
    }
    try {
      docker('rmi', base);
    } catch {
      // never pulled
    }
    engine?.close();
    registry?.stop();
  });

  /** A build FROM the private base; the pulled base is removed first, so every build must pull it. */
  async function build(builder: BuildOptions['builder'], credentials: RegistryCredentials | null, pull = false) {
    try {
      docker('rmi', base);
    } catch {
      // not here
    }
    const tag = `registry-test-${process.pid}:${builder}-${tags.size}`;
    tags.add(tag);
    let output = '';
    const context = Readable.from([tarFile('Dockerfile', Buffer.from(`FROM ${base}\nRUN echo built > /built.txt\n`))]);
    const options: BuildOptions = {
      builder,
      tag,
      dockerfile: 'Dockerfile',
      labels: { 'dev.deploy.test': 'registry' },
      buildArgs: {},
      noCache: true,
      pull,
      // As the service passes them: a build from a registry other than Docker Hub always has a lookup (none: null).
      credentials: { registries: [registry.host], lookUp: async (r) => (credentials ? credentials.get(r) : null) },
    };
    const result = await engine.builds
      .build(context, options, (t) => (output += t))
      .then(
        (r) => ({ ok: true as const, imageId: r.imageId }),
        (e: unknown) => ({ ok: false as const, error: e }),
      );
    return { ...result, output, tag };
  }

  for (const builder of ['buildkit', 'classic'] as const) {
    it(`${builder}: builds FROM the private image with docker login's credentials, and --pull pulls it again`, async () => {
      const creds = RegistryCredentials.read({ DOCKER_CONFIG: registry.loggedIn() });
      const built = await build(builder, creds);
      expect(built.ok, String((built as { error?: unknown }).error)).toBe(true);
      expect(docker('run', '--rm', built.tag, 'cat', '/built.txt')).toBe('built');
      const pulled = await build(builder, creds, true);
      expect(pulled.ok).toBe(true);
      // No credential in what the build printed, nor in the image it made.
      for (const b of [built, pulled]) expect(b.output).not.toContain(registry.password);
      const image = docker('image', 'inspect', built.tag) + docker('history', '--no-trunc', built.tag);
      expect(image).not.toContain(registry.password);
    });

    it(`${builder}: without credentials, or with a wrong password, fails on the registry's refusal`, async () => {
      for (const creds of [null, RegistryCredentials.read({ DOCKER_CONFIG: registry.wrongPassword() })]) {
        const failed = await build(builder, creds);
        expect(failed.ok).toBe(false);
        expect((failed as { error: unknown }).error).toBeInstanceOf(BuildFailure);
        expect(
          String((failed as { error: Error }).error.message),
          String((failed as { error: Error }).error.message),
        ).toMatch(/401|unauthorized|authentication required|no basic auth credentials|denied/i);
      }
    });
  }

  it('takes the credentials from a credential helper, asked for this registry only', async () => {
    const helper = registry.credentialHelper('testreg');
    const built = await build('buildkit', RegistryCredentials.read(helper.env));
    expect(built.ok, String((built as { error?: unknown }).error)).toBe(true);
    expect(helper.askedFor()).toEqual([registry.host]);
  });

  it('deploy deploy: a private base builds with DOCKER_CONFIG; a wrong password fails with exit 9 naming the registry and docker login, the release before still serving', async () => {
    const w = await appFixture({ prefix: 'reg', body: 'private', env: { DOCKER_CONFIG: registry.loggedIn() } });
    try {
      const { port } = w;
      const dockerfile = execFileSync('git', ['show', 'HEAD:Dockerfile'], { cwd: w.repo.dir, encoding: 'utf8' });
      expect(dockerfile).toMatch(/^FROM busybox:1\.36$/m);
      w.repo.commit('private base', { Dockerfile: dockerfile.replace(/^FROM busybox:1\.36$/m, `FROM ${base}`) });
      try {
        docker('rmi', base);
      } catch {
        // not here
      }
      const ok = await w.run('deploy', '--json', '--yes');
      expect(ok.code, ok.stderr).toBe(0);
      const v1 = ok.json<PublicRecord>();
      expect(v1.status).toBe('running');
      try {
        docker('rmi', base);
      } catch {
        // BuildKit keeps what it pulls in its own store
      }
      const refused = await cli(['deploy', '--no-cache', '--yes'], {
        cwd: w.repo.dir,
        env: { ...w.env, DOCKER_CONFIG: registry.wrongPassword() },
      });
      expect(refused.code, refused.stderr).toBe(EXIT_CODES.build_failed);
      expect(refused.stderr).toContain(
        `The registry ${registry.host} refused the pull for want of credentials: log in (docker login ${registry.host}) or set up its credential helper, then deploy again.`,
      );
      expect(refused.stderr + refused.stdout).not.toContain(registry.password);
      expect(await fetchText(port)).toBe('private');
      const records = (await w.run('ls', '--json')).json<PublicRecord[]>();
      expect(records.map((r) => [r.version, r.status])).toEqual([
        [2, 'failed'],
        [1, 'running'],
      ]);
      expect(JSON.stringify(records)).not.toContain(registry.password);
    } finally {
      w.remove();
    }
  });
});
