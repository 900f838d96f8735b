#!/usr/bin/env node
// `npm run bench`: the benchmark of deploy, run against the real Docker Engine this machine talks to.
//
// For each figure it prints the median of several runs after a warm-up; ratios compare two sides measured
// side by side (interleaved A, B, A, B ...) in the same run, so drift of the machine hits both alike.
// It writes the figures as JSON (bench-results/bench-<time>.json and bench-results/latest.json) and a short
// table to the terminal, and says for each budget of the issue whether it holds. The exit code is 0 even
// when a budget fails (this is a report); it is 1 only when the bench itself could not run.
//
//   npm run bench                         everything
//   npm run bench -- --quick              fewer runs (for iterating; the figures are noisier)
//   npm run bench -- --only cli,store     some scenarios: cli, store, deploy, ship, memory
//   npm run bench -- --make-store 100000 /tmp/h   only make a DEPLOY_HOME with that many generated records
//                                                 (the store the bench measures), and keep it, to profile:
//                                                 DEPLOY_HOME=/tmp/h node --cpu-prof bin/deploy.js stats
//
// Scenarios (each in its own DEPLOY_HOME, temp Git repositories and app names `bench-<random>-…`):
//   cli     `deploy --version`, `--help` and `ls` (store of 10,000 records) against `node -e 0`
//   store   `deploy ls --limit 50`, `ls --json`, `stats` on a store of 100,000 records
//   deploy  a deploy of the example app from a new commit against the same work done with the docker CLI
//   ship    `deploy redeploy ID` (image reused) and `deploy rollback APP` against docker stop + rm + run
//   memory  peak RSS of a deploy of a repository with 200 MiB of files against one of the tiny example
//
// Everything the bench makes on the engine is removed at the end, pass or fail (also on Ctrl-C): the
// containers labelled dev.deploy.app=<one of its apps> and images tagged deploy/<app>, and the containers and images of the
// docker-CLI baselines (tracked by name and by the label dev.deploy.bench=<run id>). Nothing else is touched;
// nothing is pruned. All traffic goes to 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = join(ROOT, 'bin', 'deploy.js');
const EXAMPLE = join(ROOT, 'examples', 'hello');

// The project's Node (>= 22.13, for node:sqlite and the CLI itself). `npm run` puts node_modules/.bin first
// on PATH; run directly with an older system Node, the bench starts itself again with the project's.
{
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 13)) {
    const local = join(ROOT, 'node_modules', '.bin', 'node');
    if (!existsSync(local)) {
      console.error(`bench: needs Node >= 22.13 (this is ${process.version}); run scripts/setup.sh first`);
      process.exit(1);
    }
    const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
}
const NODE = process.execPath;
const { DatabaseSync } = await import('node:sqlite');

// --- options -------------------------------------------------------------------------------------

const SCENARIOS = ['cli', 'store', 'deploy', 'ship', 'memory'];
const argv = process.argv.slice(2);
const opts = { quick: false, only: new Set(SCENARIOS), makeStore: null };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opts.quick = true;
  else if (a === '--only' || a.startsWith('--only=')) {
    const list = a === '--only' ? argv[++i] : a.slice('--only='.length);
    const names = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = names.filter((n) => !SCENARIOS.includes(n));
    if (names.length === 0 || bad.length > 0) {
      console.error(`bench: --only takes a comma-separated list of: ${SCENARIOS.join(', ')}${bad.length ? ` (not ${bad.join(', ')})` : ''}`);
      process.exit(2);
    }
    opts.only = new Set(names);
  } else if (a === '--make-store') {
    const n = Number(argv[++i]);
    const dir = argv[++i];
    if (!Number.isInteger(n) || n < 1 || !dir) {
      console.error('bench: --make-store takes a number of records and a directory');
      process.exit(2);
    }
    opts.makeStore = { n, dir };
  } else if (a === '--help' || a === '-h') {
    console.log(`usage: npm run bench -- [--quick] [--only ${SCENARIOS.join(',')}]\n       npm run bench -- --make-store N DIR   (a DEPLOY_HOME with N generated records, kept, for profiling)`);
    process.exit(0);
  } else {
    console.error(`bench: unknown argument ${JSON.stringify(a)} (try --help)`);
    process.exit(2);
  }
}

/** Warm-up and measured runs per kind of figure. */
const RUNS = opts.quick
  ? { fastWarm: 1, fast: 5, slowWarm: 1, slow: 2, deployWarm: 1, deploy: 2, memory: 1 }
  : { fastWarm: 3, fast: 21, slowWarm: 1, slow: 5, deployWarm: 1, deploy: 5, memory: 3 };

// The health probing the tool does (src/services/health.ts with src/adapters/http-probe.ts): a GET of the
// path on the published port, answered 2xx/3xx; each try bounded by min(5 s, max(0.5 s, time left)); between
// tries the check's interval, 500 ms by default (DEFAULT_CONFIG; examples/hello's deploy.json keeps it), and
// 30 s in all (examples/hello's deploy.json). The baselines wait the same way, with the same code shape.
const HEALTH_INTERVAL_MS = 500;
const HEALTH_TIMEOUT_MS = 30_000;

// --- bookkeeping of what the bench makes (for the clean-up) -------------------------------------------

const RUN_ID = randomBytes(3).toString('hex');
const made = { apps: new Set(), baseContainers: new Set(), baseImages: new Set(), dirs: new Set() };
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

function tempDir(what) {
  const dir = mkdtempSync(join(os.tmpdir(), `deploy-bench-${what}-`));
  made.dirs.add(dir);
  return dir;
}

function appName(what) {
  const name = `bench-${RUN_ID}-${what}`;
  made.apps.add(name);
  return name;
}

// --- processes and time ----------------------------------------------------------------------------

const ms = (ns) => Number(ns) / 1e6;
let outDir = null;

/**
 * Runs a command to its end; returns its wall time (from spawn to exit, in ms) and output. stdout may be
 * 'pipe' (kept), 'file' (written to a temp file, for outputs of hundreds of MB) or 'ignore'.
 */
class TimedOut extends Error {}

/** No process the bench starts runs longer than this (unless told otherwise): every wait is bounded. */
const RUN_TIMEOUT_MS = 10 * 60_000;
/** A fast CLI figure's run is stopped (and the figure marked timed out) after this long. */
const CLI_TIMEOUT_MS = 60_000;
/** A figure whose runs take longer than this is measured once, not RUNS.fast times. */
const SLOW_MS = 5_000;

function run(cmd, args, { env = {}, cwd = ROOT, stdout = 'pipe', input, check = true, timeoutMs = RUN_TIMEOUT_MS } = {}) {
  let fd = null;
  let outFile = null;
  if (stdout === 'file') {
    outDir ??= tempDir('out');
    outFile = join(outDir, 'stdout');
    fd = openSync(outFile, 'w');
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', fd ?? (stdout === 'ignore' ? 'ignore' : 'pipe'), 'pipe'],
    maxBuffer: 1 << 30,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  const wall = ms(process.hrtime.bigint() - t0);
  if (fd !== null) closeSync(fd);
  const res = { wall, code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', outBytes: outFile ? statSync(outFile).size : (r.stdout ?? '').length };
  if (outFile) rmSync(outFile, { force: true });
  if (r.error?.code === 'ETIMEDOUT' || (r.signal === 'SIGKILL' && wall >= timeoutMs)) {
    throw new TimedOut(`${cmd} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s (killed)`);
  }
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (check && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${(res.stderr || res.stdout).trim().split('\n').slice(-15).join('\n')}`);
  }
  return res;
}

/** The built CLI, as a user runs it, by the project's Node. */
function deployCli(args, { home, ...rest } = {}) {
  return run(NODE, [BIN, ...args], { ...rest, env: { DEPLOY_HOME: home, NO_COLOR: '1', ...(rest.env ?? {}) } });
}

function docker(args, o = {}) {
  return run('docker', args, o);
}

function git(repo, args) {
  return run('git', args, { cwd: repo });
}

function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function describe(samples) {
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    samples,
  };
}

const sleep = (t) => delay(t);

/** One GET, bounded; never throws (as src/adapters/http-probe.ts). */
function probe(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'deploy-bench' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
      res.on('error', () => resolve(res.statusCode ?? null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** The tool's HTTP health gate, for the docker-CLI baselines: the same loop, interval and bounds. */
async function healthWait(url) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const status = await probe(url, Math.min(5_000, Math.max(500, deadline - Date.now())));
    if (status !== null && status >= 200 && status < 400) return;
    await sleep(HEALTH_INTERVAL_MS);
  }
  throw new Error(`GET ${url} did not answer 2xx/3xx within ${HEALTH_TIMEOUT_MS} ms`);
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the container to take). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
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

/** A Git repository holding a copy of examples/hello, one commit. */
function exampleRepo(what) {
  const dir = join(tempDir(what), 'hello');
  cpSync(EXAMPLE, dir, { recursive: true });
  initRepo(dir);
  return dir;
}

let commits = 0;
/** A new commit that changes the page (what a new release of the example looks like). */
function newCommit(repo) {
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
const BIG_FILES = 200;
const BIG_FILE_SIZE = 1 << 20;

function bigRepo() {
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
  for (let i = 0; i < BIG_FILES; i++) writeFileSync(join(dir, 'data', `blob-${String(i).padStart(3, '0')}.bin`), randomBytes(BIG_FILE_SIZE));
  initRepo(dir);
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  return dir;
}

// --- stores of many records --------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so every run generates the same store. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const SUBJECTS = [
  'Fix login redirect loop', 'Add pagination to the orders API', 'Bump dependencies', 'Cache the product catalogue',
  'Refactor the payment client', 'Log slow queries', 'Tune the connection pool', 'Translate the settings page',
  'Remove the old feature flag', 'Retry webhooks with backoff', 'Speed up the search index build', 'Fix a typo in the footer',
  'Handle empty carts', 'Upgrade to the new base image', 'Add a health endpoint', 'Make the session timeout configurable',
];
const PEOPLE = ['Ada Lovelace <ada@example.com>', 'Grace Hopper <grace@example.com>', 'Linus T <linus@example.com>', 'Ken T <ken@example.com>', 'Barbara L <barbara@example.com>'];

/**
 * Fills an empty store (made by the tool itself, so its schema is the current one) with n deployments of
 * `apps` apps spread over the last `days` days, as the tool would have recorded them: ids of 8 characters
 * of [a-z2-9] starting with a letter, versions 1..n per app, deploys with some redeploys and rollbacks
 * (parent set), builds of 5 s to 2 min and health gates of 0.5 s to 10 s, ~7 % failed (build, start or
 * health), a few interrupted, the replaced ones superseded, each app's last successful one running (a few
 * stopped). superseded_by is set on those superseded after its column came (migration 3): the newer 70 %.
 */
function fillStore(home, n, { apps: appCount, days, seed }) {
  const rand = prng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const hex = (len) => {
    let s = '';
    while (s.length < len) s += Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0');
    return s.slice(0, len);
  };
  const ids = new Set();
  const newId = () => {
    for (;;) {
      let id = ID_ALPHABET[Math.floor(rand() * 24)];
      for (let i = 1; i < 8; i++) id += ID_ALPHABET[Math.floor(rand() * ID_ALPHABET.length)];
      if (!ids.has(id)) {
        ids.add(id);
        return id;
      }
    }
  };
  const now = Date.now();
  const start = now - days * 86_400_000;
  const span = now - 60_000 - start;
  const cutoff = start + span * 0.3; // superseded_by exists from here on

  // Apps of different sizes (a few busy ones): weight 1/(rank+1).
  const appNames = Array.from({ length: appCount }, (_, i) => `${pick(['web', 'api', 'worker', 'shop', 'auth', 'admin', 'search', 'docs'])}-${i + 1}`);
  const weights = appNames.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const pickApp = () => {
    let r = rand() * total;
    for (let i = 0; i < appNames.length; i++) if ((r -= weights[i]) <= 0) return i;
    return appNames.length - 1;
  };
  const times = Array.from({ length: n }, () => start + Math.floor(rand() * span)).sort((a, b) => a - b);

  const state = appNames.map((name, i) => ({
    name,
    version: 0,
    port: 8000 + i,
    current: null, // the row serving now
    successful: [], // rows that passed their gate, oldest first
    lastCommit: null,
    envRevision: 1,
  }));
  const configOf = (s) => ({
    dockerfile: 'Dockerfile',
    context: '.',
    buildArgs: s.envRevision % 3 === 0 ? { NODE_ENV: 'production' } : {},
    env: {
      GREETING: { value: `Hello ${s.envRevision}`, secret: false },
      LOG_LEVEL: { value: s.envRevision % 2 ? 'info' : 'debug', secret: false },
      DATABASE_URL: { value: `postgres://app:pw${s.envRevision}@db.internal:5432/${s.name}`, secret: true },
    },
    ports: [{ hostIp: '127.0.0.1', hostPort: s.port, containerPort: 8080, protocol: 'tcp' }],
    healthCheck: { path: '/healthz', port: null, timeoutMs: 60_000, intervalMs: 500, settleMs: 2_000 },
    restart: 'unless-stopped',
    noCache: false,
    pull: false,
    retention: 5,
  });

  const rows = [];
  for (const createdAt of times) {
    const s = state[pickApp()];
    if (rand() < 0.02) s.envRevision++;
    const version = ++s.version;
    const id = newId();
    let kind = 'deploy';
    let parent = null;
    const r = rand();
    if (s.successful.length >= 2 && r < 0.05) {
      kind = 'rollback';
      parent = s.successful[s.successful.length - 2];
    } else if (s.successful.length >= 1 && r < 0.11) {
      kind = 'redeploy';
      parent = s.successful[Math.max(0, s.successful.length - 1 - Math.floor(rand() * 3))];
    }
    let commit;
    if (parent) commit = { sha: parent.commit_sha, subject: parent.commit_subject, author: parent.commit_author, time: parent.commit_time };
    else if (s.lastCommit && rand() < 0.1) commit = s.lastCommit;
    else commit = { sha: hex(40), subject: pick(SUBJECTS), author: pick(PEOPLE), time: createdAt - Math.floor(60_000 + rand() * 3 * 86_400_000) };
    s.lastCommit = commit;
    const config = kind === 'rollback' ? parent.configObject : configOf(s);
    const reuse = kind === 'rollback' || (kind === 'redeploy' && rand() < 0.8);
    const fail = rand() < (kind === 'deploy' ? 0.08 : 0.03);
    const failStage = fail ? (reuse ? pick(['start', 'health', 'health']) : pick(['build', 'build', 'build', 'health', 'health', 'start'])) : null;
    const interrupted = !fail && rand() < 0.003;

    const row = {
      id, app: s.name, version, kind, parent_id: parent?.id ?? null, status: 'superseded',
      source: `/home/dev/src/${s.name}`, subdir: '', ref: 'main',
      commit_sha: commit.sha, commit_subject: commit.subject, commit_author: commit.author, commit_time: commit.time,
      dirty: rand() < 0.01 ? 1 : 0,
      image: reuse ? parent.image : `deploy/${s.name}:${id}`,
      image_id: reuse ? parent.image_id : `sha256:${hex(64)}`,
      container_id: null, container_name: `${s.name}-v${version}-${id}`,
      endpoint: 'unix:///var/run/docker.sock', configObject: config,
      created_at: createdAt,
      build_started_at: null, build_finished_at: null, started_at: null, ready_at: null, finished_at: null,
      actor: commit.author.replace(/^.*<(.*)>$/, '$1'), origin: pick(['terminal', 'terminal', 'ci', 'ci', 'ci', 'script']),
      error_code: null, error_message: null, superseded_by: null,
    };
    let t = createdAt + 30 + Math.floor(rand() * 200);
    if (!reuse) {
      row.build_started_at = t;
      t += 5_000 + Math.floor(rand() * 115_000);
      row.build_finished_at = t;
    }
    if (failStage === 'build') {
      row.status = 'failed';
      row.finished_at = t;
      row.error_code = 'build_failed';
      row.error_message = `The build of ${s.name} v${version} (${id}) failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1`;
    } else if (interrupted) {
      row.status = 'interrupted';
      row.finished_at = t + 1_000;
      row.error_code = 'interrupted';
      row.error_message = 'the tool died while this deployment was in progress';
    } else {
      t += 50 + Math.floor(rand() * 300);
      if (failStage === 'start') {
        row.status = 'failed';
        row.finished_at = t;
        row.error_code = 'start_failed';
        row.error_message = `${s.name} v${version} (${id}) could not start: port is already allocated`;
      } else {
        row.started_at = t;
        if (failStage === 'health') {
          t += config.healthCheck.timeoutMs;
          row.status = 'failed';
          row.finished_at = t + 200;
          row.error_code = 'health_failed';
          row.error_message = `${s.name} v${version} (${id}) failed its health check: GET http://127.0.0.1:${s.port}/healthz did not succeed within 1m (120 tries; last: HTTP 503)`;
        } else {
          t += 500 + Math.floor(rand() * 9_500);
          row.ready_at = t;
          row.finished_at = t + 300 + Math.floor(rand() * 1_500);
          row.status = 'running';
          if (s.current) {
            s.current.status = 'superseded';
            s.current.container_id = null;
            if (createdAt >= cutoff) s.current.superseded_by = id;
          }
          row.container_id = hex(64);
          s.current = row;
          s.successful.push(row);
          if (s.successful.length > 8) s.successful.shift();
        }
      }
    }
    rows.push(row);
  }
  // A few apps were stopped on purpose.
  for (const s of state) if (s.current && rand() < 0.1) s.current.status = 'stopped';

  const path = join(home, 'deploy.db');
  const db = new DatabaseSync(path, { timeout: 10_000 });
  const cols = ['id', 'app', 'version', 'kind', 'parent_id', 'status', 'source', 'subdir', 'ref', 'commit_sha', 'commit_subject', 'commit_author', 'commit_time', 'dirty', 'image', 'image_id', 'container_id', 'container_name', 'endpoint', 'config', 'created_at', 'build_started_at', 'build_finished_at', 'started_at', 'ready_at', 'finished_at', 'actor', 'origin', 'error_code', 'error_message', 'superseded_by'];
  const insert = db.prepare(`INSERT INTO deployments (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const insertApp = db.prepare('INSERT INTO apps (name, source, subdir, ref, current_id, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET current_id = excluded.current_id');
  db.exec('BEGIN');
  try {
    for (const row of rows) {
      row.config = JSON.stringify(row.configObject);
      insert.run(...cols.map((c) => row[c]));
    }
    for (const s of state) {
      if (s.version === 0) continue;
      insertApp.run(s.name, `/home/dev/src/${s.name}`, '', 'main', s.current?.id ?? null, start);
    }
    // What the tool keeps as deployments happen (migration 5): replaced by a rollback; first healthy of its commit.
    db.exec(`UPDATE deployments SET rolled_back = 1 WHERE superseded_by IN (SELECT id FROM deployments WHERE kind = 'rollback')`);
    db.exec(`UPDATE deployments SET first_ready = 1 WHERE id IN (SELECT id FROM (
      SELECT id, ROW_NUMBER() OVER (PARTITION BY app, commit_sha ORDER BY ready_at, id) AS n FROM deployments
      WHERE kind = 'deploy' AND ready_at IS NOT NULL) WHERE n = 1)`);
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  } finally {
    db.close();
  }
  const count = (status) => rows.filter((r) => r.status === status).length;
  return {
    records: rows.length,
    apps: state.filter((s) => s.version > 0).length,
    days,
    statuses: Object.fromEntries(['running', 'stopped', 'superseded', 'failed', 'interrupted'].map((x) => [x, count(x)])),
    withSupersededBy: rows.filter((r) => r.superseded_by !== null).length,
    bytes: statSync(path).size,
  };
}

/** A DEPLOY_HOME whose store the tool created (schema, migrations), then filled with n records. */
function storeWith(n) {
  const home = tempDir(`store${n}`);
  deployCli(['ls'], { home });
  const t0 = process.hrtime.bigint();
  const info = fillStore(home, n, { apps: n >= 100_000 ? 60 : 25, days: 29, seed: n });
  log(`store of ${info.records} records (${info.apps} apps, ${(info.bytes / 2 ** 20).toFixed(1)} MiB) made in ${ms(process.hrtime.bigint() - t0).toFixed(0)} ms`);
  return { home, info };
}

// --- figures --------------------------------------------------------------------------------------

const figures = [];
const notes = [];

/**
 * Records a figure. budget: { ratio: x } (median ≤ x × the baseline's median) or { max: v } (median ≤ v).
 */
function figure(f) {
  const entry = { unit: 'ms', ...f };
  if (entry.baseline) {
    entry.ratio = entry.value.median / entry.baseline.median;
    if (entry.pairRatios) entry.pairRatioMedian = median(entry.pairRatios);
  }
  if (entry.budget) {
    const limit = entry.budget.ratio ?? entry.budget.max;
    const measured = entry.budget.ratio !== undefined ? entry.ratio : entry.value.median;
    entry.holds = measured <= limit;
  }
  figures.push(entry);
  const v = entry.unit === 'ms' ? `${entry.value.median.toFixed(1)} ms` : `${entry.value.median.toFixed(1)} ${entry.unit}`;
  log(`  ${entry.name}: ${v}${entry.baseline ? ` vs ${entry.baseline.median.toFixed(1)} (${entry.ratio.toFixed(2)}×)` : ''}${entry.budget ? (entry.holds ? ' — holds' : ' — FAILS') : ''}`);
  return entry;
}

/**
 * Times `a` against `b`, interleaved: warm-up rounds (discarded), then rounds of a then b. Returns both
 * sides' samples and the per-round ratios. When a run of `a` takes longer than slowMs, one measured round
 * is all it gets (noted as reduced).
 */
async function sideBySide(a, b, { warm, runs, slowMs = Infinity }) {
  const as = [];
  const bs = [];
  let reduced = false;
  for (let i = 0; as.length < runs; i++) {
    const x = await a();
    const y = b ? await b() : null;
    if (i >= warm) {
      as.push(x);
      bs.push(y);
    }
    if (x > slowMs && !reduced) {
      reduced = true;
      warm = Math.min(warm, i + 1);
      runs = 1;
    }
  }
  const out = { a: { ...describe(as), ...(reduced ? { reduced: true } : {}) }, b: b ? describe(bs) : null, pairRatios: b ? as.map((x, i) => x / bs[i]) : null };
  return out;
}

async function alone(fn, o) {
  return (await sideBySide(fn, null, o)).a;
}

/** A figure's value when its command had to be killed: the time limit, as a lower bound. */
function timedOutValue(limit) {
  return { median: limit, min: limit, max: limit, mean: limit, samples: [], timedOut: true };
}

// --- 1. the CLI's start-up: --version, --help, ls (10k) against `node -e 0` --------------------------------

async function benchCli() {
  log('cli: deploy --version, --help and ls (10,000 records) against node -e 0');
  const { home, info } = storeWith(10_000);
  const nodeE0 = () => run(NODE, ['-e', '0'], { env: { DEPLOY_HOME: home, NO_COLOR: '1' } }).wall;
  const cases = [
    { name: 'deploy --version', args: ['--version'], budget: { ratio: 1.5 } },
    { name: 'deploy --help', args: ['--help'], budget: { ratio: 2 } },
    // `deploy ls` shows the newest 20 (the view a person asks for); --all prints every one of the 10,000 rows.
    { name: 'deploy ls (10k records)', args: ['ls'], budget: { ratio: 2.5 }, expectRows: 20 },
    { name: 'deploy ls --all (10k records, every row)', args: ['ls', '--all'], expectRows: info.records },
  ];
  for (const c of cases) {
    let lastOut = null;
    let side;
    try {
      side = await sideBySide(
        () => {
          const r = deployCli(c.args, { home, timeoutMs: CLI_TIMEOUT_MS });
          lastOut = r;
          return r.wall;
        },
        nodeE0,
        { warm: RUNS.fastWarm, runs: RUNS.fast, slowMs: SLOW_MS },
      );
    } catch (error) {
      if (!(error instanceof TimedOut)) throw error;
      notes.push(error.message);
      figure({ scenario: 'cli', name: c.name, command: `deploy ${c.args.join(' ')}`, value: timedOutValue(CLI_TIMEOUT_MS), baseline: { name: 'node -e 0', ...describe([nodeE0()]) }, budget: c.budget });
      continue;
    }
    if (c.expectRows !== undefined) {
      const lines = lastOut.stdout.trimEnd().split('\n').length - 1; // minus the header
      if (lines !== c.expectRows) notes.push(`${c.name} printed ${lines} rows, expected ${c.expectRows}`);
    }
    figure({ scenario: 'cli', name: c.name, command: `deploy ${c.args.join(' ')}`, value: side.a, baseline: { name: 'node -e 0', ...side.b }, pairRatios: side.pairRatios, budget: c.budget, outputBytes: lastOut.outBytes });
  }
  return { store: info };
}

// --- 2. a store of 100,000 records: ls --limit 50, ls --json, stats ------------------------------------------

async function benchStore() {
  log('store: ls and stats on 100,000 records');
  const { home, info } = storeWith(100_000);
  const cases = [
    { name: 'deploy ls --limit 50 (100k)', args: ['ls', '--limit', '50'], budget: { max: 300 }, fast: true },
    { name: 'deploy ls --json --limit 50 (100k)', args: ['ls', '--json', '--limit', '50'], fast: true },
    { name: 'deploy stats (100k)', args: ['stats'], budget: { max: 300 }, fast: true },
    { name: 'deploy stats --json (100k)', args: ['stats', '--json'], fast: true },
    { name: 'deploy ls --json --all (100k)', args: ['ls', '--json', '--all'], fast: false, stdout: 'file' },
  ];
  for (const c of cases) {
    let out = null;
    const limit = c.fast ? CLI_TIMEOUT_MS : 2 * CLI_TIMEOUT_MS;
    let value;
    try {
      value = await alone(
        () => {
          out = deployCli(c.args, { home, stdout: c.stdout ?? 'pipe', timeoutMs: limit });
          return out.wall;
        },
        { ...(c.fast ? { warm: RUNS.fastWarm, runs: RUNS.fast } : { warm: RUNS.slowWarm, runs: RUNS.slow }), slowMs: SLOW_MS },
      );
    } catch (error) {
      if (!(error instanceof TimedOut)) throw error;
      notes.push(error.message);
      figure({ scenario: 'store', name: c.name, command: `deploy ${c.args.join(' ')}`, value: timedOutValue(limit), budget: c.budget });
      continue;
    }
    if (value.reduced) notes.push(`${c.name}: one run only (a run takes more than ${SLOW_MS / 1000} s)`);
    figure({ scenario: 'store', name: c.name, command: `deploy ${c.args.join(' ')}`, value, budget: c.budget, outputBytes: out.outBytes });
  }
  return { store: info };
}

// --- 3. a deploy against the same work with the docker CLI --------------------------------------------------

/**
 * What each side does, per sample (the preparation — a new commit changing index.html — is not timed):
 *
 *   deploy:   `deploy deploy REPO --app APP --port 127.0.0.1:P:8080 --health-path / --json`, with APP's previous
 *             deployment running on that port. The tool records the deployment, streams `git archive` of the
 *             commit to the engine's build (tag deploy/APP:ID, its labels), creates the container, stops the
 *             old one first (same host port), starts the new one, waits for GET / to answer (the loop above),
 *             retires the old one (keeps its logs, removes it), marks it superseded and prunes the app's
 *             old images (retention 5).
 *   baseline: `git archive --format=tar HEAD | docker build -t bench-base-RUN:N -` (sh pipeline), then
 *             `docker stop OLD`, `docker rm OLD`, `docker run -d --init --name NEW -p 127.0.0.1:P2:8080
 *             -e GREETING=Hello --restart unless-stopped --log-opt max-size=10m --log-opt max-file=3 TAG`
 *             (the container the tool creates, flag for flag), then the same health wait on
 *             http://127.0.0.1:P2/. Both use the engine's classic builder (the tool through the API; the
 *             docker CLI without buildx falls back to it).
 */
async function benchDeploy() {
  log('deploy: a deploy of the example from a new commit against git archive | docker build + docker stop/rm/run');
  const home = tempDir('home-deploy');
  const app = appName('deploy');
  const repoTool = exampleRepo('deploy-tool');
  const repoBase = exampleRepo('deploy-base');
  const [portTool, portBase] = [await freePort(), await freePort()];
  const deployArgs = ['deploy', repoTool, '--app', app, '--port', `127.0.0.1:${portTool}:8080`, '--health-path', '/', '--json'];
  const toolDeploy = () => {
    newCommit(repoTool);
    const r = deployCli(deployArgs, { home });
    const rec = JSON.parse(r.stdout);
    if (rec.status !== 'running') throw new Error(`deploy ended ${rec.status}`);
    return r.wall;
  };

  let n = 0;
  let current = null;
  const basePhases = [];
  const baseDeploy = async () => {
    newCommit(repoBase);
    n++;
    const tag = `bench-base-${RUN_ID}:d${n}`;
    const name = `bench-${RUN_ID}-base-d${n}`;
    made.baseImages.add(tag);
    made.baseContainers.add(name);
    const t0 = process.hrtime.bigint();
    const phase = {};
    let t = t0;
    const lap = (what) => {
      const now = process.hrtime.bigint();
      phase[what] = ms(now - t);
      t = now;
    };
    run('sh', ['-c', `git archive --format=tar HEAD | docker build -t ${tag} -`], { cwd: repoBase });
    lap('build');
    if (current) {
      docker(['stop', current]);
      lap('docker stop');
      docker(['rm', current]);
      lap('docker rm');
    }
    docker(['run', '-d', '--init', '--name', name, '--label', `dev.deploy.bench=${RUN_ID}`, '-p', `127.0.0.1:${portBase}:8080`, '-e', 'GREETING=Hello', '--restart', 'unless-stopped', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', tag]);
    lap('docker run');
    await healthWait(`http://127.0.0.1:${portBase}/`);
    lap('health wait');
    basePhases.push(phase);
    const wall = ms(process.hrtime.bigint() - t0);
    if (current) made.baseContainers.delete(current);
    current = name;
    return wall;
  };

  // The first deployment of each side (nothing to replace yet) is set-up, not a sample.
  toolDeploy();
  await baseDeploy();
  const side = await sideBySide(toolDeploy, baseDeploy, { warm: RUNS.deployWarm, runs: RUNS.deploy });
  figure({
    scenario: 'deploy',
    name: 'deploy (new commit, replaces the running one)',
    command: deployArgs.join(' '),
    value: side.a,
    baseline: { name: 'git archive | docker build; docker stop+rm; docker run; health wait', ...side.b },
    pairRatios: side.pairRatios,
    budget: { ratio: 1.15 },
  });
  // Where the tool's time goes, from its own records of the measured deployments.
  const measured = JSON.parse(deployCli(['ls', '--app', app, '--limit', String(RUNS.deploy), '--json'], { home }).stdout);
  const phases = phasesOf(measured);
  notes.push(`deploy: medians of the tool's own timestamps: ${Object.entries(phases).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
  const measuredBase = basePhases.slice(-RUNS.deploy);
  const baseline = Object.fromEntries(Object.keys(measuredBase[0] ?? {}).map((k) => [k, Math.round(median(measuredBase.map((p) => p[k])))]));
  notes.push(`deploy: medians of the baseline's steps: ${Object.entries(baseline).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
  return { phases, baselinePhases: baseline };
}

/** Medians of the phases the tool records (its own timestamps) over some deployments, in ms. */
function phasesOf(records) {
  const t = (x) => (x ? Date.parse(x) : null);
  const spans = {
    'created→build start': (d) => [d.createdAt, d.buildStartedAt],
    build: (d) => [d.buildStartedAt, d.buildFinishedAt],
    'build end→container started': (d) => [d.buildFinishedAt ?? d.createdAt, d.startedAt],
    'started→healthy': (d) => [d.startedAt, d.readyAt],
    'healthy→finished (retire old)': (d) => [d.readyAt, d.finishedAt],
    'created→finished': (d) => [d.createdAt, d.finishedAt],
  };
  const out = {};
  for (const [name, span] of Object.entries(spans)) {
    const xs = records.map((d) => span(d).map(t)).filter(([a, b]) => a !== null && b !== null).map(([a, b]) => b - a);
    if (xs.length) out[name] = median(xs);
  }
  return out;
}

// --- 4. redeploy (image reused) and rollback against docker stop + rm + run ------------------------------

/**
 * What each side does, per sample:
 *
 *   redeploy: `deploy redeploy ID1 --yes --json`, ID1 = the app's first deployment, whose image the engine
 *             still has (reused: no build). rollback: `deploy rollback APP --yes --json`, back to the
 *             deployment before (image reused). Both with the app's deployment running on the same host port:
 *             the tool stops it first, starts the new container, waits for GET /, retires the old one
 *             (keeps its logs, removes it), prunes.
 *   baseline: `docker stop OLD`, `docker rm OLD`, `docker run -d ...` (the flags of the tool's container, as
 *             in the deploy scenario) of an image that exists, then the same health wait. Its two images
 *             are built once, untimed, from the same two commits.
 *
 * The rounds go redeploy, baseline, rollback, baseline, so the tool and the baseline alternate between the
 * two images alike; both figures are compared with all the baseline's samples.
 */
async function benchShip() {
  log('ship: redeploy (reused image) and rollback against docker stop + rm + run + health wait');
  const home = tempDir('home-ship');
  const app = appName('ship');
  const repo = exampleRepo('ship');
  const [portTool, portBase] = [await freePort(), await freePort()];
  // The port and health path are the deployments' own (one-off flags): a redeploy or rollback keeps them.
  const deployOnce = () => {
    const sha = newCommit(repo);
    const r = deployCli(['deploy', repo, '--app', app, '--port', `127.0.0.1:${portTool}:8080`, '--health-path', '/', '--json'], { home });
    return { ...JSON.parse(r.stdout), sha };
  };
  const first = deployOnce();
  const second = deployOnce();
  if (first.status !== 'running' || second.status !== 'running') throw new Error('ship: set-up deploys failed');

  const images = [];
  for (const [i, sha] of [first.sha, second.sha].entries()) {
    const tag = `bench-base-${RUN_ID}:s${i + 1}`;
    made.baseImages.add(tag);
    run('sh', ['-c', `git archive --format=tar ${sha} | docker build -q -t ${tag} -`], { cwd: repo });
    images.push(tag);
  }
  let n = 0;
  let current = null;
  const swap = async (image) => {
    n++;
    const name = `bench-${RUN_ID}-base-s${n}`;
    made.baseContainers.add(name);
    const t0 = process.hrtime.bigint();
    if (current) {
      docker(['stop', current]);
      docker(['rm', current]);
    }
    docker(['run', '-d', '--init', '--name', name, '--label', `dev.deploy.bench=${RUN_ID}`, '-p', `127.0.0.1:${portBase}:8080`, '-e', 'GREETING=Hello', '--restart', 'unless-stopped', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3', image]);
    await healthWait(`http://127.0.0.1:${portBase}/`);
    const wall = ms(process.hrtime.bigint() - t0);
    if (current) made.baseContainers.delete(current);
    current = name;
    return wall;
  };
  await swap(images[1]); // set-up: the baseline's "current" runs the second image, like the app

  const reuseProblems = [];
  const redeploy = () => {
    const r = deployCli(['redeploy', first.id, '--yes', '--json'], { home });
    const rec = JSON.parse(r.stdout);
    if (rec.status !== 'running') throw new Error(`redeploy ended ${rec.status}`);
    if (rec.image !== first.image) reuseProblems.push(`redeploy v${rec.version} used ${rec.image}, not ${first.image}`);
    return r.wall;
  };
  const rollback = () => {
    const r = deployCli(['rollback', app, '--yes', '--json'], { home });
    const rec = JSON.parse(r.stdout);
    if (rec.status !== 'running') throw new Error(`rollback ended ${rec.status}`);
    if (rec.image !== second.image) reuseProblems.push(`rollback v${rec.version} shipped ${rec.image}, not ${second.image}`);
    return r.wall;
  };

  const rd = [];
  const rb = [];
  const base = [];
  const round = async (keep) => {
    const a = redeploy();
    const b1 = await swap(images[0]);
    const c = rollback();
    const b2 = await swap(images[1]);
    if (keep) {
      rd.push(a);
      rb.push(c);
      base.push(b1, b2);
    }
  };
  for (let i = 0; i < RUNS.deployWarm; i++) await round(false);
  for (let i = 0; i < RUNS.deploy; i++) await round(true);
  if (reuseProblems.length) notes.push(`ship: ${reuseProblems.join('; ')}`);
  const baseline = { name: 'docker stop+rm; docker run (same image); health wait', ...describe(base) };
  figure({ scenario: 'ship', name: 'redeploy ID (image reused)', command: `deploy redeploy ${first.id} --yes --json`, value: describe(rd), baseline, budget: { ratio: 1.3 } });
  figure({ scenario: 'ship', name: 'rollback APP', command: `deploy rollback ${app} --yes --json`, value: describe(rb), baseline, budget: { ratio: 1.3 } });
}

// --- 5. peak memory of a deploy of a 200 MiB repository ------------------------------------------------------

/**
 * Peak RSS of the deploy process itself (getrusage's maxRSS, read as the process exits, by a module
 * preloaded with --import), not of git or the engine. Both repositories are deployed as a new deployment
 * of their app replacing the running one; the big one streams its 200 MiB context to the engine each time.
 */
async function benchMemory() {
  log('memory: peak RSS of a deploy of a 200 MiB repository against the tiny example');
  const big = bigRepo();
  const tiny = exampleRepo('memory-tiny');
  const home = tempDir('home-memory');
  const preloadDir = tempDir('preload');
  const preload = join(preloadDir, 'peak-rss.mjs');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { writeFileSync(process.env.BENCH_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n`,
  );
  const sides = [];
  for (const [what, repo] of [['tiny', tiny], ['big', big]]) {
    sides.push({ what, repo, app: appName(`mem-${what}`), port: await freePort() });
  }
  const deployPeak = (s) => {
    const file = join(preloadDir, `${s.what}.rss`);
    rmSync(file, { force: true });
    const r = run(NODE, ['--import', pathToFileURL(preload).href, BIN, 'deploy', s.repo, '--app', s.app, '--port', `127.0.0.1:${s.port}:8080`, '--health-path', '/', '--json'], {
      env: { DEPLOY_HOME: home, NO_COLOR: '1', BENCH_PEAK_RSS_FILE: file },
    });
    const rec = JSON.parse(r.stdout);
    if (rec.status !== 'running') throw new Error(`memory: deploy of the ${s.what} repository ended ${rec.status}`);
    return { kb: Number(readFileSync(file, 'utf8')), wall: r.wall };
  };
  const peaks = { tiny: [], big: [] };
  const walls = { tiny: [], big: [] };
  // A first deploy of each (nothing to replace), then warm-up, then rounds of tiny, big.
  for (const s of sides) deployPeak(s);
  for (let i = 0; i < RUNS.deployWarm; i++) for (const s of sides) deployPeak(s);
  for (let i = 0; i < RUNS.memory; i++) {
    for (const s of sides) {
      const p = deployPeak(s);
      peaks[s.what].push(p.kb / 1024);
      walls[s.what].push(p.wall);
    }
  }
  figure({
    scenario: 'memory',
    name: `peak RSS, deploy of a ${BIG_FILES} MiB repo`,
    unit: 'MiB',
    value: describe(peaks.big),
    baseline: { name: 'peak RSS, deploy of the tiny example', ...describe(peaks.tiny) },
    budget: { ratio: 1.5 },
  });
  figure({ scenario: 'memory', name: `deploy wall time, ${BIG_FILES} MiB repo`, value: describe(walls.big), baseline: { name: 'deploy wall time, tiny example', ...describe(walls.tiny) } });
}

// --- clean-up --------------------------------------------------------------------------------------------

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  const quiet = { check: false };
  const lines = (r) => r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  let containers = 0;
  let images = 0;
  const removeContainers = (ids) => {
    for (const id of ids) if (docker(['rm', '-f', id], quiet).code === 0) containers++;
  };
  for (const app of made.apps) removeContainers(lines(docker(['ps', '-aq', '--filter', `label=dev.deploy.app=${app}`], quiet)));
  removeContainers(lines(docker(['ps', '-aq', '--filter', `label=dev.deploy.bench=${RUN_ID}`], quiet)));
  // By name too, in case one was created but its label could not be read back.
  // And the per-app lock containers (deploy-lock.APP) a deploy leaves if it is killed while it holds one.
  const left = lines(docker(['ps', '-a', '--format', '{{.Names}}'], quiet));
  removeContainers([...made.baseContainers, ...[...made.apps].map((app) => `deploy-lock.${app}`)].filter((name) => left.includes(name)));
  for (const app of made.apps) {
    // By tag (deploy/APP:ID, unique to the build): an image that someone tagged otherwise only loses our tag.
    const refs = lines(docker(['images', '--filter', `reference=deploy/${app}`, '--format', '{{.Repository}}:{{.Tag}}'], quiet)).filter((r) => !r.includes('<none>'));
    for (const ref of refs) if (docker(['rmi', ref], quiet).code === 0) images++;
    // Left untagged (a build interrupted before its tag, say): by id, not forced.
    const ids = [...new Set(lines(docker(['images', '-q', '--filter', `reference=deploy/${app}`], quiet)))];
    for (const id of ids) if (docker(['rmi', id], quiet).code === 0) images++;
  }
  for (const tag of made.baseImages) {
    if (docker(['rmi', tag], quiet).code === 0) images++;
  }
  for (const dir of made.dirs) rmSync(dir, { recursive: true, force: true });
  log(`clean-up: removed ${containers} containers and ${images} images the bench made, and its temp dirs`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    cleanup();
    process.exit(130);
  });
}

// --- the machine, the run, the report ---------------------------------------------------------------------

function machine() {
  const tryRun = (cmd, args) => {
    try {
      return run(cmd, args, { check: false }).stdout.trim() || null;
    } catch {
      return null;
    }
  };
  const head = tryRun('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryRun('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'bin', 'package.json']);
  return {
    node: process.version,
    docker: tryRun('docker', ['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}}, client {{.Client.Version}})']),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? null,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    project: head ? `${head}${dirty ? ' (src changed)' : ''}` : null,
    loadAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    buildCache: tryRun('docker', ['system', 'df', '--format', '{{if eq .Type "Build Cache"}}{{.TotalCount}} entries, {{.Size}}{{end}}']),
  };
}

function pad(s, n) {
  const t = String(s);
  return t.length >= n ? t : t + ' '.repeat(n - t.length);
}

function fmt(v, unit, timedOut = false) {
  if (v === null || v === undefined) return '-';
  if (timedOut) return `> ${v / 1000} s (killed)`;
  return unit === 'ms' ? (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`) : `${v.toFixed(1)} ${unit}`;
}

function table() {
  const head = ['figure', 'median', 'baseline', 'ratio', 'budget', 'holds'];
  const rows = figures.map((f) => [
    f.name,
    fmt(f.value.median, f.unit, f.value.timedOut),
    f.baseline ? fmt(f.baseline.median, f.unit) : '-',
    f.ratio !== undefined ? `${f.value.timedOut ? '> ' : ''}${f.ratio.toFixed(2)}×` : '-',
    f.budget ? (f.budget.ratio !== undefined ? `≤ ${f.budget.ratio}×` : `≤ ${f.budget.max} ms`) : '-',
    f.budget ? (f.holds ? 'yes' : 'NO') : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => pad(c, widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main() {
  const started = new Date();
  const m = machine();
  console.log(`deploy bench · ${started.toISOString()}${opts.quick ? ' · --quick' : ''}`);
  console.log(`node ${m.node} · docker ${m.docker ?? '?'} · ${m.nproc} CPUs (${m.cpu ?? '?'}) · ${m.memory} · ${m.os} · deploy ${m.project ?? '?'}`);
  console.log(`load average ${m.loadAtStart.join(' ')}${m.loadAtStart[0] > m.nproc / 2 ? ' — the machine is busy: figures will be noisy' : ''}`);
  // BuildKit slows down as its cache grows (a build of the example took ~130 ms with an empty cache and ~350 ms
  // with 3 GB of old contexts); the bench prunes nothing, so it says so.
  const cacheEntries = Number(/^(\d+) entries/.exec(m.buildCache ?? '')?.[1] ?? 0);
  if (cacheEntries > 200) console.log(`build cache: ${m.buildCache} — builds are slower with a large cache; for comparable figures, run docker builder prune first`);
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  const built = statSync(join(ROOT, 'dist', 'main.js')).mtimeMs;
  const newer = readdirSync(join(ROOT, 'src'), { recursive: true }).filter((f) => String(f).endsWith('.ts') && statSync(join(ROOT, 'src', String(f))).mtimeMs > built);
  if (newer.length > 0) console.log(`warning: dist/ is older than ${newer.length} file(s) of src/ (${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ', …' : ''}): the bench measures dist/; run npm run build first`);
  if (docker(['info', '--format', '{{.ServerVersion}}'], { check: false }).code !== 0) throw new Error('the Docker Engine is not reachable');

  const scenarios = { cli: benchCli, store: benchStore, deploy: benchDeploy, ship: benchShip, memory: benchMemory };
  const details = {};
  const errors = {};
  for (const name of SCENARIOS) {
    if (!opts.only.has(name)) continue;
    try {
      details[name] = (await scenarios[name]()) ?? {};
    } catch (error) {
      errors[name] = error.message;
      log(`${name}: FAILED: ${error.message}`);
    }
  }
  cleanup();

  const budgets = figures.filter((f) => f.budget);
  const holding = budgets.filter((f) => f.holds);
  const result = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    loadAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))),
    options: { quick: opts.quick, only: [...opts.only], runs: RUNS },
    machine: m,
    figures,
    details,
    notes,
    errors,
    budgets: { holding: holding.length, total: budgets.length, failing: budgets.filter((f) => !f.holds).map((f) => f.name) },
  };
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);

  console.log('');
  console.log(table());
  console.log('');
  for (const note of notes) console.log(`note: ${note}`);
  for (const [name, message] of Object.entries(errors)) console.log(`error: ${name} did not finish: ${message.split('\n')[0]}`);
  console.log(`figures: ${file.replace(`${ROOT}/`, '')} (and bench-results/latest.json)`);
  console.log(`${holding.length} of ${budgets.length} budgets hold${Object.keys(errors).length ? ` (${Object.keys(errors).join(', ')} did not finish)` : ''}`);
}

try {
  if (opts.makeStore) {
    const { n, dir } = opts.makeStore;
    if (existsSync(join(dir, 'deploy.db'))) throw new Error(`${dir} already holds a store`);
    mkdirSync(dir, { recursive: true });
    deployCli(['ls'], { home: dir });
    const info = fillStore(dir, n, { apps: n >= 100_000 ? 60 : 25, days: 29, seed: n });
    console.log(JSON.stringify(info, null, 2));
  } else await main();
} catch (error) {
  log(`failed: ${error.message}`);
  cleanup();
  process.exitCode = 1;
}
