import { createRequire } from 'node:module';

// Through require: the ESM namespace of node:http costs ~30 ms of start-up (see docker/api.ts).
const { request } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export interface ProbeResult {
  status: number | null;
  error: string | null;
}

/** One HTTP GET, bounded by timeoutMs; never throws. Used by the health gate. */
export function probe(url: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'deploy-health-check' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? null, error: null }));
        res.on('error', (e) => resolve({ status: res.statusCode ?? null, error: e.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: null, error: e.code ?? e.message }));
    req.end();
  });
}
