import { execFileSync } from 'node:child_process';

/**
 * A real pseudo-terminal: a command run in a detached tmux session, read with capture-pane and answered
 * with send-keys, the way a person would.
 */
export class Terminal {
  private readonly socket = `deploy-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly session = 'main';

  constructor(command: string, env: Record<string, string>, size = { cols: 120, rows: 45 }) {
    const exports = Object.entries(env)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ');
    // CI is unset so the tool sees a person at a terminal, as it would outside CI.
    const script = `env -u CI ${exports} ${command}; echo "EXIT=$?"; sleep 600`;
    this.tmux('new-session', '-d', '-s', this.session, '-x', String(size.cols), '-y', String(size.rows), script);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', this.session);
  }

  /** Waits (bounded: 20 s in 100 ms steps) until the screen matches, and returns it. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = this.screen();
      if (pattern.test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the terminal never showed ${pattern}; it shows:\n${screen}`);
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
