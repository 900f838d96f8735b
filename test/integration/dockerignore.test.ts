import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appWorkspace, workspace } from '../helpers/workspace.js';

/** A Dockerfile whose image holds the whole context at /ctx, and stays up without a port. */
const DOCKERFILE = 'FROM busybox:1.36\nCOPY . /ctx\nCMD ["sleep", "3600"]\n';

/** Files every case has: enough names for each pattern to both match and miss something. */
const TREE: Record<string, string> = {
  'app.js': 'app\n',
  'abs.txt': 'abs\n',
  'debug.log': 'log\n',
  'logs/today.log': 'log\n',
  tmp1: 't\n',
  tmp12: 't\n',
  'README.md': 'readme\n',
  'README-secret.md': 'secret\n',
  'CHANGES.md': 'changes\n',
  'docs/guide.md': 'guide\n',
  'docs/img/logo.svg': '<svg/>\n',
  'src/main.py': 'print(1)\n',
  'src/main.pyc': 'bytecode\n',
  'src/pkg/util.pyc': 'bytecode\n',
  'src/node_modules/dep/index.js': 'dep\n',
  'node_modules/left-pad/index.js': 'pad\n',
  'config/public.json': '{}\n',
  'config/private.json': '{"key": 1}\n',
  'config/nested/deeper.json': '{}\n',
  'build/app.Dockerfile': DOCKERFILE,
  'build/notes.txt': 'notes\n',
  '.env': 'TOKEN=1\n',
};

interface Case {
  name: string;
  files: Record<string, string>;
  /** The Dockerfile's path in the context (default Dockerfile). */
  dockerfile?: string;
  /** Paths under /ctx the filter must have left out, and some it must have kept. */
  absent: string[];
  present: string[];
}

const CASES: Case[] = [
  {
    name: 'wildcards, ?, comments, a leading /',
    files: { '.dockerignore': '# build noise\n*.log\ntmp?\ndocs/*.md\n/abs.txt\n\n' },
    absent: ['debug.log', 'tmp1', 'docs/guide.md', 'abs.txt'],
    present: ['logs/today.log', 'tmp12', 'docs/img/logo.svg'],
  },
  {
    name: '** at any depth',
    files: { '.dockerignore': '**/*.pyc\n**/node_modules\nlogs/**\n' },
    absent: ['src/main.pyc', 'src/pkg/util.pyc', 'src/node_modules', 'node_modules', 'logs/today.log'],
    present: ['src/main.py', 'logs'],
  },
  {
    name: 'exceptions: the last matching line wins',
    files: { '.dockerignore': '*.md\n!README*.md\nREADME-secret.md\n' },
    absent: ['CHANGES.md', 'README-secret.md'],
    present: ['README.md', 'docs/guide.md'],
  },
  {
    name: 'a directory excluded with one file re-included',
    files: { '.dockerignore': 'config\n!config/public.json\n.env\n' },
    absent: ['config/private.json', 'config/nested', '.env'],
    present: ['config/public.json'],
  },
  {
    name: 'everything but one directory',
    files: { '.dockerignore': '*\n!src\nsrc/**/*.pyc\n' },
    absent: ['app.js', 'config', 'src/pkg/util.pyc'],
    present: ['src/main.py', 'src/node_modules/dep/index.js'],
  },
  {
    name: 'an excluded Dockerfile and .dockerignore',
    files: { '.dockerignore': 'Dockerfile\n.dockerignore\n*.md\n' },
    absent: ['README.md'],
    present: ['app.js'],
  },
  {
    name: 'a Dockerfile-specific NAME.dockerignore over .dockerignore',
    dockerfile: 'build/app.Dockerfile',
    files: {
      '.dockerignore': 'app.js\n',
      'build/app.Dockerfile.dockerignore': 'build/notes.txt\n**/*.md\n!CHANGES.md\n',
    },
    absent: ['build/notes.txt', 'README.md', 'docs/guide.md'],
    present: ['app.js', 'CHANGES.md', 'build/app.Dockerfile'],
  },
];

/** Every path under /ctx in an image, sorted. */
function filesOf(image: string): string[] {
  return execFileSync('docker', ['run', '--rm', '--network', 'none', image, 'find', '/ctx'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .sort();
}

describe('.dockerignore: the image holds what docker build . of the commit would hold', () => {
  // The classic builder on both sides (the tool's and the docker CLI's), so only the context differs.
  const w = workspace({ DOCKER_BUILDKIT: '0' });
  const tags: string[] = [];
  afterAll(() => {
    w.remove();
    for (const tag of tags) execFileSync('docker', ['rmi', '-f', tag], { stdio: 'ignore' });
  });

  it.each(CASES)('$name', async ({ files, dockerfile, absent, present }) => {
    const app = w.newApp('ign');
    const repo = w.newRepo();
    const deployJson = { app, dockerfile: dockerfile ?? 'Dockerfile' };
    repo.commit('app', { ...TREE, Dockerfile: DOCKERFILE, 'deploy.json': JSON.stringify(deployJson), ...files });

    // The tool, from the commit.
    const r = await w.run(repo.dir, 'deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const ours = filesOf(r.json<PublicRecord>().image as string);

    // The docker CLI, from the commit extracted to a directory.
    const dir = mkdtempSync(join(tmpdir(), 'ign-docker-'));
    try {
      execFileSync('sh', ['-c', `git -C "${repo.dir}" archive HEAD | tar -x -C "${dir}"`]);
      const specific = dockerfile ? files[`${dockerfile}.dockerignore`] : undefined;
      // This docker CLI's classic builder reads only .dockerignore; BuildKit's rule puts NAME.dockerignore in its place.
      if (specific !== undefined) writeFileSync(join(dir, '.dockerignore'), specific);
      const tag = `deploy-ignore-ref-${app}`;
      tags.push(tag);
      execFileSync('docker', ['build', '-q', '-t', tag, '-f', join(dir, dockerfile ?? 'Dockerfile'), dir], {
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const theirs = filesOf(tag);
      expect(ours).toEqual(theirs);
      // Each case excludes something and keeps something: a filter that did nothing, or everything, fails.
      for (const path of absent) expect(ours).not.toContain(`/ctx/${path}`);
      for (const path of present) expect(ours).toContain(`/ctx/${path}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what ships is the commit, whatever local git settings say', () => {
  const xdg = mkdtempSync(join(tmpdir(), 'ign-xdg-'));
  const w = appWorkspace('attr', { XDG_CONFIG_HOME: xdg });
  const { repo, app, run } = w;
  afterAll(() => {
    w.remove();
    rmSync(xdg, { recursive: true, force: true });
  });

  it('ignores export-ignore from .git/info/attributes, core.attributesFile and ~/.config/git/attributes; honours committed .gitattributes', async () => {
    repo.commit('app', {
      Dockerfile: DOCKERFILE,
      'deploy.json': JSON.stringify({ app }),
      'info.txt': 'i\n',
      'configured.txt': 'c\n',
      'xdg.txt': 'x\n',
      'committed.txt': 'dropped by the commit\n',
      '.gitattributes': 'committed.txt export-ignore\n',
      'crlf.txt': 'one\ntwo\n',
    });
    writeFileSync(join(repo.dir, '.git/info/attributes'), 'info.txt export-ignore\n');
    writeFileSync(join(xdg, 'configured'), 'configured.txt export-ignore\n');
    execFileSync('mkdir', ['-p', join(xdg, 'git')]);
    writeFileSync(join(xdg, 'git', 'attributes'), 'xdg.txt export-ignore\ncrlf.txt text eol=crlf\n');
    repo.git('config', 'core.attributesFile', join(xdg, 'configured'));
    repo.git('config', 'core.autocrlf', 'true');
    repo.git('config', 'tar.umask', '0077');
    // Plain git archive in this repository drops them: the settings are live.
    const plain = execFileSync('sh', ['-c', 'git archive HEAD | tar -t'], {
      cwd: repo.dir,
      env: { ...process.env, XDG_CONFIG_HOME: xdg },
      encoding: 'utf8',
    });
    expect(plain).not.toContain('info.txt');
    expect(plain).not.toContain('configured.txt');

    const r = await run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const image = r.json<PublicRecord>().image as string;
    const files = filesOf(image);
    expect(files).toEqual(
      expect.arrayContaining(['/ctx/info.txt', '/ctx/configured.txt', '/ctx/xdg.txt', '/ctx/.gitattributes']),
    );
    expect(files).not.toContain('/ctx/committed.txt');
    // Line endings and modes as committed and as git's defaults give them, not as this machine's settings.
    const shown = execFileSync(
      'docker',
      ['run', '--rm', '--network', 'none', image, 'sh', '-c', 'od -c /ctx/crlf.txt; stat -c %a /ctx/info.txt'],
      { encoding: 'utf8' },
    );
    expect(shown).not.toContain('\\r');
    expect(shown.trim().split('\n').at(-1)).toBe('664');
  });
});
