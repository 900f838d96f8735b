// `deploy redeploy ID` (image reused) and `deploy rollback APP`, against docker stop + rm + run.
import { describe, log, run } from '../measure.mjs';
import { BaselineApp, deployCli, exampleDeployArgs, newCommit } from '../workspace.mjs';

/** One line for --help. */
export const summary = '`deploy redeploy ID` (image reused) and `deploy rollback APP` against docker stop + rm + run';

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
export default async function benchShip({ ws, report, runs }) {
  log('ship: redeploy (reused image) and rollback against docker stop + rm + run + health wait');
  const { home, app, portTool, portBase } = await ws.comparison('ship');
  const repo = ws.exampleRepo('ship');
  // The port and health path are the deployments' own (one-off flags): a redeploy or rollback keeps them.
  const deployOnce = () => {
    const sha = newCommit(repo);
    const r = deployCli(exampleDeployArgs(repo, app, portTool, '--no-proxy'), { home });
    return { ...JSON.parse(r.stdout), sha };
  };
  const first = deployOnce();
  const second = deployOnce();
  if (first.status !== 'running' || second.status !== 'running') throw new Error('ship: set-up deploys failed');

  const images = [];
  for (const [i, sha] of [first.sha, second.sha].entries()) {
    const tag = ws.baseImage(`s${i + 1}`);
    run('sh', ['-c', `git archive --format=tar ${sha} | docker build -q -t ${tag} -`], { cwd: repo });
    images.push(tag);
  }
  const baseApp = new BaselineApp(ws, 's', portBase);
  const swap = (image) => baseApp.replace(image);
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
    if (rec.image !== second.image)
      reuseProblems.push(`rollback v${rec.version} shipped ${rec.image}, not ${second.image}`);
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
  for (let i = 0; i < runs.deployWarm; i++) await round(false);
  for (let i = 0; i < runs.deploy; i++) await round(true);
  if (reuseProblems.length) report.note(`ship: ${reuseProblems.join('; ')}`);
  const baseline = { name: 'docker stop+rm; docker run (same image); health wait', ...describe(base) };
  report.figure({
    scenario: 'ship',
    name: 'redeploy ID (image reused)',
    command: `deploy redeploy ${first.id} --yes --json`,
    value: describe(rd),
    baseline,
    budget: { ratio: 1.3 },
  });
  report.figure({
    scenario: 'ship',
    name: 'rollback APP',
    command: `deploy rollback ${app} --yes --json`,
    value: describe(rb),
    baseline,
    budget: { ratio: 1.3 },
  });
}
