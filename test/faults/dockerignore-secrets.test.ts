import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appWorkspace } from '../helpers/workspace.js';
import { fault } from './fault.js';

const ENV_SENTINEL = 'D0TENV-secret-91c2e7';
const KEY_SENTINEL = 'PEMKEY-secret-3f8a10';

describe('committed secrets listed in .dockerignore', () => {
  const w = appWorkspace('dign');
  const { repo, app } = w;
  afterAll(() => w.remove());

  it('never reach the image: not in its files, not in any layer', async ({ task }) => {
    const report = fault(
      task,
      '.env and secrets/key.pem are committed and listed in .dockerignore: absent from every layer',
    );
    repo.commit('app', {
      Dockerfile: 'FROM busybox:1.36\nCOPY . /app\nCMD ["sleep", "3600"]\n',
      'deploy.json': JSON.stringify({ app }),
      '.dockerignore': '.env\nsecrets/\n',
      '.env': `TOKEN=${ENV_SENTINEL}\n`,
      'secrets/key.pem': `-----BEGIN KEY-----\n${KEY_SENTINEL}\n-----END KEY-----\n`,
      'app.sh': 'echo APPMARK-7d1e\n',
    });
    // The default builder (BuildKit on this engine).
    const r = await w.run('deploy', '--json');
    expect(r.code, r.stderr).toBe(0);
    const image = r.json<PublicRecord>().image as string;
    const files = execFileSync('docker', ['run', '--rm', '--network', 'none', image, 'find', '/app'], {
      encoding: 'utf8',
    });
    expect(files).toContain('/app/app.sh');
    expect(files).not.toContain('.env');
    expect(files).not.toContain('secrets');
    const count = (s: string) =>
      execFileSync(
        'sh',
        [
          '-c',
          `docker save ${image} | tar -xO --wildcards '*/layer.tar' 2>/dev/null | tar -xiO 2>/dev/null | grep -c -a ${s} || true`,
        ],
        { encoding: 'utf8' },
      ).trim();
    // The search itself can find things: the app's own file is in a layer.
    expect(count('APPMARK-7d1e')).not.toBe('0');
    expect(count(ENV_SENTINEL)).toBe('0');
    expect(count(KEY_SENTINEL)).toBe('0');
    report('absent from /app and from every layer of the saved image');
  });
});
