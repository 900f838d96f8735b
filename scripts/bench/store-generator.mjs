// Stores of many generated records, for the scenarios that measure reading a long history (cli, store) and for
// `npm run bench -- --make-store N DIR`.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { log, ms } from './measure.mjs';
import { deployCli } from './workspace.mjs';

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
export function fillStore(home, n, { apps: appCount, days, seed }) {
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
export function storeWith(ws, n) {
  const home = ws.tempDir(`store${n}`);
  deployCli(['ls'], { home });
  const t0 = process.hrtime.bigint();
  const info = fillStore(home, n, { apps: n >= 100_000 ? 60 : 25, days: 29, seed: n });
  log(`store of ${info.records} records (${info.apps} apps, ${(info.bytes / 2 ** 20).toFixed(1)} MiB) made in ${ms(process.hrtime.bigint() - t0).toFixed(0)} ms`);
  return { home, info };
}

/** `--make-store N DIR`: a DEPLOY_HOME with N generated records, kept (to profile the commands that read it). */
export function makeStore(n, dir) {
  if (existsSync(join(dir, 'deploy.db'))) throw new Error(`${dir} already holds a store`);
  mkdirSync(dir, { recursive: true });
  deployCli(['ls'], { home: dir });
  return fillStore(dir, n, { apps: n >= 100_000 ? 60 : 25, days: 29, seed: n });
}
