import { DeployError } from '../../../core/errors.js';
import { MuxFrames } from '../../../core/logs.js';
import { readAll } from '../api.js';
import type { EngineConnection } from './connection.js';
import type { ExecOptions, ExecResult } from './types.js';

/**
 * A command run in a container (exec) that did not finish in time. The engine has no call to stop an exec: the
 * process is left to the container (it ends with it).
 */
export class ExecTimeout extends DeployError {
  constructor(containerId: string, program: string, ms: number) {
    super(
      'engine_error',
      `The command ${program} run in the container ${containerId.slice(0, 12)} did not finish within ${ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`}.`,
      {
        hint: 'The process is left running in the container until it ends or the container stops; check the container (docker top), then try again.',
        details: { containerId, timeoutMs: ms },
      },
    );
  }
}

/** Commands run in running containers (docker exec). */
export class EngineExec {
  constructor(private readonly conn: EngineConnection) {}

  /**
   * Runs a command in a running container (docker exec, no TTY, no input) and waits for it: its exit code and its
   * output, stdout and stderr apart. Bounded: a command still running after `timeoutMs` (the engine's request
   * timeout when absent) fails with ExecTimeout; output is returned whole, so keep it small.
   */
  async run(containerId: string, cmd: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const limit = options.timeoutMs ?? this.conn.api.idleMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limit);
    try {
      const created = await this.conn.call('exec', () =>
        this.conn.api.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(containerId)}/exec`, {
          body: {
            Cmd: cmd,
            AttachStdin: false,
            AttachStdout: true,
            AttachStderr: true,
            Tty: false,
            ...(options.user ? { User: options.user } : {}),
            ...(options.env ? { Env: options.env } : {}),
          },
        }),
      );
      // The answer is the command's multiplexed output, until it exits and the engine closes the connection.
      const aborted = new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () => reject(new Error('exec timed out')), { once: true }),
      );
      aborted.catch(() => undefined);
      const output = await this.conn.call('exec', async () => {
        const start = this.conn.api.stream('POST', `/exec/${encodeURIComponent(created.Id)}/start`, {
          body: Buffer.from(JSON.stringify({ Detach: false, Tty: false })),
          headers: { 'Content-Type': 'application/json' },
          signal: controller.signal,
          idleMs: 0,
        });
        const res = await Promise.race([start, aborted]);
        return Promise.race([readAll(res), aborted]);
      });
      const text: Record<'stdout' | 'stderr', Buffer[]> = { stdout: [], stderr: [] };
      for (const frame of new MuxFrames().push(output)) text[frame.stream].push(frame.payload);
      // The output ends when the process does; its exit code may show a moment later (bounded: a few tries).
      let state = await this.inspect(created.Id);
      for (let i = 0; i < 50 && state.running && !controller.signal.aborted; i++) {
        await new Promise((r) => setTimeout(r, 20));
        state = await this.inspect(created.Id);
      }
      if (state.running || state.exitCode === null) throw new ExecTimeout(containerId, cmd[0] ?? '', limit);
      return {
        exitCode: state.exitCode,
        stdout: Buffer.concat(text.stdout).toString('utf8'),
        stderr: Buffer.concat(text.stderr).toString('utf8'),
      };
    } catch (error) {
      if (timedOut) throw new ExecTimeout(containerId, cmd[0] ?? '', limit);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private async inspect(id: string): Promise<{ running: boolean; exitCode: number | null }> {
    const info = await this.conn.call('exec', () =>
      this.conn.api.json<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${encodeURIComponent(id)}/json`),
    );
    return { running: info.Running, exitCode: info.ExitCode };
  }
}
