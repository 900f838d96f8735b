/**
 * Engine-to-engine copies without a registry, between the real engine and a second real engine (a dockerd on tcp +
 * TLS): GET /images/{name}/get on one, POST /images/load on the other, streamed, leaving out the layers the
 * receiving engine has; the whole image when it lacks them, or when it refuses the lighter tarball. And through
 * the CLI: a redeploy on the second engine of a release built on the first copies its image there.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { chainsOn, transferImage } from '../../src/adapters/images/transfer.js';
import { chainIds } from '../../src/core/layer-transfer.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { cli } from '../helpers/cli.js';
import { fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { startTlsEngine, type TlsEngine } from '../helpers/remote.js';
import { appWorkspace } from '../helpers/workspace.js';

const docker = (...args: string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('copying images between engines', () => {
  let tls: TlsEngine;
  let a: Engine;
  let b: Engine;
  const dir = mkdtempSync(join(tmpdir(), 'deploy-transfer-'));
  const tag = (n: string) => `deploy-transfer-test-${process.pid}:${n}`;

  /** An image on the first engine: busybox, a 4 MB layer of random bytes, then one small layer saying `text`. */
  function build(name: string, text: string) {
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM busybox:1.36\nRUN head -c 4000000 /dev/urandom > /big\nRUN echo ${text} > /said\n`,
    );
    docker('build', '-q', '-t', tag(name), dir);
  }

  beforeAll(async () => {
    tls = await startTlsEngine();
    await tls.loadBaseImage();
    a = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
    b = await Engine.connect(
      {
        url: tls.url,
        source: 'test',
        tls: {
          ca: readPem(tls.certDir, 'ca.pem'),
          cert: readPem(tls.certDir, 'cert.pem'),
          key: readPem(tls.certDir, 'key.pem'),
          verify: true,
        },
      },
      tls.env,
    );
  }, 180_000);
  afterAll(async () => {
    a?.close();
    b?.close();
    for (const n of ['one', 'two', 'three']) {
      try {
        docker('rmi', tag(n));
      } catch {
        // not made
      }
    }
    await tls?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('sends the whole image to an engine that lacks its layers, then only the one layer that changed', async () => {
    build('one', 'one');
    build('two', 'two');
    let progressed = 0;
    const first = await transferImage(a, b, tag('one'), { onProgress: () => progressed++ });
    // busybox is there already (loaded from the first engine): only the 4 MB layer and the small one go.
    expect(first).toMatchObject({ layers: 3, skippedLayers: 1, fellBack: null });
    expect(first.sentBytes).toBeGreaterThan(4_000_000);
    expect(progressed).toBeGreaterThan(0);
    expect(await tls.docker('run', '--rm', tag('one'), 'cat', '/said')).toBe('one');

    const second = await transferImage(a, b, tag('two'));
    expect(second).toMatchObject({ layers: 3, skippedLayers: 2, fellBack: null });
    expect(second.savedBytes).toBeGreaterThan(6_000_000);
    expect(second.sentBytes).toBeLessThan(100_000);
    expect(await tls.docker('run', '--rm', tag('two'), 'cat', '/said')).toBe('two');
    expect(await tls.docker('image', 'inspect', '--format', '{{.Id}}', tag('two'))).toBe(
      docker('image', 'inspect', '--format', '{{.Id}}', tag('two')),
    );
  }, 180_000);

  it('says so when the sending engine does not have the image', async () => {
    await expect(transferImage(a, b, `deploy-transfer-test-${process.pid}:never-built`)).rejects.toThrow(
      `The image deploy-transfer-test-${process.pid}:never-built is not on unix:///var/run/docker.sock either.`,
    );
  });

  it('sends the whole image when the receiving engine refuses the lighter tarball, and says why', async () => {
    build('three', 'three');
    const layers = (await a.images.layers(tag('three'))) as string[];
    // A wrong belief (that the engine has every layer of the image, when it lacks the top one): the engine's
    // own refusal of the tarball is what the fallback answers.
    const present = new Set([...(await chainsOn(b)), ...chainIds(layers)]);
    const result = await transferImage(a, b, tag('three'), { present });
    expect(result.fellBack).toMatch(/layer\.tar|no such file/);
    expect(result.skippedLayers).toBe(0);
    expect(await tls.docker('run', '--rm', tag('three'), 'cat', '/said')).toBe('three');
  }, 180_000);

  it('deploy redeploy on the second engine copies the release built on the first, only what it lacks', async () => {
    const w = appWorkspace('copied');
    try {
      const [port, portB] = [await freePort(), await freePort()];
      w.repo.commit(
        'one',
        webApp('copied', {
          deployJson: { app: w.app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' } },
        }),
      );
      const v1 = await w.run('deploy', '--json', '--yes');
      expect(v1.code, v1.stderr).toBe(0);
      const built = v1.json<PublicRecord>();
      const onB = await cliOn(w, tls, 'redeploy', built.id, '--host', tls.url, '--port', `127.0.0.1:${portB}:8080`);
      expect(onB.code, onB.stderr).toBe(0);
      expect(onB.json<PublicRecord>()).toMatchObject({ endpoint: tls.url, status: 'running', imageId: built.imageId });
      expect(onB.stderr).toMatch(
        new RegExp(
          `Copied deploy/${w.app}:${built.id} from unix:///var/run/docker.sock: [0-9.]+ of [0-9.]+ MiB sent \\(1 of \\d+ layers already here\\)`,
        ),
      );
      expect(onB.stderr).toContain('no build');
      expect(await fetchText(portB)).toBe('copied');
    } finally {
      w.remove();
    }
  }, 180_000);
});

function readPem(dir: string, name: string): Buffer {
  return readFileSync(join(dir, name));
}

function cliOn(w: ReturnType<typeof appWorkspace>, tls: TlsEngine, ...args: string[]) {
  return cli([...args, '--json', '--yes'], { cwd: w.repo.dir, env: { ...w.env, ...tls.env } });
}
