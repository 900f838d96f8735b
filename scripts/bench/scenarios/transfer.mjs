// An image copied to a second engine with one layer changed: the tool's engine-to-engine copy (only the layers the
// other engine lacks) against `docker save | docker load` (the whole image), in time and in bytes sent.
import { spawn } from 'node:child_process';
import { clearTimeout, setTimeout } from 'node:timers';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, log, ms, ROOT } from '../measure.mjs';
import { docker } from '../workspace.mjs';

/** One line for --help. */
export const summary =
  'copy to a second engine of an image with one layer changed: the tool (missing layers only) against docker save | docker load';

/**
 * The second engine is the one the remote tests start (test/helpers/remote.ts: a dockerd on tcp://127.0.0.1 with
 * TLS, its own data root and bridge), and the tool's side is its own code (src/adapters/images/transfer.ts), both
 * bundled for this run with esbuild. The images: busybox, an 8 MB layer of random bytes, one small layer; the
 * second engine has busybox and the first image (copied once, untimed); each sample copies the second image, which
 * differs from the first in its small top layer only, after removing it from the second engine.
 *
 *   tool:     transferImage(first engine, second engine, image): GET /images/{name}/get → only the missing
 *             layer's layer.tar kept → POST /images/load, streamed; the time includes asking the second engine
 *             which layers it has.
 *   baseline: docker save IMAGE | docker load (with the second engine's DOCKER_HOST and certificates).
 */
export default async function benchTransfer({ ws, report, runs }) {
  log('transfer: one changed layer copied to a second engine, against docker save | docker load');
  const dir = ws.tempDir('transfer');
  writeFileSync(
    join(dir, 'entry.ts'),
    [
      `export { startTlsEngine } from ${JSON.stringify(join(ROOT, 'test/helpers/remote.ts'))};`,
      `export { Engine } from ${JSON.stringify(join(ROOT, 'src/adapters/docker/engine/engine.ts'))};`,
      `export { transferImage } from ${JSON.stringify(join(ROOT, 'src/adapters/images/transfer.ts'))};`,
      '',
    ].join('\n'),
  );
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    outfile: join(dir, 'parts.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    logLevel: 'warning',
  });
  const { startTlsEngine, Engine, transferImage } = await import(join(dir, 'parts.mjs'));

  const tags = [ws.baseImage('transfer-1'), ws.baseImage('transfer-2')];
  for (const [i, tag] of tags.entries()) {
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM busybox:1.36\nRUN head -c 8000000 /dev/zero | tr '\\0' x > /big && date +%s%N > /seed\nRUN echo ${i} > /said\n`,
    );
    // The same big layer for both (built once, cached), a different top layer.
    docker(['build', '-q', '-t', tag, dir]);
  }
  const tls = await startTlsEngine();
  let a;
  let b;
  try {
    await tls.loadBaseImage();
    a = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'bench' });
    const pem = (name) => readPem(join(tls.certDir, name));
    b = await Engine.connect(
      {
        url: tls.url,
        source: 'bench',
        tls: { ca: pem('ca.pem'), cert: pem('cert.pem'), key: pem('key.pem'), verify: true },
      },
      tls.env,
    );
    await transferImage(a, b, tags[0]);
    const [changed] = tags.slice(1);
    const reset = () => tls.docker('rmi', changed).catch(() => undefined);

    const tool = [];
    const toolBytes = [];
    const base = [];
    let wholeBytes = 0;
    const env = { ...process.env, ...tls.env };
    for (let i = 0; i < runs.slowWarm + runs.slow; i++) {
      const keep = i >= runs.slowWarm;
      await reset();
      let t0 = process.hrtime.bigint();
      const result = await transferImage(a, b, changed);
      const toolMs = ms(process.hrtime.bigint() - t0);
      await reset();
      t0 = process.hrtime.bigint();
      wholeBytes = await saveLoad(changed, env);
      const baseMs = ms(process.hrtime.bigint() - t0);
      if (keep) {
        tool.push(toolMs);
        toolBytes.push(result.sentBytes / 1024);
        base.push(baseMs);
      }
      if (result.fellBack) report.note(`transfer: the lighter copy was refused (${result.fellBack})`);
    }
    const baseline = { name: 'docker save | docker load (the whole image)', ...describe(base) };
    report.figure({
      scenario: 'transfer',
      name: 'copy to a 2nd engine, one layer changed',
      command: 'transferImage (GET /images/NAME/get -> missing layers only -> POST /images/load)',
      value: describe(tool),
      baseline,
    });
    report.figure({
      scenario: 'transfer',
      name: 'bytes sent, one layer changed',
      unit: 'KiB',
      value: describe(toolBytes),
      baseline: { name: 'docker save output (the whole image)', ...describe([wholeBytes / 1024]) },
    });
    return { wholeBytes, sentBytes: toolBytes.map((k) => Math.round(k * 1024)) };
  } finally {
    a?.close();
    b?.close();
    await tls.stop();
  }
}

function readPem(path) {
  return readFileSync(path);
}

/** `docker save TAG | docker load` (load with `env`: the second engine); resolves with the bytes that went through. */
function saveLoad(tag, env) {
  return new Promise((resolve, reject) => {
    const save = spawn('docker', ['save', tag], { stdio: ['ignore', 'pipe', 'inherit'] });
    const load = spawn('docker', ['load', '-q'], { env, stdio: ['pipe', 'ignore', 'inherit'] });
    let bytes = 0;
    save.stdout.on('data', (c) => (bytes += c.length));
    save.stdout.pipe(load.stdin);
    const timer = setTimeout(() => {
      save.kill();
      load.kill();
    }, 120_000);
    let left = 2;
    const done = (what) => (code) => {
      if (code !== 0) {
        clearTimeout(timer);
        reject(new Error(`docker ${what} exited ${code}`));
      } else if (--left === 0) {
        clearTimeout(timer);
        resolve(bytes);
      }
    };
    save.on('exit', done('save'));
    load.on('exit', done('load'));
  });
}
