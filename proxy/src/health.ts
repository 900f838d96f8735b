// The health gate: is an upstream ready for traffic? HTTP (N consecutive 2xx on a path) or a TCP connect.
import net from 'node:net';
import { Client } from 'undici';

export interface HealthOptions {
  /** `http`: GET `path` must answer 2xx; `tcp`: a connection must open. */
  type: 'http' | 'tcp';
  path: string;
  /** Consecutive passing checks needed. */
  successes: number;
  /** Consecutive failing checks that count as unhealthy once a target serves (bake window). */
  failures: number;
  intervalMs: number;
  timeoutMs: number;
}

export const DEFAULT_HEALTH: HealthOptions = {
  type: 'http',
  path: '/up',
  successes: 2,
  failures: 2,
  intervalMs: 1_000,
  timeoutMs: 5_000,
};

export interface CheckResult {
  ok: boolean;
  /** Why it failed (status code, error), for status and events. */
  detail: string;
}

/** One check of `address` ("host:port"). Never throws. */
export async function checkOnce(address: string, options: HealthOptions): Promise<CheckResult> {
  return options.type === 'tcp' ? checkTcp(address, options.timeoutMs) : checkHttp(address, options);
}

async function checkHttp(address: string, options: HealthOptions): Promise<CheckResult> {
  // A fresh connection per check: a check must see what a new client sees, and never counts as traffic.
  const client = new Client(`http://${address}`, {
    connect: { timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  client.on('connectionError', () => {});
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const answer = await client.request({
      path: options.path,
      method: 'GET',
      headers: { 'user-agent': 'front-door-health' },
      signal,
    });
    await answer.body.dump({ limit: 64 * 1024, signal });
    if (answer.statusCode >= 200 && answer.statusCode < 300) return { ok: true, detail: `HTTP ${answer.statusCode}` };
    return { ok: false, detail: `GET ${options.path} answered ${answer.statusCode}` };
  } catch (err) {
    return { ok: false, detail: `GET ${options.path} failed: ${describe(err)}` };
  } finally {
    void client.destroy().catch(() => {});
  }
}

function checkTcp(address: string, timeoutMs: number): Promise<CheckResult> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, detail: `TCP connect timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, detail: 'TCP connected' });
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `TCP connect failed: ${describe(err)}` });
    });
  });
}

export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  let host = address.slice(0, at);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(at + 1)) };
}

function describe(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: string; message?: string; name?: string };
    if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out';
    return e.code ? `${e.code}` : (e.message ?? String(err));
  }
  return String(err);
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * The gate: check until `successes` consecutive checks pass (resolves ok) or `deadlineMs` passes (resolves with
 * the last failure). A target is sent no request before this resolves ok.
 */
export async function waitHealthy(
  address: string,
  options: HealthOptions,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<CheckResult & { checks: number }> {
  const until = Date.now() + deadlineMs;
  let streak = 0;
  let checks = 0;
  for (;;) {
    if (signal?.aborted) return { ok: false, detail: 'cancelled', checks };
    const started = Date.now();
    const last = await checkOnce(address, options);
    checks++;
    streak = last.ok ? streak + 1 : 0;
    if (streak >= options.successes) return { ...last, checks };
    // A passing check is followed quickly by the confirming ones, so a healthy target is routed fast.
    const wait = last.ok ? Math.min(options.intervalMs, 100) : Math.max(0, started + options.intervalMs - Date.now());
    if (Date.now() + wait >= until) {
      return { ok: false, detail: `not healthy within ${deadlineMs} ms: ${last.detail}`, checks };
    }
    await sleep(wait, signal);
  }
}

/** Checks a serving target every interval; calls `onUnhealthy` once after `failures` consecutive failures. */
export class HealthWatch {
  private readonly controller = new AbortController();
  constructor(
    private readonly address: string,
    private readonly options: HealthOptions,
    private readonly onUnhealthy: (detail: string) => void,
  ) {
    void this.run();
  }

  private async run(): Promise<void> {
    let failed = 0;
    while (!this.controller.signal.aborted) {
      await sleep(this.options.intervalMs, this.controller.signal);
      if (this.controller.signal.aborted) return;
      const result = await checkOnce(this.address, this.options);
      if (this.controller.signal.aborted) return;
      failed = result.ok ? 0 : failed + 1;
      if (failed >= this.options.failures) {
        this.onUnhealthy(`${failed} checks failed in a row: ${result.detail}`);
        return;
      }
    }
  }

  stop(): void {
    this.controller.abort();
  }
}
