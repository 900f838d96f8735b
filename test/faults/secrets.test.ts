import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest, type AppFixture, type AppOptions } from '../helpers/app-fixture.js';
import { fetchText } from '../helpers/docker.js';
import { readStore, storePath } from '../helpers/store.js';
import { fault } from './fault.js';

const SENTINEL = 'S3NT1NEL-secret-4c9e1f';
const FROM_ENV = 'FR0M-ENV-secret-77ab';

/** The app the cases deploy: it says how long its token is, and prints the token when told to fail. */
const SECRETIVE: AppOptions = {
  prefix: 'sec',
  body: 'hello',
  start:
    'echo "token length ${#API_TOKEN}"\n[ -n "$FAIL_WITH_SECRET" ] && { echo "oops: $API_TOKEN"; exit 1; }\nexec httpd -f -p 8080 -h /www\n',
};

/** The CLI in the app's repository, everything it prints kept, to be searched for the secrets afterwards. */
function recording(f: AppFixture) {
  const outputs: string[] = [];
  const run = async (args: string[], extra: Record<string, string> = {}, input?: string) => {
    const r = await f.cli(args, { env: extra, ...(input !== undefined ? { input } : {}) });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  return { outputs, run };
}

describe('secrets never leak', () => {
  it('reaches the container only: not outputs, JSON, records, logs the tool writes, errors, argv, labels or image layers', async ({
    task,
  }) => {
    const report = fault(task, 'the sentinel appears in the container environment and nowhere else');
    const f = await appForTest(SECRETIVE);
    const { outputs, run } = recording(f);
    const app = f.app;
    // Given without ever being on a command line: from stdin, and from the environment.
    expect((await run(['config', 'set', 'API_TOKEN', '--secret', '--app', app], {}, `${SENTINEL}\n`)).code).toBe(0);
    const { done } = f.startBin(['deploy', '--json', '--verbose', '--secret', 'EXTRA_TOKEN'], {
      env: { EXTRA_TOKEN: FROM_ENV },
    });
    // Every process on the machine, while the deploy runs: no argument list holds a secret.
    const argvs: string[] = [];
    for (let i = 0; i < 20; i++) {
      argvs.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }));
      await new Promise((r) => setTimeout(r, 50));
    }
    const deployed = await done;
    outputs.push(deployed.stdout, deployed.stderr);
    const record = JSON.parse(deployed.stdout) as PublicRecord;
    expect(record.status).toBe('running');
    expect(await fetchText(f.port)).toBe('hello');

    // The container has them: that is where they belong.
    const containerEnv = execFileSync(
      'docker',
      ['inspect', '--format', '{{json .Config.Env}}', record.containerName as string],
      { encoding: 'utf8' },
    );
    expect(containerEnv).toContain(SENTINEL);
    expect(containerEnv).toContain(FROM_ENV);

    // Everything a user or a script can read.
    await run(['ls']);
    await run(['ls', '--json']);
    await run(['inspect', record.id]);
    await run(['inspect', record.id, '--json']);
    await run(['config', 'list', '--app', app]);
    await run(['config', 'list', '--app', app, '--json']);
    await run(['config', 'get', 'API_TOKEN', '--app', app]);
    await run(['config', 'get', 'API_TOKEN', '--app', app, '--json']);
    await run(['logs', record.id, '--build']);
    await run(['stats', '--json']);
    await run(['sync', '--json']);
    await run(['redeploy', record.id, '--dry-run']);
    await run(['redeploy', record.id, '--dry-run', '--json']);
    await run(['rollback', app, '--dry-run']);
    // A failure whose container prints the secret: the tool shows the end of its output, masked.
    const failed = await run(['deploy', '--json', '--env', 'FAIL_WITH_SECRET=1', '--health-timeout', '20s']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('oops: ********');
    await run(['inspect', failed.json<PublicRecord>().id, '--json']);

    const everything = [...outputs, ...argvs].join('\n');
    expect(everything.length).toBeGreaterThan(20_000);
    expect(everything).not.toContain(SENTINEL);
    expect(everything).not.toContain(FROM_ENV);

    // Image layers and every label, of the image and the container.
    const image = record.image as string;
    const history = execFileSync('docker', ['history', '--no-trunc', image], { encoding: 'utf8' });
    const imageInspect = execFileSync('docker', ['image', 'inspect', image], { encoding: 'utf8' });
    const labels = execFileSync(
      'docker',
      ['inspect', '--format', '{{json .Config.Labels}}', record.containerName as string],
      { encoding: 'utf8' },
    );
    const saved = execFileSync(
      'sh',
      [
        '-c',
        `docker save ${image} | tar -xO --wildcards '*/layer.tar' 2>/dev/null | tar -xO 2>/dev/null | grep -c -a ${SENTINEL} || true`,
      ],
      { encoding: 'utf8' },
    );
    expect(history + imageInspect + labels).not.toContain(SENTINEL);
    expect(saved.trim()).toBe('0');
    report(
      `absent from ${outputs.length} outputs, ${argvs.length} process lists, image history, labels and layers; present in the container env`,
    );
  });

  it('keeps the store and settings private: 0600 files in a 0700 directory', async ({ task }) => {
    const report = fault(task, 'deploy.db and config.json are 0600, their directory 0700');
    const f = await appForTest(SECRETIVE);
    const { run } = recording(f);
    // A secret in the store, a setting in config.json.
    expect((await run(['config', 'set', 'API_TOKEN', '--secret', '--app', f.app], {}, `${SENTINEL}\n`)).code).toBe(0);
    expect((await run(['config', 'set', 'X=1', '--global'])).code).toBe(0);
    const modes = execFileSync(
      'stat',
      ['-c', '%a %n', f.home.dir, storePath(f.home.dir), `${f.home.dir}/config.json`],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    expect(modes.map((l) => l.split(' ')[0])).toEqual(['700', '600', '600']);
    report(modes.join('; '));
  });

  it('never prints a secret given with --env KEY=VALUE back, even in an error', async ({ task }) => {
    const report = fault(task, 'a bad value is refused without echoing other values');
    const f = await appForTest(SECRETIVE);
    const r = await f.startBin(['deploy', '--env', `GOOD=${SENTINEL}`, '--env', 'BAD KEY=x']).done;
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).not.toContain(SENTINEL);
    report(`exit ${r.code}: ${r.stderr.split('\n')[0]}`);
  });

  it('stays secret when a later deploy sets it with -e, in every view, label and image label', async ({ task }) => {
    const report = fault(task, 'API_TOKEN set with -e over a stored secret is masked in inspect, ls --json and labels');
    const f = await appForTest(SECRETIVE);
    const { run } = recording(f);
    expect((await run(['config', 'set', 'API_TOKEN', '--secret', '--app', f.app], {}, `${SENTINEL}\n`)).code).toBe(0);
    const plain = 'PL41N-but-secret-5d2e';
    const r = await run(['deploy', '--json', '-e', `API_TOKEN=${plain}`]);
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<PublicRecord>();
    expect(d.config.env.API_TOKEN).toBe('********');
    expect(d.config.secrets).toContain('API_TOKEN');
    const views = [
      (await run(['inspect', d.id, '--json'])).stdout,
      (await run(['ls', '--json'])).stdout,
      (await run(['inspect', d.id])).stdout,
    ];
    const labels = execFileSync(
      'docker',
      ['inspect', '--format', '{{json .Config.Labels}}', d.containerName as string, d.image as string],
      { encoding: 'utf8' },
    );
    expect(views.join('\n') + labels).not.toContain(plain);
    report('masked in inspect, ls --json and the container and image labels');
  });

  it("masks the app's secret values in every log the tool shows: live, --json, kept copies", async ({ task }) => {
    const report = fault(task, 'an app that prints its secret: deploy logs (live, --json, kept) shows ********');
    const f = await appForTest(SECRETIVE);
    const { run } = recording(f);
    const printing = 'PR1NTED-secret-a17c';
    expect((await run(['config', 'set', 'PRINTED', '--secret', '--app', f.app], {}, `${printing}\n`)).code).toBe(0);
    f.repo.commit('prints', {
      'start.sh': 'echo "my secret is $PRINTED"\necho "err $PRINTED" >&2\nexec httpd -f -p 8080 -h /www\n',
    });
    const first = (await run(['deploy', '--json'])).json<PublicRecord>();
    expect(first.status).toBe('running');
    const live = await run(['logs', first.id]);
    const json = await run(['logs', first.id, '--json']);
    expect(live.stdout).toContain('my secret is ********');
    expect(live.stderr).toContain('err ********');
    expect(json.stdout).toContain('my secret is ********');
    // Superseded: its container goes, and the kept copy is what logs shows.
    f.repo.commit('after', { 'index.html': 'after\n' });
    expect((await run(['deploy', '--json'])).code).toBe(0);
    const kept = await run(['logs', first.id]);
    expect(kept.stderr).toContain('the kept copy');
    expect(kept.stdout).toContain('my secret is ********');
    // The kept copy in the store is masked too, not only what is shown.
    const copy = readStore(f.home.dir, (store) => store.getLog(first.id, 'runtime'));
    expect(copy?.content.toString('utf8')).toContain('my secret is ********');
    expect(copy?.content.toString('utf8')).not.toContain(printing);
    expect([live.stdout, live.stderr, json.stdout, kept.stdout].join('\n')).not.toContain(printing);
    report('live, --json and kept logs show ******** in place of the value');
  });
});
