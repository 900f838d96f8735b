// One upstream (one release of an app): forwards requests through undici, tracks what is in flight, drains.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { Pool, errors as undiciErrors } from 'undici';
import { page, rawPage } from './pages.js';
import { clientAddress } from './proxy-header.js';

/** What a request through the front door knows about how it arrived. */
export interface Arrival {
  proto: 'http' | 'https';
  /** Trust X-Forwarded-* sent by the client (only when another proxy stands in front of this one). */
  trustForwarded: boolean;
}

/**
 * `request`: sent (or being sent) upstream, no response headers yet. `stream`: the response has started (a body
 * being copied, an SSE stream, a download) or the connection was upgraded (WebSocket, raw TCP).
 */
export type FlowKind = 'request' | 'stream';

interface Flow {
  kind: FlowKind;
  /** Cut it: the drain deadline for its kind has passed. */
  cut(): void;
}

/** `retry`: the connection to the upstream never opened and no byte of the request body was read. */
export type ForwardOutcome = 'done' | 'retry';

export interface TargetOptions {
  /** How long to wait for the upstream's response headers before answering 504. */
  responseTimeoutMs: number;
  connectTimeoutMs: number;
}

export const DEFAULT_TARGET_OPTIONS: TargetOptions = { responseTimeoutMs: 30_000, connectTimeoutMs: 5_000 };

// Hop-by-hop headers (RFC 9110 7.6.1) and those undici sets itself (it refuses them in `headers`).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/** The request headers to send upstream, as a flat [name, value, ...] list (duplicates kept). */
export function upstreamHeaders(
  rawHeaders: string[],
  remoteAddress: string,
  arrival: Arrival,
  { keepUpgrade = false }: { keepUpgrade?: boolean } = {},
): string[] {
  const connectionListed = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'connection') {
      for (const token of rawHeaders[i + 1]!.split(',')) connectionListed.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  const seen: Record<string, string> = {};
  let host = '';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'host') host = value;
    if (FORWARDED.has(lower)) {
      if (arrival.trustForwarded) seen[lower] = seen[lower] ? `${seen[lower]}, ${value}` : value;
      continue;
    }
    if (HOP_BY_HOP.has(lower) || (connectionListed.has(lower) && !(keepUpgrade && lower.startsWith('sec-websocket')))) {
      continue;
    }
    out.push(name, value);
  }
  const forwardedFor = seen['x-forwarded-for'] ? `${seen['x-forwarded-for']}, ${remoteAddress}` : remoteAddress;
  out.push('x-forwarded-for', forwardedFor);
  out.push('x-forwarded-proto', seen['x-forwarded-proto'] ?? arrival.proto);
  if (seen['x-forwarded-host'] ?? host) out.push('x-forwarded-host', seen['x-forwarded-host'] ?? host);
  return out;
}

/** The response headers to send to the client: hop-by-hop ones dropped, everything else as the app sent it. */
export function downstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const connectionListed = new Set<string>();
  const connection = headers['connection'];
  for (const value of Array.isArray(connection) ? connection : connection ? [connection] : []) {
    for (const token of value.split(',')) connectionListed.add(token.trim().toLowerCase());
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionListed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/** Did this error happen before a connection to the upstream was open (so the app saw nothing)? */
export function isConnectError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; syscall?: unknown };
  return (typeof e.code === 'string' && CONNECT_ERROR_CODES.has(e.code)) || e.syscall === 'connect';
}

export class Target {
  readonly address: string;
  private readonly pool: Pool;
  private readonly flows = new Set<Flow>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    address: string,
    private readonly options: TargetOptions = DEFAULT_TARGET_OPTIONS,
  ) {
    this.address = address;
    this.pool = new Pool(`http://${address}`, {
      headersTimeout: options.responseTimeoutMs,
      bodyTimeout: 0, // SSE and long polls may stay silent for a long time: the client decides when to give up
      keepAliveTimeout: 4_000,
      connect: { timeout: options.connectTimeoutMs },
    });
    // A pool emits 'connectionError' for each failed connect; the request that asked for it gets the error too.
    this.pool.on('connectionError', () => {});
  }

  /** What is running through this target now. */
  inflight(): { requests: number; streams: number } {
    let requests = 0;
    let streams = 0;
    for (const flow of this.flows) {
      if (flow.kind === 'request') requests++;
      else streams++;
    }
    return { requests, streams };
  }

  /** How many requests, streams and connections run through it now (balancing: least first). */
  load(): number {
    return this.flows.size;
  }

  /** Keep a flow (request, tunnel, TCP connection) counted until `done` is called. */
  track(kind: FlowKind, cut: () => void): { flow: Flow; done: () => void } {
    const flow: Flow = { kind, cut };
    this.flows.add(flow);
    let finished = false;
    return {
      flow,
      done: () => {
        if (finished) return;
        finished = true;
        this.flows.delete(flow);
        if (this.flows.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const wake of waiters) wake();
        }
      },
    };
  }

  /** Forward one HTTP request. Answers the client itself, except when the outcome is `retry`. */
  async forward(req: IncomingMessage, res: ServerResponse, arrival: Arrival): Promise<ForwardOutcome> {
    const controller = new AbortController();
    let cutByDrain = false;
    const { flow, done } = this.track('request', () => {
      cutByDrain = true;
      controller.abort(new Error('drain deadline passed'));
      if (res.headersSent) res.destroy();
    });
    const onClientGone = (): void => {
      if (!res.writableFinished) controller.abort(new Error('client went away'));
    };
    res.once('close', onClientGone);
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    const body = hasBody ? lazyBody(req) : null;
    try {
      // undici writes the body straight into `res` (no intermediate stream), and destroys it if the upstream
      // breaks off mid-body; a client that goes away destroys `res`, which aborts the upstream request.
      await this.pool.stream(
        {
          path: req.url ?? '/',
          method: req.method as 'GET',
          headers: upstreamHeaders(req.rawHeaders, clientAddress(req.socket) ?? '', arrival),
          body: body ? body.stream : null,
          signal: controller.signal,
          // Not known to be safe to repeat: nothing is pipelined behind it on the same upstream connection.
          idempotent: false,
        },
        ({ statusCode, headers }) => {
          flow.kind = 'stream';
          res.writeHead(statusCode, downstreamHeaders(headers));
          return res;
        },
      );
      return 'done';
    } catch (err) {
      if (res.headersSent || res.destroyed || controller.signal.aborted) {
        if (!res.headersSent && !res.destroyed && cutByDrain) send(res, 'gateway-timeout');
        else res.destroy();
        return 'done';
      }
      if (isConnectError(err) && !(body?.started() ?? false) && !req.destroyed) return 'retry';
      send(res, isTimeout(err) ? 'gateway-timeout' : 'bad-gateway');
      return 'done';
    } finally {
      res.off('close', onClientGone);
      done();
    }
  }

  /** Forward an HTTP upgrade (WebSocket): ask the upstream, then pipe the raw sockets both ways. */
  async upgrade(req: IncomingMessage, client: Duplex, head: Buffer, arrival: Arrival): Promise<ForwardOutcome> {
    const controller = new AbortController();
    const { flow, done } = this.track('request', () => {
      controller.abort(new Error('drain deadline passed'));
      client.destroy();
    });
    const onClientGone = (): void => controller.abort(new Error('client went away'));
    client.once('close', onClientGone);
    try {
      const answer = await dispatchUpgrade(this.pool, {
        path: req.url ?? '/',
        method: req.method ?? 'GET',
        headers: upstreamHeaders(req.rawHeaders, clientAddress(req.socket) ?? '', arrival, { keepUpgrade: true }),
        protocol: req.headers.upgrade ?? 'websocket',
        signal: controller.signal,
      });
      client.off('close', onClientGone);
      if (!answer.upgraded) {
        // The app said no (401, 403, 426...): its answer goes to the client as it is.
        const headers = downstreamHeaders(answer.headers);
        delete headers['content-length'];
        client.end(
          Buffer.concat([
            Buffer.from(
              rawHead(answer.statusCode, answer.statusMessage, {
                ...headers,
                'content-length': String(answer.body.length),
                connection: 'close',
              }),
            ),
            answer.body,
          ]),
        );
        return 'done';
      }
      const { headers, socket: upstream } = answer;
      flow.kind = 'stream';
      flow.cut = () => {
        client.destroy();
        upstream.destroy();
      };
      client.write(rawHead(101, 'Switching Protocols', headers));
      if (head.length > 0) upstream.write(head);
      await new Promise<void>((resolve) => {
        let open = 2;
        const end = (): void => {
          if (--open === 0) resolve();
        };
        const teardown = (): void => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', teardown);
        upstream.on('error', teardown);
        client.once('close', () => {
          upstream.destroy();
          end();
        });
        upstream.once('close', () => {
          client.destroy();
          end();
        });
        client.pipe(upstream);
        upstream.pipe(client);
      });
      return 'done';
    } catch (err) {
      client.off('close', onClientGone);
      if (client.destroyed || controller.signal.aborted) {
        client.destroy();
        return 'done';
      }
      // `head` (bytes after the request's headers) was not sent yet: it goes with the retry.
      if (isConnectError(err)) return 'retry';
      client.end(rawPage(isTimeout(err) ? 'gateway-timeout' : 'bad-gateway'));
      return 'done';
    } finally {
      done();
    }
  }

  /**
   * Wait for what is in flight to finish. Requests still waiting for their response at `drainMs` are answered
   * 504; streams (SSE, downloads, tunnels, TCP) are left running until `streamDrainMs`, then cut. An abort of
   * `signal` (the target is routed to again) stops the deadlines and resolves at once.
   */
  async drain(
    drainMs: number,
    streamDrainMs: number,
    signal?: AbortSignal,
  ): Promise<{ cutRequests: number; cutStreams: number; cancelled: boolean }> {
    let cutRequests = 0;
    let cutStreams = 0;
    const cutAll = (kind: FlowKind): number => {
      let n = 0;
      for (const flow of [...this.flows]) {
        if (flow.kind === kind) {
          flow.cut();
          n++;
        }
      }
      return n;
    };
    const timers: NodeJS.Timeout[] = [];
    let wake: (() => void) | undefined;
    const finished = new Promise<void>((resolve) => {
      wake = resolve;
      if (this.flows.size === 0) resolve();
      else this.idleWaiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    timers.push(
      setTimeout(() => {
        cutRequests += cutAll('request');
      }, drainMs),
      setTimeout(
        () => {
          cutStreams += cutAll('stream');
          cutRequests += cutAll('request');
          wake?.();
        },
        Math.max(drainMs, streamDrainMs),
      ),
    );
    await finished;
    for (const timer of timers) clearTimeout(timer);
    this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
    return { cutRequests, cutStreams, cancelled: signal?.aborted ?? false };
  }

  /** Close the connection pool (after a drain); anything still open is cut. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const flow of [...this.flows]) flow.cut();
    await this.pool.destroy().catch(() => {});
  }
}

/** A raw HTTP/1.1 response head, for upgraded (or refused) connections where there is no ServerResponse. */
export function rawHead(
  status: number,
  message: string,
  headers: Record<string, string | string[] | undefined>,
): string {
  let text = `HTTP/1.1 ${status} ${message.replace(/[\r\n]/g, '')}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) text += `${name}: ${v}\r\n`;
  }
  return `${text}\r\n`;
}

type UpgradeAnswer =
  | { upgraded: true; headers: Record<string, string | string[] | undefined>; socket: Duplex }
  | {
      upgraded: false;
      statusCode: number;
      statusMessage: string;
      headers: Record<string, string | string[] | undefined>;
      body: Buffer;
    };

const MAX_REFUSAL_BODY = 64 * 1024;

/**
 * Ask the upstream for an upgrade. Unlike undici's `upgrade()`, which fails on any answer but 101, an app's refusal
 * (with its status, headers and a body up to 64 KiB) is returned, to be passed on.
 */
function dispatchUpgrade(
  pool: Pool,
  options: { path: string; method: string; headers: string[]; protocol: string; signal: AbortSignal },
): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    let refusal: {
      statusCode: number;
      statusMessage: string;
      headers: Record<string, string | string[] | undefined>;
    } | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    let abort: ((reason: Error) => void) | null = null;
    const onAbort = (): void => abort?.(options.signal.reason as Error);
    options.signal.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => options.signal.removeEventListener('abort', onAbort);
    pool.dispatch(
      { path: options.path, method: options.method as 'GET', headers: options.headers, upgrade: options.protocol },
      {
        onRequestStart(controller) {
          abort = (reason) => controller.abort(reason);
          if (options.signal.aborted) controller.abort(options.signal.reason as Error);
        },
        onRequestUpgrade(_controller, _statusCode, headers, socket) {
          settle();
          resolve({ upgraded: true, headers, socket });
        },
        onResponseStart(_controller, statusCode, headers, statusMessage) {
          refusal = { statusCode, statusMessage: statusMessage ?? '', headers };
        },
        onResponseData(controller, chunk) {
          size += chunk.length;
          if (size > MAX_REFUSAL_BODY)
            controller.abort(new Error('the app refused the upgrade with a body over 64 KiB'));
          else chunks.push(chunk);
        },
        onResponseEnd() {
          settle();
          if (refusal) resolve({ upgraded: false, ...refusal, body: Buffer.concat(chunks) });
          else reject(new Error('the app answered the upgrade with nothing'));
        },
        onResponseError(_controller, err) {
          settle();
          reject(err);
        },
      },
    );
  });
}

/**
 * The request body as undici reads it, without touching `req` until undici asks for the first byte (that is, once
 * the connection is open): a failed connect then leaves `req` unread, so the request can go to another target.
 */
function lazyBody(req: IncomingMessage): { stream: Readable; started: () => boolean } {
  let started = false;
  const stream = new Readable({
    read() {
      if (started) {
        req.resume();
        return;
      }
      started = true;
      req.on('data', (chunk: Buffer) => {
        if (!stream.push(chunk)) req.pause();
      });
      req.once('end', () => stream.push(null));
      req.once('error', (err) => stream.destroy(err));
    },
  });
  return { stream, started: () => started };
}

function isTimeout(err: unknown): boolean {
  return (
    err instanceof undiciErrors.HeadersTimeoutError || (err as { code?: string })?.code === 'UND_ERR_HEADERS_TIMEOUT'
  );
}

export function send(res: ServerResponse, kind: Parameters<typeof page>[0]): void {
  const answer = page(kind);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.end(res.req?.method === 'HEAD' ? undefined : answer.body);
}
