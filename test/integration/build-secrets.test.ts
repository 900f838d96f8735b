/**
 * Build secrets (`RUN --mount=type=secret`) through a BuildKit session, against the real engine and over every
 * transport the Engine client has: the step sees the value, and the value is in no layer, no image config,
 * history or label, and not in the build output the adapter streams. Every image and container made here is
 * named secrets-… and removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildFailure } from '../../src/adapters/docker/engine/builds.js';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import type { BuildOptions } from '../../src/adapters/docker/engine/types.js';
import { createContext } from '../../src/context.js';
import { DEFAULT_CONFIG } from '../../src/core/config.js';
import { DeployError, isDeployError } from '../../src/core/errors.js';
import { firstTarFile, tarFile } from '../../src/core/tar.js';
import { buildImage } from '../../src/services/build.js';
import { startRecord } from '../../src/services/tracker.js';
import { TempRepo } from '../helpers/git-repo.js';
import { remoteEngines } from '../helpers/remote.js';
import { rejectionOf } from '../helpers/rejection.js';
import { plainReporter } from '../helpers/reporter.js';

const SOCKET = '/var/run/docker.sock';
const tagBase = `secrets-test-${process.pid}`;
const made = { images: new Set<string>(), containers: new Set<string>() };

function context(dockerfile: string): Readable {
  return Readable.from([tarFile('Dockerfile', Buffer.from(dockerfile))]);
}

function options(tag: string, secrets?: Map<string, Buffer>): BuildOptions {
  made.images.add(tag);
  // No cache: a cached secret step would not run again (a secret's value is not part of BuildKit's cache key).
  return {
    builder: 'buildkit',
    tag,
    dockerfile: 'Dockerfile',
    labels: { 'dev.deploy.test': 'secrets' },
    buildArgs: {},
    noCache: true,
    pull: false,
    secrets,
  };
}

/** A whole answer of the local engine, straight from its socket (what `docker save` and `docker inspect` read). */
function engineGet(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: SOCKET, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        (res.statusCode ?? 0) < 300
          ? resolve(Buffer.concat(chunks))
          : reject(new Error(`GET ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The entries of a tar (ustar; long names through PAX or GNU headers are kept as their own entries). */
function tarEntries(tar: Buffer): Array<{ name: string; type: string; data: Buffer }> {
  const out: Array<{ name: string; type: string; data: Buffer }> = [];
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, to: number) => header.subarray(from, to).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 136).trim() || '0', 8);
    const prefix = field(345, 500);
    out.push({
      name: prefix ? `${prefix}/${field(0, 100)}` : field(0, 100),
      type: field(156, 157) || '0',
      data: tar.subarray(at + 512, at + 512 + size),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Sockets and pipes this process holds open: a session left open after its build would be one more. */
function openStreams(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/^(socket|pipe):/.test(readlinkSync(`/proc/self/fd/${fd}`))) n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

async function settlesAt(count: number, measure: () => number = openStreams): Promise<number> {
  for (let i = 0; i < 40 && measure() !== count; i++) await new Promise((r) => setTimeout(r, 50));
  return measure();
}

/**
 * The `ssh` processes this test process has started, at any depth (the test's ssh wrapper execs the real one).
 * Counted rather than this process's open streams: those also move with whatever the suite's own set-up (an
 * sshd, a second dockerd, their pipes) opens or closes meanwhile, which once made a clean build look like one
 * stream fewer.
 */
function sshProcesses(): number {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      parents.set(Number(entry), { ppid: Number(stat.slice(close + 2).split(' ')[1]), comm });
    } catch {
      // ended while listing
    }
  }
  let n = 0;
  for (const [pid, { comm }] of parents) {
    if (comm !== 'ssh') continue;
    for (let up = parents.get(pid)?.ppid; up !== undefined && up > 1; up = parents.get(up)?.ppid) {
      if (up === process.pid) {
        n++;
        break;
      }
    }
  }
  return n;
}

/** A file written into the image by a build step, read back through a created (never started) container. */
async function fileInImage(engine: Engine, image: string, path: string): Promise<string | undefined> {
  const name = `secrets-${process.pid}-${randomBytes(3).toString('hex')}`;
  const id = await engine.containers.create({ name, Image: image, Cmd: ['true'] } as never);
  made.containers.add(id);
  try {
    return firstTarFile((await engine.containers.getArchive(id, path)) as Buffer)?.toString('utf8');
  } finally {
    await engine.containers.remove(id);
    made.containers.delete(id);
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Writes the sha256 of the secret into the image (the step saw it), and checks the mount is gone afterwards. */
const HASHING_DOCKERFILE = [
  'FROM busybox:1.36',
  `RUN --mount=type=secret,id=token,required=true sh -c 'sha256sum /run/secrets/token | cut -d" " -f1 > /token.sha256'`,
  'RUN test ! -e /run/secrets/token && echo no-secret-after-the-step > /after.txt',
  '',
].join('\n');

afterAll(() => {
  for (const id of made.containers) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
  for (const tag of made.images) {
    try {
      execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
    } catch {
      // not made (a refused or failed build)
    }
  }
});

describe('build secrets on the local engine (unix socket)', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.connect({ url: `unix://${SOCKET}`, source: 'test' });
  });
  afterAll(() => engine.close());

  it('a secret step sees the value; it is in no layer, config, history or label, and the output masks it', async () => {
    const sentinel = `secrets-sentinel-${randomBytes(16).toString('hex')}`;
    const npmToken = `npm-sentinel-${randomBytes(16).toString('hex')}`;
    const tag = `${tagBase}:local`;
    let output = '';
    const dockerfile = [
      HASHING_DOCKERFILE.trimEnd(),
      // Steps that print secrets, as a careless Dockerfile does: the adapter's output must not carry them.
      'RUN --mount=type=secret,id=token,required=true cat /run/secrets/token',
      'RUN --mount=type=secret,id=npmrc,required=true cat /run/secrets/npmrc',
      // A value of BuildKit's largest size, bytes not text: more than one HTTP/2 frame and flow-control window.
      `RUN --mount=type=secret,id=big,required=true sh -c 'sha256sum /run/secrets/big | cut -d" " -f1 > /big.sha256'`,
      // A secret mount the build was given nothing for, not required: left out, as docker build does.
      `RUN --mount=type=secret,id=not-given sh -c 'test ! -e /run/secrets/not-given && echo not-given-was-left-out'`,
      '',
    ].join('\n');
    const big = randomBytes(500 * 1024);
    const secrets = new Map([
      ['big', big],
      ['token', Buffer.from(sentinel)],
      ['npmrc', Buffer.from(`registry=https://registry.example/\n//registry.example/:_authToken=${npmToken}\n`)],
    ]);
    const built = await engine.builds.build(context(dockerfile), options(tag, secrets), (text) => (output += text));

    expect(await fileInImage(engine, tag, '/token.sha256')).toBe(`${sha256(sentinel)}\n`);
    expect(await fileInImage(engine, tag, '/after.txt')).toBe('no-secret-after-the-step\n');
    expect(await fileInImage(engine, tag, '/big.sha256')).toBe(`${createHash('sha256').update(big).digest('hex')}\n`);

    // The output is the real build's (the steps ran and printed), with the secrets masked.
    expect(output).toContain('not-given-was-left-out');
    expect(output).toMatch(/#\d+ \*{8}\n/);
    expect(output).not.toContain(sentinel);
    expect(output).not.toContain(npmToken);
    expect(output).not.toContain('_authToken=');

    // Every layer of the saved image, and everything else `docker save` writes (config with history and labels).
    const saved = await engineGet(`/v1.41/images/${encodeURIComponent(tag)}/get`);
    const layers = tarEntries(saved).filter((e) => e.name.endsWith('layer.tar'));
    expect(layers.length).toBeGreaterThanOrEqual(2);
    // The search can find what steps wrote (so a leaked value would be found too)...
    expect(layers.some((l) => l.data.includes(sha256(sentinel)))).toBe(true);
    // ...and finds no secret, raw or base64, in any layer, nor anywhere in the archive.
    for (const value of [sentinel, npmToken, Buffer.from(sentinel).toString('base64')]) {
      for (const layer of layers) expect(layer.data.includes(value), `${value} in ${layer.name}`).toBe(false);
      expect(saved.includes(value)).toBe(false);
    }
    const inspect = (await engineGet(`/v1.41/images/${built.imageId}/json`)).toString('utf8');
    const history = (await engineGet(`/v1.41/images/${built.imageId}/history`)).toString('utf8');
    expect(inspect).toContain('"dev.deploy.test":"secrets"');
    expect(history).toContain('sha256sum /run/secrets/token');
    for (const text of [inspect, history]) {
      expect(text).not.toContain(sentinel);
      expect(text).not.toContain(npmToken);
    }
  });

  it('a required secret the build was not given fails the build, naming the secret', async () => {
    const failure = await rejectionOf(
      engine.builds.build(
        context('FROM busybox:1.36\nRUN --mount=type=secret,id=absent,required=true true\n'),
        options(`${tagBase}:absent`, new Map([['token', Buffer.from('given-but-not-asked')]])),
        () => undefined,
      ),
    );
    expect(failure).toBeInstanceOf(BuildFailure);
    expect((failure as Error).message).toMatch(/secret absent not found/);
  });

  it('an empty set of secrets still opens a session: an optional mount is left out, a required one fails by name', async () => {
    let output = '';
    await engine.builds.build(
      context(
        "FROM busybox:1.36\nRUN --mount=type=secret,id=opt sh -c 'test ! -e /run/secrets/opt && echo opt-left-out'\n",
      ),
      options(`${tagBase}:empty`, new Map()),
      (t) => (output += t),
    );
    expect(output).toContain('opt-left-out');
    await expect(
      engine.builds.build(
        context('FROM busybox:1.36\nRUN --mount=type=secret,id=req,required=true true\n'),
        options(`${tagBase}:empty-req`, new Map()),
        () => undefined,
      ),
    ).rejects.toThrow(/secret req not found/);
  });

  it('without secrets no session is opened, and BuildKit\'s "no active sessions" says what it means', async () => {
    await expect(
      engine.builds.build(
        context('FROM busybox:1.36\nRUN --mount=type=secret,id=req,required=true true\n'),
        options(`${tagBase}:none`),
        () => undefined,
      ),
    ).rejects.toThrow(
      /no active sessions? \(BuildKit asked this client for something only a build session serves: the secret of a RUN --mount=type=secret step, or registry credentials; this build opened no session\)/,
    );
  });

  it('refuses secrets with the classic builder before sending anything, saying what to do', async () => {
    const body = context('FROM busybox:1.36\n');
    const error = await rejectionOf(
      engine.builds.build(
        body,
        { ...options(`${tagBase}:classic`, new Map([['token', Buffer.from('x')]])), builder: 'classic' },
        () => undefined,
      ),
    );
    expect(isDeployError(error, 'usage')).toBe(true);
    expect((error as DeployError).message).toBe(
      'Build secrets (token) need BuildKit, but this build would use the classic builder (DOCKER_BUILDKIT=0, or an engine that refused BuildKit).',
    );
    expect((error as DeployError).hint).toBe(
      'Build with BuildKit (unset DOCKER_BUILDKIT, or use Docker 19.03 or later), or build without the secrets.',
    );
    expect(body.readableDidRead).toBe(false);
    // An empty set is nothing to serve: the classic builder builds as before.
    await expect(
      engine.builds.build(
        context('FROM busybox:1.36\nRUN true\n'),
        { ...options(`${tagBase}:classic-empty`, new Map()), builder: 'classic' },
        () => undefined,
      ),
    ).resolves.toMatchObject({ imageId: expect.stringMatching(/^sha256:/) });
  });

  it('closes the session when the build ends: success, failure, and an abort (Ctrl-C) mid-step', async () => {
    const secrets = new Map([['token', Buffer.from(`close-check-${randomBytes(8).toString('hex')}`)]]);
    const cases: Array<[string, string, boolean]> = [
      ['succeeds', HASHING_DOCKERFILE, false],
      ['fails', 'FROM busybox:1.36\nRUN --mount=type=secret,id=token,required=true false\n', false],
      [
        'is aborted',
        'FROM busybox:1.36\nRUN --mount=type=secret,id=token,required=true sh -c "echo step-started; sleep 30"\n',
        true,
      ],
    ];
    for (const [what, dockerfile, abort] of cases) {
      const before = openStreams();
      const own = await Engine.connect({ url: `unix://${SOCKET}`, source: 'test' });
      const controller = new AbortController();
      const began = Date.now();
      let output = '';
      const outcome = await own.builds
        .build(
          context(dockerfile),
          options(`${tagBase}:close-${what.replace(/ /g, '-')}`, secrets),
          (t) => {
            output += t;
            if (abort && output.includes('step-started')) controller.abort();
          },
          controller.signal,
        )
        .then(
          () => 'built',
          () => 'rejected',
        );
      own.close(); // idle pooled connections; a session is not pooled, so only its own close ends it
      expect(outcome, what).toBe(what === 'succeeds' ? 'built' : 'rejected');
      if (abort) expect(Date.now() - began, 'an abort ends the build at once').toBeLessThan(15_000);
      expect(await settlesAt(before), `streams left open after a build that ${what}`).toBe(before);
    }
  });
});

describe('build secrets over ssh:// and tcp:// with TLS', () => {
  const remote = remoteEngines();

  const buildThrough = async (engine: Engine, tag: string) => {
    const sentinel = `secrets-sentinel-${randomBytes(16).toString('hex')}`;
    let output = '';
    const dockerfile = `${HASHING_DOCKERFILE}RUN --mount=type=secret,id=token,required=true cat /run/secrets/token\n`;
    await engine.builds.build(
      context(dockerfile),
      options(tag, new Map([['token', Buffer.from(sentinel)]])),
      (t) => (output += t),
    );
    expect(await fileInImage(engine, tag, '/token.sha256')).toBe(`${sha256(sentinel)}\n`);
    expect(output).toMatch(/#\d+ \*{8}\n/);
    expect(output).not.toContain(sentinel);
  };

  it('over ssh (docker system dial-stdio): the session is one more ssh process, gone when the build ends', async () => {
    const before = sshProcesses();
    let most = before;
    const watch = setInterval(() => (most = Math.max(most, sshProcesses())), 100);
    const engine = await Engine.connect({ url: remote.ssh.url, source: 'test' }, { ...process.env, ...remote.ssh.env });
    try {
      await buildThrough(engine, `${tagBase}:ssh`);
    } finally {
      clearInterval(watch);
      engine.close();
    }
    // While it built: one ssh for the API request, one more for the session it served the secret through.
    expect(most - before).toBeGreaterThanOrEqual(2);
    expect(await settlesAt(before, sshProcesses), 'ssh processes left after the build').toBe(before);
  });

  it('over tcp:// with TLS (the h2c session runs inside the TLS connection)', async () => {
    const certs = (name: string) => readFileSync(join(remote.tls.certDir, name));
    const engine = await Engine.connect(
      {
        url: remote.tls.url,
        source: 'test',
        tls: { ca: certs('ca.pem'), cert: certs('cert.pem'), key: certs('key.pem'), verify: true },
      },
      process.env,
    );
    try {
      await buildThrough(engine, `${tagBase}:tls`);
    } finally {
      engine.close();
    }
  });
});

describe('buildImage with build secrets (the service: what is kept and shown of a build)', () => {
  const repo = new TempRepo('secrets-repo-');
  const home = mkdtempSync(join(tmpdir(), 'secrets-home-'));
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.connect({ url: `unix://${SOCKET}`, source: 'test' });
  });
  afterAll(() => {
    engine.close();
    repo.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it('masks a build secret in the build log kept with the record, the tail shown, and the failure recorded', async () => {
    const sentinel = `secrets-sentinel-${randomBytes(16).toString('hex')}`;
    const app = `secrets-${randomBytes(3).toString('hex')}`;
    const commit = repo.commit('prints its secret, then fails', {
      Dockerfile:
        'FROM busybox:1.36\nRUN --mount=type=secret,id=token,required=true sh -c \'echo "the token is $(cat /run/secrets/token)"; exit 3\'\n',
    });
    const stderr = new PassThrough();
    let shown = '';
    stderr.on('data', (c: Buffer) => (shown += c.toString('utf8')));
    const io = {
      env: { ...process.env, DEPLOY_HOME: home },
      cwd: repo.dir,
      stdin: Readable.from([]),
      stdout: new PassThrough(),
      stderr,
      now: () => Date.now(),
      random: (n: number) => randomBytes(n),
    };
    const ctx = createContext(io, plainReporter(io.stdout, stderr), new AbortController().signal);
    try {
      const source = {
        source: repo.dir,
        subdir: '',
        ref: 'main',
        commit,
        commitSubject: 'prints its secret, then fails',
        commitAuthor: 'Test Author',
        commitTime: null,
        dirty: false,
      };
      const tracker = startRecord(ctx, {
        app,
        kind: 'deploy',
        parentId: null,
        source,
        image: null,
        endpoint: `unix://${SOCKET}`,
        config: { ...DEFAULT_CONFIG, noCache: true },
        actor: 'test',
      });
      const error = await rejectionOf(
        buildImage(
          ctx,
          engine,
          await ctx.git(),
          tracker,
          { root: repo.dir, treeish: commit, subdir: '' },
          new Map([['token', Buffer.from(sentinel)]]),
        ),
      );
      expect(isDeployError(error, 'build_failed')).toBe(true);
      const kept = ctx.store().getLog(tracker.id, 'build')?.content.toString('utf8') ?? '';
      const recorded = ctx.store().getDeployment(tracker.id)?.error?.message ?? '';
      // The step ran and printed (so each text below is the real thing), its value masked everywhere.
      expect(kept).toContain('the token is ********');
      expect(shown).toContain('the token is ********');
      expect(recorded).toContain('exit code: 3');
      for (const text of [kept, shown, recorded, (error as Error).message]) expect(text).not.toContain(sentinel);
    } finally {
      ctx.close();
    }
  });
});
