import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { EXIT_CODES, exitCodeOf, fromEngineRefusal, isDeployError } from '../../src/core/errors.js';
import { firstTarFile, tarFile } from '../../src/core/tar.js';
import { bareContainer } from '../helpers/docker.js';
import { rejectionOf } from '../helpers/rejection.js';

/** A build context: a tar of a Dockerfile (and nothing else), made by hand. */
function context(dockerfile: string): Readable {
  return Readable.from([tarFile('Dockerfile', Buffer.from(dockerfile))]);
}

describe('the Engine adapter against the real engine', () => {
  let engine: Engine;
  const tag = `deploy-engine-test:${process.pid}`;
  const made: string[] = [];

  beforeAll(async () => {
    engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
  });
  afterAll(() => {
    for (const id of made) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    for (const t of [tag, `${tag}-classic`]) {
      try {
        execFileSync('docker', ['rmi', '-f', t], { stdio: 'ignore' });
      } catch {
        // not made
      }
    }
    engine.close();
  });

  it("agrees on the older of the engine's API version and its own, and honours a pinned one", async () => {
    const server = execFileSync('docker', ['version', '--format', '{{.Server.APIVersion}}'], {
      encoding: 'utf8',
    }).trim();
    expect(engine.apiVersion).toBe(server);
    const pinned = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test', apiVersion: '1.40' });
    try {
      expect(pinned.apiVersion).toBe('1.40');
      expect(Array.isArray(await pinned.images.list({ 'dev.deploy.record': null }))).toBe(true);
    } finally {
      pinned.close();
    }
  });

  it('builds with BuildKit and with the classic builder, labels applied, output streamed', async () => {
    for (const [builder, t] of [
      ['buildkit', tag],
      ['classic', `${tag}-classic`],
    ] as const) {
      let output = '';
      const built = await engine.builds.build(
        context('FROM busybox:1.36\nRUN echo "built by the test"\n'),
        {
          builder,
          tag: t,
          dockerfile: 'Dockerfile',
          labels: { 'dev.deploy.test': builder },
          buildArgs: {},
          noCache: true,
          pull: false,
        },
        (text) => (output += text),
      );
      expect(built.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(output).toContain('built by the test');
      expect((await engine.images.inspect(t))?.labels['dev.deploy.test']).toBe(builder);
    }
  });

  it("reports a failing build as a BuildFailure with the engine's message", async () => {
    await expect(
      engine.builds.build(
        context('FROM busybox:1.36\nRUN exit 7\n'),
        {
          builder: 'buildkit',
          tag: `${tag}-bad`,
          dockerfile: 'Dockerfile',
          labels: {},
          buildArgs: {},
          noCache: false,
          pull: false,
        },
        () => undefined,
      ),
    ).rejects.toThrow(/exit code: 7/);
  });

  it('creates under a fixed name once (the lock relies on it), reads and writes files of a created container', async () => {
    const spec = { name: `deploy-engine-test-${process.pid}`, Image: tag, Cmd: ['true'] };
    const id = await engine.containers.createNamed(spec);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    made.push(id as string);
    expect(await engine.containers.createNamed(spec)).toBeNull();
    await engine.containers.putArchive(id as string, '/', tarFile('note', Buffer.from('written through the API')));
    const tar = await engine.containers.getArchive(id as string, '/note');
    expect(firstTarFile(tar as Buffer)?.toString()).toBe('written through the API');
    expect(await engine.containers.getArchive(id as string, '/nothing-here')).toBeNull();
    expect(await engine.images.remove(tag)).toBe(false); // in use by the container: refused, not forced
  });

  it("turns the engine's refusal into an engine_error carrying the engine's own words", async () => {
    const name = `deploy-engine-test-${process.pid}`; // taken by the test above
    const refused = await rejectionOf(engine.containers.create({ name, Image: tag, Cmd: ['true'] } as never));
    expect(refused).toBeInstanceOf(Error);
    const failure = fromEngineRefusal(refused);
    expect(isDeployError(failure, 'engine_error')).toBe(true);
    expect((failure as Error).message).toMatch(new RegExp(`^The Docker Engine refused: .*${name}.*already in use`));
    expect(exitCodeOf(failure)).toBe(EXIT_CODES.engine_error);
    // Anything else passes through untouched.
    const other = new Error('not the engine');
    expect(fromEngineRefusal(other)).toBe(other);
  });

  it('demultiplexes logs and reports container events (start, die with its exit code)', async () => {
    const id = await engine.containers.create(
      bareContainer(`deploy-engine-logs-${process.pid}`, {
        cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; sleep 0.3; exit 5'],
        init: true,
      }),
    );
    made.push(id);
    const events: string[] = [];
    const watch = await engine.events.watch(id, (e) =>
      events.push(`${e.action}${e.exitCode === null ? '' : `:${e.exitCode}`}`),
    );
    await engine.containers.start(id);
    for (let i = 0; i < 50 && !events.some((e) => e.startsWith('die')); i++)
      await new Promise((r) => setTimeout(r, 100));
    watch.close();
    expect(events).toEqual(expect.arrayContaining(['start', 'die:5']));
    const lines = await engine.logs.read(id);
    // The two streams are kept apart (their order between them is the engine's).
    expect(lines.map((l) => [l.stream, l.message]).sort()).toEqual([
      ['stderr', 'to-err'],
      ['stdout', 'to-out'],
    ]);
    expect(lines.every((l) => typeof l.time === 'number')).toBe(true);
    expect((await engine.containers.inspect(id))?.exitCode).toBe(5);
  });
});
