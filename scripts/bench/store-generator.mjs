// Stores of many generated records, for the scenarios that measure reading a long history (cli, store) and for
// `npm run bench -- --make-store N DIR`. The records are written through the tool's own store
// (src/adapters/store/store.ts), call for call as the tool makes them while it deploys (services/tracker.ts,
// build.ts, release.ts, lifecycle.ts), so a generated store holds what the tool writes: versions, the histories
// a record's labels carry, the delivery metrics' marks, events and kept logs, in the current schema.
import { Buffer } from 'node:buffer';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log, ms, ROOT } from './measure.mjs';

/**
 * The tool's store and the pure helpers the generator needs, from src/ as it is now (and the tests' seeded random
 * source): bundled by the esbuild that builds dist/ (scripts/build.mjs), into a temp dir (never dist/, which holds
 * the CLI alone), imported, removed.
 */
let toolModules = null;
async function tool() {
  if (toolModules) return toolModules;
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(os.tmpdir(), 'deploy-bench-store-'));
  try {
    const outfile = join(dir, 'store.mjs');
    await build({
      stdin: {
        contents: [
          "export { Store } from './src/adapters/store/store.ts';",
          "export { DEFAULT_CONFIG } from './src/core/config.ts';",
          "export { encodeKeptLines } from './src/core/logs.ts';",
          "export { containerName, imageRef } from './src/core/names.ts';",
          "export { mulberry32 } from './test/helpers/random.ts';",
        ].join('\n'),
        resolveDir: ROOT,
        loader: 'ts',
        sourcefile: 'bench-store-entry.ts',
      },
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      logLevel: 'warning',
    });
    toolModules = await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return toolModules;
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const SUBJECTS = [
  'Fix login redirect loop',
  'Add pagination to the orders API',
  'Bump dependencies',
  'Cache the product catalogue',
  'Refactor the payment client',
  'Log slow queries',
  'Tune the connection pool',
  'Translate the settings page',
  'Remove the old feature flag',
  'Retry webhooks with backoff',
  'Speed up the search index build',
  'Fix a typo in the footer',
  'Handle empty carts',
  'Upgrade to the new base image',
  'Add a health endpoint',
  'Make the session timeout configurable',
];
const PEOPLE = [
  'Ada Lovelace <ada@example.com>',
  'Grace Hopper <grace@example.com>',
  'Linus T <linus@example.com>',
  'Ken T <ken@example.com>',
  'Barbara L <barbara@example.com>',
];
const ENDPOINT = 'unix:///var/run/docker.sock';
const WORKER = { machine: 'bench-generator', pid: 4242 };
/** Records written per transaction. */
const BATCH = 500;

/** The build output the tool keeps of a build (a short one: the example's size). */
function buildOutput(ref, imageId, failed) {
  const lines = [
    'Step 1/5 : FROM node:22-alpine',
    ' ---> 2b2a7e0d4f1c',
    'Step 2/5 : WORKDIR /app',
    ' ---> Using cache',
    'Step 3/5 : COPY package*.json ./',
    'Step 4/5 : RUN npm ci --omit=dev',
    'added 212 packages, and audited 213 packages in 6s',
  ];
  if (failed) return [...lines, "The command '/bin/sh -c npm ci' returned a non-zero code: 1"].join('\n');
  return [
    ...lines,
    'Step 5/5 : CMD ["node", "server.js"]',
    ` ---> ${imageId.slice(7, 19)}`,
    `Successfully built ${imageId.slice(7, 19)}`,
    `Successfully tagged ${ref}`,
  ].join('\n');
}

/** The runtime output the tool keeps of a container it retires or removes (its last lines). */
function runtimeLines(at, port, failed) {
  return [
    { time: new Date(at).toISOString(), stream: 'stdout', message: `listening on :8080 (published on ${port})` },
    { time: new Date(at + 400).toISOString(), stream: 'stdout', message: 'GET /healthz 200 1ms' },
    ...(failed
      ? [
          {
            time: new Date(at + 900).toISOString(),
            stream: 'stderr',
            message: 'Error: connect ECONNREFUSED 10.0.0.5:5432',
          },
        ]
      : []),
  ];
}

/**
 * Fills an empty store with n deployments of `apps` apps spread over the last `days` days, through the tool's
 * Store: ids of 8 characters of [a-z2-9] starting with a letter, deploys with some redeploys and rollbacks
 * (parent set), builds of 5 s to 2 min and health gates of 0.5 s to 10 s, ~7 % failed (build, start or health),
 * a few interrupted, each replaced one retired (superseded, its runtime logs kept), each app's last successful
 * one running, a few stopped. The store makes everything it makes for the tool (versions, labels' histories,
 * the metrics' marks, workloads and the app rows); the times are the generated ones.
 */
export async function fillStore(home, n, { apps: appCount, days, seed }) {
  const { Store, DEFAULT_CONFIG, encodeKeptLines, containerName, imageRef, mulberry32 } = await tool();
  // The tests' seeded random source (test/helpers/random.ts), so every run generates the same store.
  const rand = mulberry32(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const hex = (len) => {
    let s = '';
    while (s.length < len)
      s += Math.floor(rand() * 2 ** 32)
        .toString(16)
        .padStart(8, '0');
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

  // Apps of different sizes (a few busy ones): weight 1/(rank+1).
  const appNames = Array.from(
    { length: appCount },
    (_, i) => `${pick(['web', 'api', 'worker', 'shop', 'auth', 'admin', 'search', 'docs'])}-${i + 1}`,
  );
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
    port: 8000 + i,
    current: null, // the deployment serving now
    successful: [], // deployments that passed their gate, oldest first (the last 8)
    lastCommit: null,
    envRevision: 1,
    deployments: 0,
  }));
  // The snapshot the tool resolves for a deployment (every setting; the app's own ones over the defaults).
  const configOf = (s) => ({
    ...globalThis.structuredClone(DEFAULT_CONFIG),
    buildArgs: s.envRevision % 3 === 0 ? { NODE_ENV: 'production' } : {},
    env: {
      GREETING: { value: `Hello ${s.envRevision}`, secret: false },
      LOG_LEVEL: { value: s.envRevision % 2 ? 'info' : 'debug', secret: false },
      DATABASE_URL: { value: `postgres://app:pw${s.envRevision}@db.internal:5432/${s.name}`, secret: true },
    },
    ports: [{ hostIp: '127.0.0.1', hostPort: s.port, containerPort: 8080, protocol: 'tcp' }],
    healthCheck: { ...DEFAULT_CONFIG.healthCheck, path: '/healthz', timeoutMs: 60_000 },
  });

  mkdirSync(home, { recursive: true });
  const store = Store.open(join(home, 'deploy.db'));
  const counts = { running: 0, stopped: 0, superseded: 0, failed: 0, interrupted: 0 };
  try {
    // Transactions of a few hundred records (the tool's own become savepoints inside them): a commit's cost on disk
    // is paid once per batch, not per record, and each batch's changed pages fit SQLite's cache (one transaction
    // for the whole history spills pages to the WAL again and again, and grows it to gigabytes).
    for (let from = 0; from < times.length; from += BATCH)
      store.transaction(() => {
        for (const createdAt of times.slice(from, from + BATCH)) {
          const s = state[pickApp()];
          s.deployments++;
          if (rand() < 0.02) s.envRevision++;
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
          if (parent)
            commit = {
              sha: parent.commit,
              subject: parent.commitSubject,
              author: parent.commitAuthor,
              time: parent.commitTime,
            };
          else if (s.lastCommit && rand() < 0.1) commit = s.lastCommit;
          else
            commit = {
              sha: hex(40),
              subject: pick(SUBJECTS),
              author: pick(PEOPLE),
              time: createdAt - Math.floor(60_000 + rand() * 3 * 86_400_000),
            };
          s.lastCommit = commit;
          const config = kind === 'rollback' ? parent.config : configOf(s);
          const reuse = kind === 'rollback' || (kind === 'redeploy' && rand() < 0.8);
          const fail = rand() < (kind === 'deploy' ? 0.08 : 0.03);
          const failStage = fail
            ? reuse
              ? pick(['start', 'health', 'health'])
              : pick(['build', 'build', 'build', 'health', 'health', 'start'])
            : null;
          const interrupted = !fail && rand() < 0.003;
          const dirty = rand() < 0.01;
          const origin = pick(['terminal', 'terminal', 'ci', 'ci', 'ci', 'script']);

          // services/tracker.ts startRecord, then deploy.ts / redeploy-rollback.ts: queued.
          const tracker = recordOf(store, {
            id,
            app: s.name,
            kind,
            parentId: parent?.id ?? null,
            status: 'queued',
            source: `/home/dev/src/${s.name}`,
            subdir: '',
            ref: 'main',
            commit: commit.sha,
            commitSubject: commit.subject,
            commitAuthor: commit.author,
            commitTime: commit.time,
            dirty,
            image: reuse ? parent.image : null,
            imageId: reuse ? parent.imageId : null,
            imageDigest: reuse ? parent.imageDigest : null,
            runtime: 'container',
            workload: null,
            containerId: null,
            containerName: null,
            endpoint: ENDPOINT,
            config,
            createdAt,
            buildStartedAt: null,
            buildFinishedAt: null,
            startedAt: null,
            readyAt: null,
            finishedAt: null,
            actor: commit.author.replace(/^.*<(.*)>$/, '$1'),
            origin,
            error: null,
            worker: WORKER,
            overrides: null,
          });
          const d = tracker.d;
          if (kind === 'deploy' && !store.getApp(s.name)?.source)
            store.rememberSource(s.name, { source: d.source, subdir: '', ref: 'main' }, createdAt);
          tracker.event(
            createdAt,
            'queued',
            parent
              ? `${kind} of v${parent.version} (${parent.id})${reuse ? `, reusing ${parent.image}` : ', building the image'}`
              : `deploy of main (${commit.sha.slice(0, 7)}) to ${ENDPOINT}`,
          );

          let t = createdAt + 30 + Math.floor(rand() * 200);
          // services/build.ts: building, its output kept, built (or failed).
          if (!reuse) {
            const ref = imageRef(s.name, id);
            tracker.update(
              t,
              { status: 'building', buildStartedAt: t, image: ref },
              'building',
              `building ${ref} (with cache)`,
            );
            t += 5_000 + Math.floor(rand() * 115_000);
            const imageId = `sha256:${hex(64)}`;
            store.saveLog(id, 'build', Buffer.from(buildOutput(ref, imageId, failStage === 'build')), false, t);
            if (failStage === 'build') {
              tracker.fail(
                t,
                'failed',
                'build_failed',
                `The build of ${s.name} v${d.version} (${id}) failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1`,
              );
              counts.failed++;
              continue;
            }
            tracker.update(
              t,
              { imageId, imageDigest: imageId, buildFinishedAt: t },
              'built',
              `built ${ref} (${imageId.slice(7, 19)}) in ${Math.round((t - d.buildStartedAt) / 1000)}s`,
            );
          }
          if (interrupted) {
            // The process died while it worked; the next command's recovery (services/recovery.ts) marks it.
            tracker.fail(
              t + 1_000,
              'interrupted',
              'interrupted',
              'the tool died while this deployment was in progress',
            );
            counts.interrupted++;
            continue;
          }
          // services/release.ts: starting, the container created while the old one (same host port) stops, started,
          // gated; a failure removes the new one and starts the old one again.
          t += 50 + Math.floor(rand() * 300);
          const name = containerName(s.name, d.version, id);
          const old = s.current;
          tracker.update(t, { status: 'starting', containerName: name }, 'starting', `creating container ${name}`);
          if (old) tracker.event(t, 'stopping-old', `stopping v${old.version} (${old.id}) to free its ports`);
          const container = hex(64);
          tracker.update(t, { containerId: container });
          if (old) store.addEvent(old.id, t + 100, 'stopped', `stopped to free its ports for v${d.version}`);
          const restoreOld = (at) => {
            if (old) store.addEvent(old.id, at, 'restored', `started again after v${d.version} failed`);
          };
          if (failStage === 'start') {
            tracker.update(t, { containerId: null });
            restoreOld(t + 150);
            tracker.fail(
              t,
              'failed',
              'start_failed',
              `${s.name} v${d.version} (${id}) could not start: port is already allocated`,
            );
            counts.failed++;
            continue;
          }
          tracker.update(t, { startedAt: t }, 'started', `container ${container.slice(0, 12)} started`);
          if (failStage === 'health') {
            t += config.healthCheck.timeoutMs;
            store.saveLog(id, 'runtime', encodeKeptLines(runtimeLines(d.startedAt, s.port, true)).content, false, t);
            tracker.update(t, { containerId: null });
            restoreOld(t + 100);
            tracker.fail(
              t + 200,
              'failed',
              'health_failed',
              `${s.name} v${d.version} (${id}) failed its health check: GET http://127.0.0.1:${s.port}/healthz did not succeed within 1m (120 tries; last: HTTP 503)`,
            );
            counts.failed++;
            continue;
          }
          t += 500 + Math.floor(rand() * 9_500);
          const readyAt = t;
          store.transaction(() => {
            tracker.update(readyAt, { status: 'running', readyAt }, 'ready', 'passed its health gate');
            store.markFirstReady(id);
            store.setCurrent(s.name, id, readyAt);
          });
          // The one it replaces is retired: its logs kept, superseded.
          if (old) {
            t += 300 + Math.floor(rand() * 1_000);
            store.saveLog(
              old.id,
              'runtime',
              encodeKeptLines(runtimeLines(old.startedAt, s.port, false)).content,
              false,
              t,
            );
            store.updateDeployment(old.id, {
              status: 'superseded',
              containerId: null,
              supersededBy: id,
              rolledBack: kind === 'rollback',
            });
            store.addEvent(old.id, t, 'superseded', `replaced by v${d.version} (${id})`);
            counts.running--;
            counts.superseded++;
          }
          tracker.update(t + Math.floor(rand() * 500), { finishedAt: t, worker: null });
          if (kind === 'deploy') store.rememberSource(s.name, { source: d.source, subdir: '', ref: 'main' }, createdAt);
          counts.running++;
          s.current = { ...d };
          s.successful.push(s.current);
          if (s.successful.length > 8) s.successful.shift();
        }
      });
    store.transaction(() => {
      // A few apps were stopped on purpose (services/lifecycle.ts).
      for (const s of state) {
        if (!s.current || rand() >= 0.1) continue;
        store.updateDeployment(s.current.id, { status: 'stopped' });
        store.addEvent(s.current.id, now - 30_000, 'stopped', 'stopped on request');
        counts.running--;
        counts.stopped++;
      }
    });
  } finally {
    store.close();
  }
  return {
    records: n,
    apps: state.filter((s) => s.deployments > 0).length,
    days,
    statuses: counts,
    bytes: readdirSync(home)
      .filter((f) => f.startsWith('deploy.db'))
      .reduce((sum, f) => sum + statSync(join(home, f)).size, 0),
  };
}

/**
 * A deployment's record as services/tracker.ts keeps it: created by the store (its version and histories), each
 * change written with its event, the worker dropped when it finishes.
 */
function recordOf(store, fresh) {
  const d = store.createDeployment(fresh);
  return {
    d,
    update(at, patch, type, message) {
      const finished =
        patch.finishedAt !== undefined ||
        (patch.status !== undefined && !['queued', 'building', 'starting', 'running'].includes(patch.status));
      const full = finished ? { ...patch, worker: null } : patch;
      store.updateDeployment(d.id, full);
      Object.assign(d, full);
      if (type) store.addEvent(d.id, at, type, message);
    },
    event(at, type, message) {
      store.addEvent(d.id, at, type, message);
    },
    fail(at, status, code, message) {
      this.update(at, { status, finishedAt: at, error: { code, message } }, status, message);
    },
  };
}

/** A DEPLOY_HOME holding a store of n generated records. */
export async function storeWith(ws, n) {
  const home = ws.tempDir(`store${n}`);
  const t0 = process.hrtime.bigint();
  const info = await fillStore(home, n, { apps: n >= 100_000 ? 60 : 25, days: 29, seed: n });
  log(
    `store of ${info.records} records (${info.apps} apps, ${(info.bytes / 2 ** 20).toFixed(1)} MiB) made through the store in ${ms(process.hrtime.bigint() - t0).toFixed(0)} ms`,
  );
  return { home, info };
}

/** `--make-store N DIR`: a DEPLOY_HOME with N generated records, kept (to profile the commands that read it). */
export async function makeStore(n, dir) {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).some((f) => f.startsWith('deploy.db'))) throw new Error(`${dir} already holds a store`);
  return fillStore(dir, n, { apps: n >= 100_000 ? 60 : 25, days: 29, seed: n });
}
