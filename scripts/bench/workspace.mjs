// What the bench makes and works with: temp dirs, app names and the docker-CLI baselines' containers and images
// (tracked for the clean-up), the built CLI, docker and git as processes, the example's repositories, and the
// health wait of the baselines.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log, ms, ROOT, run } from './measure.mjs';

export { ROOT };
export const BIN = join(ROOT, 'bin', 'deploy.js');
export const EXAMPLE = join(ROOT, 'examples', 'hello');
/** The project's Node (the entry made sure it is one that runs the CLI). */
export const NODE = process.execPath;

/**
 * Everything one run of the bench makes, so that the clean-up removes it and nothing else: temp dirs, apps
 * named `bench-<run id>-…` (their containers and images), and the baselines' containers and images.
 */
export class Workspace {
  runId = randomBytes(3).toString('hex');
  #apps = new Set();
  #baseContainers = new Set();
  #baseImages = new Set();
  #dirs = new Set();
  #cleaned = false;

  tempDir(what) {
    const dir = mkdtempSync(join(os.tmpdir(), `deploy-bench-${what}-`));
    this.#dirs.add(dir);
    return dir;
  }

  appName(what) {
    const name = `bench-${this.runId}-${what}`;
    this.#apps.add(name);
    return name;
  }

  /**
   * What a scenario that times the tool against a docker-CLI baseline (BaselineApp) starts from: the tool's
   * DEPLOY_HOME and app, and a free port for each side.
   */
  async comparison(what) {
    const [portTool, portBase] = [await freePort(), await freePort()];
    return { home: this.tempDir(`home-${what}`), app: this.appName(what), portTool, portBase };
  }

  /** A tag for an image a baseline builds, removed at the end. */
  baseImage(what) {
    const tag = `bench-base-${this.runId}:${what}`;
    this.#baseImages.add(tag);
    return tag;
  }

  /** A name for a container a baseline runs, removed at the end (unless the baseline removed it: forget it). */
  baseContainer(what) {
    const name = `bench-${this.runId}-base-${what}`;
    this.#baseContainers.add(name);
    return name;
  }

  forgetContainer(name) {
    this.#baseContainers.delete(name);
  }

  /** A Git repository holding a copy of examples/hello, one commit. */
  exampleRepo(what) {
    const dir = join(this.tempDir(what), 'hello');
    cpSync(EXAMPLE, dir, { recursive: true });
    initRepo(dir);
    return dir;
  }

  cleanup() {
    if (this.#cleaned) return;
    this.#cleaned = true;
    const quiet = { check: false };
    const lines = (r) =>
      r.stdout
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
    let containers = 0;
    let images = 0;
    const removeContainers = (ids) => {
      for (const id of ids) if (docker(['rm', '-f', id], quiet).code === 0) containers++;
    };
    for (const app of this.#apps)
      removeContainers(lines(docker(['ps', '-aq', '--filter', `label=dev.deploy.app=${app}`], quiet)));
    removeContainers(lines(docker(['ps', '-aq', '--filter', `label=dev.deploy.bench=${this.runId}`], quiet)));
    // By name too, in case one was created but its label could not be read back.
    // And the per-app lock containers (deploy-lock.APP) a deploy leaves if it is killed while it holds one.
    const left = lines(docker(['ps', '-a', '--format', '{{.Names}}'], quiet));
    removeContainers(
      [...this.#baseContainers, ...[...this.#apps].map((app) => `deploy-lock.${app}`)].filter((name) =>
        left.includes(name),
      ),
    );
    for (const app of this.#apps) {
      // By tag (deploy/APP:ID, unique to the build): an image that someone tagged otherwise only loses our tag.
      const refs = lines(
        docker(['images', '--filter', `reference=deploy/${app}`, '--format', '{{.Repository}}:{{.Tag}}'], quiet),
      ).filter((r) => !r.includes('<none>'));
      for (const ref of refs) if (docker(['rmi', ref], quiet).code === 0) images++;
      // Left untagged (a build interrupted before its tag, say): by id, not forced.
      const ids = [...new Set(lines(docker(['images', '-q', '--filter', `reference=deploy/${app}`], quiet)))];
      for (const id of ids) if (docker(['rmi', id], quiet).code === 0) images++;
    }
    for (const tag of this.#baseImages) {
      if (docker(['rmi', tag], quiet).code === 0) images++;
    }
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    log(`clean-up: removed ${containers} containers and ${images} images the bench made, and its temp dirs`);
  }
}

// --- processes ---------------------------------------------------------------------------------------

/** The built CLI, as a user runs it, by the project's Node. */
export function deployCli(args, { home, ...rest } = {}) {
  return run(NODE, [BIN, ...args], { ...rest, env: { DEPLOY_HOME: home, NO_COLOR: '1', ...(rest.env ?? {}) } });
}

export function docker(args, o = {}) {
  return run('docker', args, o);
}

/**
 * The docker CLI side of a comparison: `docker run` of the example as deploy runs it (init, label, the port on
 * loopback, its env, restart policy and log rotation).
 */
export function dockerRun(ws, name, port, image) {
  return docker([
    'run',
    '-d',
    '--init',
    '--name',
    name,
    '--label',
    `dev.deploy.bench=${ws.runId}`,
    '-p',
    `127.0.0.1:${port}:8080`,
    '-e',
    'GREETING=Hello',
    '--restart',
    'unless-stopped',
    '--log-opt',
    'max-size=10m',
    '--log-opt',
    'max-file=3',
    image,
  ]);
}

/**
 * The docker-CLI side of an app on one loopback port, as the deploy and ship scenarios time it against the tool:
 * each replace(image) does what a deploy does to the containers — stops and removes the one that runs (none the
 * first time), runs the image (dockerRun) and waits for GET / as the tool's health gate does (healthWait). Its
 * containers are named `what`1, `what`2, ...
 */
export class BaselineApp {
  #ws;
  #what;
  #port;
  #n = 0;
  #current = null;

  constructor(ws, what, port) {
    this.#ws = ws;
    this.#what = what;
    this.#port = port;
  }

  /** Replaces the running container by one of `image`; `lap(step)` after each step; returns the time it took (ms). */
  async replace(image, lap = () => {}) {
    const name = this.#ws.baseContainer(`${this.#what}${++this.#n}`);
    const t0 = process.hrtime.bigint();
    if (this.#current) {
      docker(['stop', this.#current]);
      lap('docker stop');
      docker(['rm', this.#current]);
      this.#ws.forgetContainer(this.#current);
      lap('docker rm');
    }
    dockerRun(this.#ws, name, this.#port, image);
    lap('docker run');
    await healthWait(`http://127.0.0.1:${this.#port}/`);
    lap('health wait');
    this.#current = name;
    return ms(process.hrtime.bigint() - t0);
  }
}

/**
 * `deploy deploy` of an example repository as the scenarios run it: APP published on a loopback port (the example
 * listens on 8080), gated on GET / (as the baselines' health wait), its record printed as JSON; then `extra`.
 */
export function exampleDeployArgs(repo, app, port, ...extra) {
  return ['deploy', repo, '--app', app, '--port', `127.0.0.1:${port}:8080`, '--health-path', '/', '--json', ...extra];
}

export function git(repo, args) {
  return run('git', args, { cwd: repo });
}

// --- repositories ----------------------------------------------------------------------------------

function initRepo(dir) {
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'deploy bench']);
  git(dir, ['config', 'user.email', 'bench@deploy.invalid']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial']);
}

let commits = 0;
/** A new commit that changes the page (what a new release of the example looks like); returns its sha. */
export function newCommit(repo) {
  commits++;
  const page = readFileSync(join(EXAMPLE, 'index.html'), 'utf8');
  writeFileSync(join(repo, 'index.html'), `${page}<p>release ${commits} ${randomBytes(4).toString('hex')}</p>\n`);
  git(repo, ['commit', '-q', '-am', `release ${commits}`]);
  return git(repo, ['rev-parse', 'HEAD']).stdout.trim();
}

// The repository of the memory scenario: 200 files of 1 MiB of random bytes (incompressible) beside the
// example. No .dockerignore: the whole 200 MiB goes to the engine as the build context; the Dockerfile
// COPYs only the page, so the image stays small. Made once, then kept (and reused) under the cache dir.
const BIG_VERSION = 'v1-200x1MiB';
export const BIG_FILES = 200;
const BIG_FILE_SIZE = 1 << 20;

export function bigRepo() {
  const base = join(os.tmpdir(), 'deploy-bench-cache');
  const dir = join(base, `big-${BIG_VERSION}`);
  const marker = `${dir}.complete`;
  if (existsSync(marker) && existsSync(join(dir, '.git'))) {
    const clean = run('git', ['status', '--porcelain'], { cwd: dir }).stdout.trim() === '';
    if (clean) return dir;
  }
  log(`making the ${BIG_FILES} MiB repository (once; kept in ${dir})`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(marker, { force: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  cpSync(EXAMPLE, dir, { recursive: true });
  for (let i = 0; i < BIG_FILES; i++)
    writeFileSync(join(dir, 'data', `blob-${String(i).padStart(3, '0')}.bin`), randomBytes(BIG_FILE_SIZE));
  initRepo(dir);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return dir;
}

// --- the network -------------------------------------------------------------------------------------

// The health probing the tool does (src/services/health.ts with src/adapters/http-probe.ts): a GET of the
// path on the published port, answered 2xx/3xx; each try bounded by min(5 s, max(0.5 s, time left)); between
// tries the check's interval, 500 ms by default (DEFAULT_CONFIG; examples/hello's deploy.json keeps it), and
// 30 s in all (examples/hello's deploy.json). The baselines wait the same way, with the same code shape.
const HEALTH_INTERVAL_MS = 500;
const HEALTH_TIMEOUT_MS = 30_000;

/** One GET, bounded; never throws (as src/adapters/http-probe.ts). */
function probe(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'deploy-bench' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? null));
        res.on('error', () => resolve(res.statusCode ?? null));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** The tool's HTTP health gate, for the docker-CLI baselines: the same loop, interval and bounds. */
export async function healthWait(url) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = await probe(url, Math.min(5_000, Math.max(500, deadline - Date.now())));
    if (status !== null && status >= 200 && status < 400) return;
    await sleep(HEALTH_INTERVAL_MS);
  }
  throw new Error(`GET ${url} did not answer 2xx/3xx within ${HEALTH_TIMEOUT_MS} ms`);
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the container to take). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
