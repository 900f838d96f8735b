import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { appWorkspace } from '../helpers/workspace.js';
import { fault } from './fault.js';

describe('what an archive of the commit cannot ship', () => {
  const w = appWorkspace('unship');
  const { repo, app } = w;
  const lib = w.newRepo();

  beforeAll(async () => {
    const port = await freePort();
    lib.commit('lib', { 'lib.txt': 'library\n' });
    // The image needs the submodule's file: a context that shipped it empty fails the build.
    repo.commit(
      'app',
      webApp('hello', {
        dockerfileExtra: 'COPY vendor/lib/lib.txt /lib.txt',
        deployJson: { app, ports: [`127.0.0.1:${port}:8080`] },
      }),
    );
    repo.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib.dir, 'vendor/lib');
    repo.commit('with a submodule and an LFS pointer', {
      '.gitattributes': '*.bin filter=lfs diff=lfs merge=lfs -text\n',
      'assets/model.bin':
        'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n',
    });
  });
  afterAll(() => w.remove());

  it("deploys with the submodule's files, and warns naming the LFS pointer files", async ({ task }) => {
    const report = fault(
      task,
      'the submodule shipped with its files (no warning); a warning that names assets/model.bin (an LFS pointer); the deploy goes ahead',
    );
    const r = await w.run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = r.json<PublicRecord>();
    expect(d.status).toBe('running');
    expect(
      execFileSync('docker', ['run', '--rm', '--network', 'none', d.image as string, 'cat', '/lib.txt'], {
        encoding: 'utf8',
      }),
    ).toBe('library\n');
    expect(r.stderr).not.toMatch(/Git submodule|empty director/);
    expect(r.stderr).toMatch(/Git LFS pointer files \(assets\/model\.bin\): the image gets the pointers/);
    report('the submodule shipped; warned about the LFS pointer; deployed');
  });
});

describe('a commit with a huge subject (2 MB)', () => {
  const w = appWorkspace('subj');
  const { home, repo, app } = w;

  beforeAll(async () => {
    const port = await freePort();
    repo.commit('app', webApp('hello', { deployJson: { app, ports: [`127.0.0.1:${port}:8080`] } }));
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const message = join(home.dir, 'message.txt');
    writeFileSync(message, `${'s'.repeat(2 * 1024 * 1024)}\n`);
    repo.write({ 'index.html': 'huge\n' });
    repo.git('commit', '-qa', '-F', message);
  });
  afterAll(() => w.remove());

  it('deploys: its labels stay within what the engine accepts, and the store keeps the whole subject', async ({
    task,
  }) => {
    const report = fault(task, 'exit 0 (labels cut to 1,000 characters); the record keeps all 2 MiB of the subject');
    const r = await w.run('deploy', '--json');
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    const d = r.json<PublicRecord>();
    expect(d.status).toBe('running');
    expect(d.commitSubject).toHaveLength(2 * 1024 * 1024);
    report('deployed; the record keeps the whole subject');
  });
});
