// Health checks of one upstream address: HTTP (GET of a path must answer 2xx) or a TCP connect. The gate and the
// watch that run them are release.ts's.
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
