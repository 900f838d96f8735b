import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { pipe, type Piped } from '../process.js';

// Through require: the ESM namespace of node:http costs ~30 ms of start-up (see api.ts).
const { Agent } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

/**
 * The Engine API over ssh, as the docker CLI reaches an ssh:// host: each connection is an `ssh` process
 * running `docker system dial-stdio` on the far side, its stdin and stdout carrying the HTTP bytes. The
 * user's own ssh (config, keys, agent, known_hosts) does the work; an unknown host key is refused
 * (StrictHostKeyChecking=yes) and nothing ever prompts (BatchMode=yes).
 */
export function sshArgs(url: URL): string[] {
  const args = ['-o', 'ConnectTimeout=30', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-T'];
  if (url.username) args.push('-l', decodeURIComponent(url.username));
  if (url.port) args.push('-p', url.port);
  args.push('--', url.hostname, 'docker', 'system', 'dial-stdio');
  return args;
}

/** One ssh process, seen by the HTTP client as a socket. */
class SshSocket extends Duplex {
  private readonly child: ChildProcess;
  private readonly kill: () => void;
  private stderr = '';

  constructor({ child, kill }: Piped) {
    super({ allowHalfOpen: false });
    this.child = child;
    this.kill = kill;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout?.pause();
    });
    // The end of stdout is not the end of the story: wait for ssh's exit status, so that a refused host key
    // or login surfaces as ssh's own message rather than as an HTTP "socket hang up".
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4096);
    });
    child.on('error', (error) =>
      this.destroy(Object.assign(new Error(`could not run ssh: ${error.message}`), { code: 'ESSH' })),
    );
    child.on('close', (code) => {
      if (code !== 0 && code !== null) {
        const reason =
          this.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ') || `ssh exited with code ${code}`;
        this.destroy(Object.assign(new Error(`ssh: ${reason}`), { code: 'ESSH' }));
      } else {
        this.push(null);
      }
    });
  }

  override _read(): void {
    this.child.stdout?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.child.stdin || this.child.stdin.destroyed) return callback(new Error('the ssh connection is closed'));
    this.child.stdin.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.child.stdin?.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.child.exitCode === null) this.kill();
    callback(error);
  }

  // What the HTTP client asks of a net.Socket; a pipe has nothing to tune.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }
  ref(): this {
    this.child.ref();
    return this;
  }
  unref(): this {
    this.child.unref();
    (this.child.stdout as unknown as Socket | null)?.unref?.();
    (this.child.stderr as unknown as Socket | null)?.unref?.();
    (this.child.stdin as unknown as Socket | null)?.unref?.();
    return this;
  }
}

/** An HTTP agent whose connections are ssh processes to `url`; kept alive and reused between requests. */
export class SshDialAgent extends Agent {
  private readonly target: URL;
  private readonly env: Record<string, string | undefined>;

  constructor(url: string, env: Record<string, string | undefined>) {
    super({ keepAlive: true });
    this.target = new URL(url);
    this.env = env;
  }

  override createConnection(): Duplex {
    return new SshSocket(pipe('ssh', sshArgs(this.target), { env: this.env }));
  }
}
