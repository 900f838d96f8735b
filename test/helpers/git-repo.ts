import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** A real Git repository in a temporary directory. */
export class TempRepo {
  readonly dir: string;

  constructor(prefix = 'deploy-repo-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.email', 'author@example.test');
    this.git('config', 'user.name', 'Test Author');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: GIT_ENV, encoding: 'utf8' }).trim();
  }

  write(files: Record<string, string>): this {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    return this;
  }

  /** Writes files, commits them all, and returns the commit's SHA. */
  commit(message: string, files: Record<string, string> = {}): string {
    this.write(files);
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The files of a small web app on busybox httpd answering `body` on container port 8080. `start` replaces
 * the start script (to make an app that fails, crash-loops or prints), `dockerfileExtra` adds lines.
 *
 * A deploy.json that publishes ports and says nothing of `proxy` gets `"proxy": false`: most engine tests are of
 * the containers publishing their own ports (stop-first on a shared port, what answers while stopped, exit codes
 * of that path), written before the front door became the default. Tests of the front door say `proxy: true`;
 * `proxy: undefined` leaves the key out, for the default itself (test/e2e/cli.test.ts, the README's commands).
 */
function directByDefault(deployJson: unknown): unknown {
  if (typeof deployJson !== 'object' || deployJson === null || 'proxy' in deployJson || !('ports' in deployJson))
    return deployJson;
  return { ...deployJson, proxy: false };
}

export function webApp(
  body: string,
  options: { start?: string; dockerfileExtra?: string; deployJson?: unknown } = {},
): Record<string, string> {
  const files: Record<string, string> = {
    Dockerfile: [
      'FROM busybox:1.36',
      'WORKDIR /www',
      'COPY index.html start.sh ./',
      options.dockerfileExtra ?? '',
      'CMD ["sh", "/www/start.sh"]',
      '',
    ].join('\n'),
    'index.html': `${body}\n`,
    'start.sh': options.start ?? 'echo "starting on 8080"\necho "to stderr" >&2\nexec httpd -f -p 8080 -h /www\n',
  };
  if (options.deployJson !== undefined)
    files['deploy.json'] = JSON.stringify(directByDefault(options.deployJson), null, 2);
  return files;
}
