// Zero downtime: redeploys under keep-alive load behind the front door, against the same redeploys of an app that
// publishes its port itself (today's direct publishing), in one run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, log, median, ROOT } from '../measure.mjs';
import { deployCli, docker, exampleDeployArgs, freePort, newCommit } from '../workspace.mjs';

/** One line for --help. */
export const summary =
  'zero downtime: redeploys under keep-alive load behind the front door against direct publishing; rollback in the bake window';

const CLIENTS = 16;
/**
 * Requests a second per client in the paced phase (16 × 20 = 320 a second). A saturating generator on a 2-CPU machine
 * takes a CPU of its own and the door another, so times measured under it are mostly waits for a CPU: the failures
 * are counted under both, the times (latency during switches, overhead, rollback) under the paced load.
 */
const PACED_RATE = 20;
const REDEPLOYS = { quick: 5, full: 20 };
const STEADY_SECONDS = 5;
const DOOR = 'deploy-front-door';

/** Starts the load generator (scripts/bench/load.mjs) on a port; `stop()` resolves with its figures. */
function startLoad(port, { rate = 0, maxSeconds = 600, samples = false } = {}) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'scripts', 'bench', 'load.mjs'),
      String(port),
      String(CLIENTS),
      String(maxSeconds),
      String(rate),
      samples ? '1' : '0',
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const done = new Promise((resolve, reject) => {
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`the load generator gave no figures: ${out}`));
      }
    });
  });
  return {
    stop: () => {
      child.stdin.end('stop\n');
      return done;
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function p99(xs) {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(0.99 * v.length))];
}

/** One redeploy through the CLI: its wall time, the door's swap time (from its output), and the boot+gate time. */
function redeploy(app, home) {
  const r = deployCli(['redeploy', app, '--yes', '--json'], { home });
  const rec = JSON.parse(r.stdout);
  if (rec.status !== 'running') throw new Error(`redeploy of ${app} ended ${rec.status}: ${r.stderr}`);
  const swap = /switched in ([\d.]+) ms/.exec(r.stderr);
  const boot = Date.parse(rec.readyAt) - Date.parse(rec.startedAt);
  return {
    wall: r.wall,
    swapMs: swap ? Number(swap[1]) : null,
    overhead: r.wall - boot,
    readyAt: Date.parse(rec.readyAt),
  };
}

/**
 * Half the window looked at around each switch: the new release recorded ready (readyAt) comes right after the
 * door's swap (or, published directly, after the new container's start), so [readyAt - W, readyAt + W] holds the
 * gate's last checks, the swap, the first requests to the new release and the old one's drain.
 */
const SWITCH_WINDOW_MS = 500;

/** The p99 latency of the requests sent inside the window around any of the switches (null: none were). */
function p99AroundSwitches(samples, each) {
  const inside = samples
    .filter(([at]) => each.some((e) => Math.abs(at - e.readyAt) <= SWITCH_WINDOW_MS))
    .map(([, ms]) => ms);
  return inside.length ? { p99: p99(inside), n: inside.length } : null;
}

export default async function benchSwitch({ ws, report, runs }) {
  const n = runs.deploy <= 2 ? REDEPLOYS.quick : REDEPLOYS.full;
  log(`switch: ${n} redeploys under ${CLIENTS} keep-alive clients, behind the front door and with direct publishing`);
  const doorBefore = docker(['inspect', DOOR], { check: false }).code === 0;
  const home = ws.tempDir('home-switch');
  const repo = ws.exampleRepo('switch');
  const door = { app: ws.appName('switch-door'), port: await freePort(), flags: ['--set', 'bakeWindow=0s'] };
  const direct = { app: ws.appName('switch-direct'), port: await freePort(), flags: ['--no-proxy'] };
  try {
    const sides = {};
    for (const side of [door, direct]) {
      const r = deployCli(exampleDeployArgs(repo, side.app, side.port, '--yes', ...side.flags), { home });
      if (JSON.parse(r.stdout).status !== 'running')
        throw new Error(`the first deploy of ${side.app} failed: ${r.stderr}`);
    }
    /** Steady load, then the same load during n redeploys: the figures of both, and each redeploy's. */
    const underLoad = async (side, rate) => {
      const steady = startLoad(side.port, { rate });
      await sleep(STEADY_SECONDS * 1000);
      const still = await steady.stop();
      const load = startLoad(side.port, { rate, samples: rate > 0 });
      const each = [];
      for (let i = 0; i < n; i++) each.push(redeploy(side.app, home));
      await sleep(500);
      const during = await load.stop();
      log(
        `  ${side === door ? 'front door' : 'direct'}, ${rate ? `paced (${rate}/s a client)` : 'saturating'}: ${during.failed} of ${during.ok + during.failed} requests failed in ${n} redeploys (${JSON.stringify(during.errors)}); p99 ${during.latencies.p99?.toFixed(1)} ms against ${still.latencies.p99?.toFixed(1)} ms steady`,
      );
      const around = during.samples ? p99AroundSwitches(during.samples, each) : null;
      delete during.samples;
      return { steady: still, during, each, around };
    };
    for (const side of [door, direct]) {
      const saturating = await underLoad(side, 0);
      const paced = await underLoad(side, PACED_RATE);
      sides[side === door ? 'door' : 'direct'] = { saturating, paced };
    }
    const d = sides.door.paced;
    const x = sides.direct.paced;
    const count = (v) => ({ median: v, min: v, max: v, mean: v, samples: [v] });
    for (const load of ['saturating', 'paced']) {
      const dl = sides.door[load].during;
      const xl = sides.direct[load].during;
      report.figure({
        scenario: 'switch',
        name: `failed requests in ${n} redeploys under ${load} load, front door`,
        unit: 'requests',
        value: count(dl.failed),
        baseline: { name: 'direct publishing (stop-first on a fixed port)', ...count(Math.max(1, xl.failed)) },
        budget: { max: 0 },
      });
      report.note(
        `switch, ${load} load: direct publishing failed ${xl.failed} of ${xl.ok + xl.failed} requests in ${n} redeploys (${JSON.stringify(xl.errors)}); the front door ${dl.failed} of ${dl.ok + dl.failed}`,
      );
    }
    report.figure({
      scenario: 'switch',
      name: `p99 latency over whole redeploys (build check, container start, gate, switch, retire) minus steady state, front door (paced load)`,
      value: count(d.during.latencies.p99 - d.steady.latencies.p99),
      // The same redeploys with direct publishing: what the machine itself adds while containers start and stop
      // (dockerd, runc, the CLI share the CPUs with the load), beside what the door adds.
      baseline: {
        name: 'the same, direct publishing (its successful requests)',
        ...count(x.during.latencies.p99 - x.steady.latencies.p99),
      },
      // Context for the figure above: a redeploy also builds, starts a container and retires one on the same CPUs.
    });
    report.figure({
      scenario: 'switch',
      name: `p99 latency in the ${(2 * SWITCH_WINDOW_MS) / 1000} s around each switch minus steady state, front door (paced load, ${d.around?.n ?? 0} requests)`,
      value: count(Number(((d.around?.p99 ?? NaN) - d.steady.latencies.p99).toFixed(1))),
      baseline: {
        name: 'the same, direct publishing (its successful requests)',
        ...count(Number(((x.around?.p99 ?? NaN) - x.steady.latencies.p99).toFixed(1))),
      },
      budget: { max: 10 },
    });
    const swaps = [...sides.door.saturating.each, ...d.each].map((e) => e.swapMs).filter((v) => v !== null);
    report.figure({
      scenario: 'switch',
      name: `switch healthy → routed, p99 of ${swaps.length}`,
      value: { ...describe(swaps), median: p99(swaps) },
      budget: { max: 50 },
    });
    report.figure({
      scenario: 'switch',
      name: 'redeploy overhead beyond boot and gate, front door (paced load)',
      value: describe(d.each.map((e) => e.overhead)),
      baseline: { name: 'the same, direct publishing', ...describe(x.each.map((e) => e.overhead)) },
      budget: { max: 3000 },
    });
    const [ds, xs] = [sides.door.saturating.steady, sides.direct.saturating.steady];
    const ratio = ds.ok / ds.seconds / (xs.ok / xs.seconds);
    report.figure({
      scenario: 'switch',
      name: `throughput through the front door / direct (${CLIENTS} clients, requests/s)`,
      unit: '×',
      value: count(Number(ratio.toFixed(2))),
    });

    // A rollback inside the bake window: a swap back to the release kept running.
    const rb = { app: ws.appName('switch-rollback'), port: await freePort() };
    const rbArgs = exampleDeployArgs(repo, rb.app, rb.port, '--proxy', '--yes');
    const rollbacks = [];
    newCommit(repo);
    deployCli(rbArgs, { home });
    const rbLoad = startLoad(rb.port, { rate: PACED_RATE });
    for (let i = 0; i < Math.max(3, runs.deploy); i++) {
      newCommit(repo);
      deployCli(rbArgs, { home });
      const r = deployCli(['rollback', rb.app, '--yes', '--json'], { home });
      if (!/Swapped back/.test(r.stderr)) throw new Error(`the rollback was not a swap back: ${r.stderr}`);
      rollbacks.push(r.wall);
    }
    const rbTraffic = await rbLoad.stop();
    report.figure({
      scenario: 'switch',
      name: 'rollback inside the bake window (deploy rollback, end to end, paced load)',
      value: describe(rollbacks),
      budget: { max: 1000 },
    });
    report.note(
      `switch: ${rbTraffic.failed} of ${rbTraffic.ok + rbTraffic.failed} requests failed across the rollbacks' deploys and swaps; median of the door's swap ${median(swaps)} ms`,
    );
    return { door: sides.door, direct: sides.direct, rollbacks };
  } finally {
    // Its apps' routes go from the door (and their ports from its relay), as a user's destroy does.
    for (const app of [door.app, ws.appName('switch-rollback')])
      deployCli(['destroy', app, '--yes', '--forget'], { home, check: false });
    if (!doorBefore) {
      // The bench made the door: it goes with the rest of what the bench made.
      docker(['rm', '-f', '-v', DOOR, `${DOOR}-relay`, `${DOOR}.lock`], { check: false });
      docker(['network', 'rm', DOOR], { check: false });
      docker(['volume', 'rm', 'deploy-front-door-state'], { check: false });
    }
  }
}
