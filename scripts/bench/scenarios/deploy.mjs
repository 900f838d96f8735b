// A deploy of the example from a new commit, against the same work done with the docker CLI.
import { log, median, ms, run, sideBySide } from '../measure.mjs';
import { BaselineApp, deployCli, exampleDeployArgs, newCommit } from '../workspace.mjs';

/** One line for --help. */
export const summary = 'a deploy of the example app from a new commit against the same work done with the docker CLI';

/**
 * What each side does, per sample (the preparation — a new commit changing index.html — is not timed):
 *
 *   deploy:   `deploy deploy REPO --app APP --port 127.0.0.1:P:8080 --health-path / --json --no-proxy`, with APP's previous
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
export default async function benchDeploy({ ws, report, runs }) {
  log('deploy: a deploy of the example from a new commit against git archive | docker build + docker stop/rm/run');
  const { home, app, portTool, portBase } = await ws.comparison('deploy');
  const repoTool = ws.exampleRepo('deploy-tool');
  const repoBase = ws.exampleRepo('deploy-base');
  // --no-proxy: the docker CLI side publishes the port on the container; the front door's own cost is the switch
  // scenario's (its overhead against direct publishing, both sides in one run).
  const deployArgs = exampleDeployArgs(repoTool, app, portTool, '--no-proxy');
  const toolDeploy = () => {
    newCommit(repoTool);
    const r = deployCli(deployArgs, { home });
    const rec = JSON.parse(r.stdout);
    if (rec.status !== 'running') throw new Error(`deploy ended ${rec.status}`);
    return r.wall;
  };

  let n = 0;
  const baseApp = new BaselineApp(ws, 'd', portBase);
  const basePhases = [];
  const baseDeploy = async () => {
    newCommit(repoBase);
    n++;
    const tag = ws.baseImage(`d${n}`);
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
    await baseApp.replace(tag, lap);
    basePhases.push(phase);
    return ms(process.hrtime.bigint() - t0);
  };

  // The first deployment of each side (nothing to replace yet) is set-up, not a sample.
  toolDeploy();
  await baseDeploy();
  const side = await sideBySide(toolDeploy, baseDeploy, { warm: runs.deployWarm, runs: runs.deploy });
  report.figure({
    scenario: 'deploy',
    name: 'deploy (new commit, replaces the running one)',
    command: deployArgs.join(' '),
    value: side.a,
    baseline: { name: 'git archive | docker build; docker stop+rm; docker run; health wait', ...side.b },
    pairRatios: side.pairRatios,
    budget: { ratio: 1.15 },
  });
  // Where the tool's time goes, from its own records of the measured deployments.
  const measured = JSON.parse(
    deployCli(['ls', '--app', app, '--limit', String(runs.deploy), '--json'], { home }).stdout,
  );
  const phases = phasesOf(measured);
  report.note(
    `deploy: medians of the tool's own timestamps: ${Object.entries(phases)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')}`,
  );
  const measuredBase = basePhases.slice(-runs.deploy);
  const baseline = Object.fromEntries(
    Object.keys(measuredBase[0] ?? {}).map((k) => [k, Math.round(median(measuredBase.map((p) => p[k])))]),
  );
  report.note(
    `deploy: medians of the baseline's steps: ${Object.entries(baseline)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')}`,
  );
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
    const xs = records
      .map((d) => span(d).map(t))
      .filter(([a, b]) => a !== null && b !== null)
      .map(([a, b]) => b - a);
    if (xs.length) out[name] = median(xs);
  }
  return out;
}
