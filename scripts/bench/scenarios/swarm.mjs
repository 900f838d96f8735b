// Past one machine: rolling redeploys and rollbacks of a 3-replica Swarm app behind the front door, under
// keep-alive load, on a real 2-node swarm the bench makes (extra dockerd in network namespaces, as the tests do:
// test/helpers/swarm.ts) with a registry the nodes pull from. The host engine is not touched.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, log, ROOT, run } from '../measure.mjs';
import { CLIENTS, startLoad } from '../traffic.mjs';
import { deployCli, freePort, newCommit } from '../workspace.mjs';

/** One line for --help. */
export const summary =
  'Swarm: rolling redeploys and rollbacks of 3 replicas over 2 nodes behind the front door, under load (needs root)';

const REPLICAS = 3;
const PACED_RATE = 20;
const REDEPLOYS = { quick: 2, full: 5 };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The tests' swarm and registry helpers (TypeScript), bundled for this run with the project's esbuild into
 * node_modules/.cache (beside the packages they import).
 */
async function helpers() {
  const { build } = await import('esbuild');
  const dir = join(ROOT, 'node_modules', '.cache', 'deploy-bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'swarm-helpers.mjs');
  await build({
    stdin: {
      contents:
        "export { startSwarm } from './test/helpers/swarm.ts';\nexport { startRegistry } from './test/helpers/registry.ts';\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return import(`${pathToFileURL(outfile).href}?${Date.now()}`);
}

export default async function benchSwarm({ ws, report, runs }) {
  if (process.getuid?.() !== 0) {
    report.note('swarm: skipped: the swarm of network namespaces needs root (the set-up and CI run as root)');
    return null;
  }
  const n = runs.deploy <= 2 ? REDEPLOYS.quick : REDEPLOYS.full;
  log(
    `swarm: a 2-node swarm, ${REPLICAS} replicas behind the front door, ${n} redeploys and rollbacks under ${CLIENTS} clients`,
  );
  const { startSwarm, startRegistry } = await helpers();
  const swarm = await startSwarm({ nodes: 2 });
  let registry;
  try {
    // The door's image is built on the manager from the base the set-up keeps offline.
    const copied = run('sh', ['-c', `docker save node:24-slim | docker -H ${swarm.manager.url} load -q`]);
    if (copied.code !== 0) throw new Error(`could not copy node:24-slim to the manager: ${copied.stderr}`);
    registry = await startRegistry({ address: swarm.hostAddress });
    const home = ws.tempDir('home-swarm');
    const repo = ws.exampleRepo('swarm');
    const app = ws.appName('swarm');
    const port = await freePort();
    const env = { DOCKER_CONFIG: registry.loggedIn() };
    const cli = (args) => deployCli(['-H', swarm.manager.url, ...args], { home, env });
    const deployArgs = [
      'deploy',
      repo,
      '--app',
      app,
      '--port',
      `${port}:8080`,
      '--health-path',
      '/',
      '--runtime',
      'swarm',
      '--replicas',
      String(REPLICAS),
      '--set',
      `registry=${registry.host}`,
      '--set',
      'bakeWindow=0s',
      '--yes',
      '--json',
    ];
    const first = cli(deployArgs);
    if (first.code !== 0) throw new Error(`the first deploy failed: ${first.stderr}`);

    /** One change under paced load on the manager's address: its wall time and the load's figures. */
    const underLoad = async (label, args) => {
      const load = startLoad(port, { rate: PACED_RATE, host: swarm.manager.address });
      await sleep(500);
      const walls = [];
      for (let i = 0; i < n; i++) {
        if (label === 'redeploy') newCommit(repo);
        const r = cli(args(i));
        const rec = JSON.parse(r.stdout);
        if (rec.status !== 'running' || rec.kind !== (label === 'redeploy' ? 'deploy' : 'rollback'))
          throw new Error(`${label} ended ${rec.status} (${rec.kind}): ${r.stderr}`);
        walls.push(r.wall);
      }
      await sleep(500);
      const traffic = await load.stop();
      log(
        `  ${label}: ${traffic.failed} of ${traffic.ok + traffic.failed} requests failed in ${n} (${JSON.stringify(traffic.errors)}); p99 ${traffic.latencies.p99?.toFixed(1)} ms`,
      );
      return { walls, traffic };
    };
    const redeploys = await underLoad('redeploy', () => deployArgs);
    // Each rollback goes further back (v{n}, then v{n-1}, ... v1; a plain `rollback` again would find its target
    // serving and do nothing): a new service of that release's image behind the same gate (the bake window is 0,
    // so no swap back).
    const rollbacks = await underLoad('rollback', (i) => [
      'rollback',
      app,
      '--to',
      `${app}@v${n - i}`,
      '--yes',
      '--json',
    ]);
    const count = (v) => ({ median: v, min: v, max: v, mean: v, samples: [v] });
    for (const [what, side] of [
      ['rolling redeploys', redeploys],
      ['rollbacks', rollbacks],
    ]) {
      report.figure({
        scenario: 'swarm',
        name: `failed requests in ${n} ${what} of ${REPLICAS} replicas on 2 nodes, behind the front door (paced load)`,
        unit: 'requests',
        value: count(side.traffic.failed),
        budget: { max: 0 },
      });
    }
    report.figure({
      scenario: 'swarm',
      name: `rolling redeploy of ${REPLICAS} replicas (deploy, end to end: build, new service, every task gated, switch, old one drained and removed)`,
      value: describe(redeploys.walls),
    });
    report.figure({
      scenario: 'swarm',
      name: `rollback of ${REPLICAS} replicas to an earlier release (deploy rollback --to, each further back, end to end)`,
      value: describe(rollbacks.walls),
    });
    cli(['destroy', app, '--yes', '--forget']);
    return { redeploys, rollbacks };
  } finally {
    registry?.stop();
    await swarm.stop();
  }
}
