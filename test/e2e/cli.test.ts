import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { runBin } from '../helpers/process.js';
import { tempHome } from '../helpers/cli.js';
import { doorCleanup, fetchText, freePort, removeApps, testApp } from '../helpers/docker.js';
import { TempRepo, webApp } from '../helpers/git-repo.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function systemNode(): { path: string; major: number } | null {
  try {
    const path = execFileSync('sh', ['-c', 'command -v /usr/bin/node || command -v /usr/local/bin/node'], {
      encoding: 'utf8',
    }).trim();
    const major = Number(
      execFileSync(path, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim(),
    );
    return { path, major };
  } catch {
    return null;
  }
}

describe('the built bin, as a user runs it', () => {
  const home = tempHome();
  const repo = new TempRepo();
  const app = testApp('e2e');
  // The deploy below starts the engine's front door (the default) when none runs: it goes again afterwards,
  // and a door that ran before is left as it was.
  const removeDoor = doorCleanup();
  afterAll(async () => {
    // As a user ends it: its route and port go from the door too.
    await runBin(['destroy', app, '--yes', '--forget'], { ci: false, env: { DEPLOY_HOME: home.dir } });
    removeApps([app]);
    removeDoor();
    repo.remove();
    home.remove();
  });

  it('prints its version and help', async () => {
    expect((await runBin(['--version'], { ci: false })).stdout.trim()).toBe(pkg.version);
    const help = await runBin(['--help'], { ci: false });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/deploy \[options\] \[command\]/);
    expect(help.stdout).toMatch(/^\s+deploy \[options\] \[source\]/m);
    expect(help.stdout).toMatch(/^\s+ls\|list/m);
  });

  it('refuses an unknown flag with the usage code and a pointer to --help, without a stack trace', async () => {
    const r = await runBin(['deploy', '--bogus'], { ci: false });
    expect(r.code).toBe(EXIT_CODES.usage);
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.stderr).toContain('deploy --help');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('deploys a repository and lists it, stdout holding only the JSON document', async () => {
    const port = await freePort();
    repo.commit(
      'e2e page',
      // proxy left to its default: the front door owns the port.
      webApp('end to end', {
        deployJson: { app, ports: [`127.0.0.1:${port}:8080`], healthCheck: { path: '/' }, proxy: undefined },
      }),
    );
    const r = await runBin(['deploy', '--json'], { cwd: repo.dir, ci: false, env: { DEPLOY_HOME: home.dir } });
    expect(r.code).toBe(0);
    const record = JSON.parse(r.stdout) as PublicRecord;
    expect(record).toMatchObject({ app, status: 'running', version: 1 });
    expect(r.stderr).toMatch(/Routed: \d+ checks? passed, switched in [\d.]+ ms/);
    expect(await fetchText(port)).toBe('end to end');

    const ls = await runBin(['ls'], { ci: false, env: { DEPLOY_HOME: home.dir } });
    expect(ls.code).toBe(0);
    const lines = ls.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+VER\s+APP\s+STATUS\s+COMMIT\s+IMAGE\s+AGE\s+DURATION\s+ENDPOINT\s+KIND$/);
    expect(lines[1]).toMatch(new RegExp(`^${record.id}\\s+v1\\s+${app}\\s+running\\s+[0-9a-f]{7} e2e page`));
    // Not a terminal: no colour codes, no spinner frames.
    expect(ls.stdout + r.stderr).not.toContain('\u001b[');
  });

  const node = systemNode();
  it.runIf(node !== null && node.major < 22)(
    'runs under an older system Node by handing over to the Node set-up installed',
    async () => {
      const r = await runBin(['ls', '--json'], { node: node?.path, ci: false, env: { DEPLOY_HOME: home.dir } });
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as PublicRecord[]).map((d) => d.app)).toEqual([app]);
    },
  );
});
