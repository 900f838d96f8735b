import http from 'node:http';

/** One request of a load: when it was sent and answered (performance.now()), its 200 body, or what went wrong. */
export interface Outcome {
  sentAt: number;
  doneAt: number;
  body: string | null;
  error: string | null;
}

/**
 * Keep-alive load on a loopback port (or `host`'s: a test swarm node's address, reached over its namespace's veth):
 * `clients` requests at a time, each client sending its next as soon as its last answered, until stopped (bounded
 * by count and time).
 */
export function load(
  port: number,
  { clients = 8, maxPerClient = 20_000, maxMs = 60_000, host = '127.0.0.1' } = {},
): { outcomes: Outcome[]; stop: () => Promise<Outcome[]> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const outcomes: Outcome[] = [];
  let stopped = false;
  const started = Date.now();
  const once = (): Promise<Outcome> =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      let settled = false;
      const done = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        outcomes.push(outcome);
        resolve(outcome);
      };
      const req = http.get({ host, port, path: '/', agent, timeout: 5_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () =>
          done({
            sentAt,
            doneAt: performance.now(),
            body: res.statusCode === 200 ? body.trim() : null,
            error: res.statusCode === 200 ? null : `HTTP ${res.statusCode}`,
          }),
        );
        res.on('error', (err) => done({ sentAt, doneAt: performance.now(), body: null, error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) =>
        done({
          sentAt,
          doneAt: performance.now(),
          body: null,
          error: (err as NodeJS.ErrnoException).code ?? err.message,
        }),
      );
    });
  const runners = Array.from({ length: clients }, async () => {
    for (let i = 0; i < maxPerClient && !stopped && Date.now() - started < maxMs; i++) {
      const outcome = await once();
      // A refused connection comes back at once: pause a little after a failure, as a real client would, rather
      // than spin and starve the engine (and the door starting) of this machine's two CPUs.
      if (outcome.error) await new Promise((r) => setTimeout(r, 20));
    }
  });
  return {
    outcomes,
    stop: async () => {
      stopped = true;
      await Promise.all(runners);
      agent.destroy();
      return outcomes;
    },
  };
}
