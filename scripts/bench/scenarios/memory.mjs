// The peak memory of a deploy of a repository with 200 MiB of files, against one of the tiny example.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, log, run } from '../measure.mjs';
import { BIG_FILES, bigRepo, BIN, exampleDeployArgs, freePort, NODE } from '../workspace.mjs';

/** One line for --help. */
export const summary = 'peak RSS of a deploy of a repository with 200 MiB of files against one of the tiny example';

/**
 * Peak RSS of the deploy process itself (getrusage's maxRSS, read as the process exits, by a module
 * preloaded with --import), not of git or the engine. Both repositories are deployed as a new deployment
 * of their app replacing the running one; the big one streams its 200 MiB context to the engine each time.
 */
export default async function benchMemory({ ws, report, runs }) {
  log('memory: peak RSS of a deploy of a 200 MiB repository against the tiny example');
  const big = bigRepo();
  const tiny = ws.exampleRepo('memory-tiny');
  const home = ws.tempDir('home-memory');
  const preloadDir = ws.tempDir('preload');
  const preload = join(preloadDir, 'peak-rss.mjs');
  writeFileSync(
    preload,
    `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { writeFileSync(process.env.BENCH_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)); });\n`,
  );
  const sides = [];
  for (const [what, repo] of [
    ['tiny', tiny],
    ['big', big],
  ]) {
    sides.push({ what, repo, app: ws.appName(`mem-${what}`), port: await freePort() });
  }
  const deployPeak = (s) => {
    const file = join(preloadDir, `${s.what}.rss`);
    rmSync(file, { force: true });
    const r = run(
      NODE,
      ['--import', pathToFileURL(preload).href, BIN, ...exampleDeployArgs(s.repo, s.app, s.port, '--no-proxy')],
      {
        env: { DEPLOY_HOME: home, NO_COLOR: '1', BENCH_PEAK_RSS_FILE: file },
      },
    );
    const rec = JSON.parse(r.stdout);
    if (rec.status !== 'running') throw new Error(`memory: deploy of the ${s.what} repository ended ${rec.status}`);
    return { kb: Number(readFileSync(file, 'utf8')), wall: r.wall };
  };
  const peaks = { tiny: [], big: [] };
  const walls = { tiny: [], big: [] };
  // A first deploy of each (nothing to replace), then warm-up, then rounds of tiny, big.
  for (const s of sides) deployPeak(s);
  for (let i = 0; i < runs.deployWarm; i++) for (const s of sides) deployPeak(s);
  for (let i = 0; i < runs.memory; i++) {
    for (const s of sides) {
      const p = deployPeak(s);
      peaks[s.what].push(p.kb / 1024);
      walls[s.what].push(p.wall);
    }
  }
  report.figure({
    scenario: 'memory',
    name: `peak RSS, deploy of a ${BIG_FILES} MiB repo`,
    unit: 'MiB',
    value: describe(peaks.big),
    baseline: { name: 'peak RSS, deploy of the tiny example', ...describe(peaks.tiny) },
    budget: { ratio: 1.5 },
  });
  report.figure({
    scenario: 'memory',
    name: `deploy wall time, ${BIG_FILES} MiB repo`,
    value: describe(walls.big),
    baseline: { name: 'deploy wall time, tiny example', ...describe(walls.tiny) },
  });
}
