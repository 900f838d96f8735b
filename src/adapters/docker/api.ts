import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex, Readable } from 'node:stream';
import type { Endpoint } from './endpoint.js';
import { SshDialAgent } from './ssh.js';

// Loaded through require: the ESM namespace of node:http pulls in much more (undici) and costs ~30 ms of
// start-up on these machines, against ~5 ms this way.
const require = createRequire(import.meta.url);
const http = require('node:http') as typeof import('node:http');
const https = require('node:https') as typeof import('node:https');

/** A non-2xx answer of the Engine API: the status code and the engine's own message. */
export class ApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
  }
}

/**
 * The engine accepted the connection (or not even that) and then said nothing for too long: a stuck daemon, a
 * dead ssh tunnel, a proxy that hangs. Its code makes it read as an unreachable engine (exit 13).
 */
export class EngineTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(what: string, ms: number) {
    super(
      `no answer to ${what} within ${ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`}; set DEPLOY_ENGINE_TIMEOUT (e.g. 60s) to wait longer`,
    );
    this.name = 'EngineTimeout';
  }
}

/** How long an engine may stay silent in one request before it is given up on, unless a call says otherwise. */
export const DEFAULT_IDLE_MS = 30_000;

/** DEPLOY_ENGINE_TIMEOUT: "45s", "2m", "1500ms" or plain seconds; the default when unset or unreadable. */
export function idleFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.DEPLOY_ENGINE_TIMEOUT?.trim();
  if (!raw) return DEFAULT_IDLE_MS;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw);
  if (!m) return DEFAULT_IDLE_MS;
  const n = Number(m[1]);
  return Math.max(100, Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000));
}

export type Query = Record<string, string | number | boolean | undefined>;

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const parts = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * The Docker Engine API over HTTP: a unix socket, tcp (with or without TLS), or ssh (an `ssh … docker system
 * dial-stdio` process per connection). A thin client rather than dockerode: dockerode loads gRPC, protobuf and
 * ssh2 at import (~130 ms a command here) for features this tool does not use, and the tool already owns the
 * transports. Connections are kept alive and reused, as the docker CLI does.
 */
export class EngineApi {
  private readonly endpoint: Endpoint;
  private readonly agent: Agent;
  private readonly base: RequestOptions;
  private readonly client: typeof http.request;
  /** "/v1.41", once the version is agreed. */
  prefix = '';
  /** How long a request may go without a byte either way (connect, first byte, between bytes of a body). */
  readonly idleMs: number;

  constructor(endpoint: Endpoint, env: Record<string, string | undefined>) {
    this.endpoint = endpoint;
    this.idleMs = idleFromEnv(env);
    const url = new URL(endpoint.url);
    if (url.protocol === 'unix:') {
      this.agent = new http.Agent({ keepAlive: true });
      this.base = { socketPath: decodeURIComponent(url.pathname) };
      this.client = http.request;
    } else if (url.protocol === 'ssh:') {
      this.agent = new SshDialAgent(endpoint.url, env);
      this.base = { host: 'localhost' };
      this.client = http.request;
    } else if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
      const tls = endpoint.tls;
      const secure = Boolean(tls) || url.protocol === 'https:';
      this.agent = secure
        ? new https.Agent({
            keepAlive: true,
            ca: tls?.ca,
            cert: tls?.cert,
            key: tls?.key,
            rejectUnauthorized: tls?.verify ?? true,
            ...(tls && !tls.verify ? { checkServerIdentity: () => undefined } : {}),
          })
        : new http.Agent({ keepAlive: true });
      this.base = { host: url.hostname, port: Number(url.port) || (secure ? 2376 : 2375) };
      this.client = (secure ? https.request : http.request) as typeof http.request;
    } else {
      throw new Error(`unsupported endpoint ${endpoint.url}`);
    }
  }

  /**
   * Sends a request; resolves with the response once its headers arrive (any status). A request that goes `idleMs`
   * without a byte either way (connecting, uploading, waiting for the answer) fails with EngineTimeout; 0 waits
   * as long as it takes (a stop with its own grace period, a wait for an event).
   */
  private send(
    method: string,
    path: string,
    options: {
      query?: Query;
      body?: Buffer | Readable | undefined;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      versioned?: boolean;
      idleMs?: number;
    } = {},
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...options.headers };
      const body = options.body;
      if (Buffer.isBuffer(body)) headers['Content-Length'] = body.length;
      const req: ClientRequest = this.client({
        ...this.base,
        agent: this.agent,
        method,
        path: `${options.versioned === false ? '' : this.prefix}${path}${queryString(options.query)}`,
        headers,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const idle = options.idleMs ?? this.idleMs;
      let timer: NodeJS.Timeout | null = null;
      const arm = () => {
        if (idle <= 0) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => req.destroy(new EngineTimeout(`${method} ${path}`, idle)), idle);
      };
      const disarm = () => {
        if (timer) clearTimeout(timer);
        timer = null;
      };
      arm();
      req.on('response', (res) => {
        disarm();
        resolve(res);
      });
      req.on('error', (error) => {
        disarm();
        reject(error);
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (error) => req.destroy(error));
        // An upload in progress is the engine taking bytes: it is not silent.
        body.on('data', arm);
        body.pipe(req);
      }
    });
  }

  /** Reads a whole answer, giving up when the engine goes silent for `idleMs` between bytes. */
  private read(res: IncomingMessage, what: string, idleMs = this.idleMs): Promise<Buffer> {
    if (idleMs <= 0) return readAll(res);
    let timer = setTimeout(() => res.destroy(new EngineTimeout(what, idleMs)), idleMs);
    res.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(() => res.destroy(new EngineTimeout(what, idleMs)), idleMs);
    });
    return readAll(res).finally(() => clearTimeout(timer));
  }

  private async failure(res: IncomingMessage): Promise<never> {
    const text = (await this.read(res, 'an error answer')).toString('utf8');
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.statusCode ?? 0, message || `HTTP ${res.statusCode}`);
  }

  /** A JSON answer (or null for an empty 2xx body). */
  async json<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; versioned?: boolean; idleMs?: number } = {},
  ): Promise<T> {
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const res = await this.send(method, path, {
      query: options.query,
      body,
      headers: body ? { 'Content-Type': 'application/json' } : {},
      versioned: options.versioned ?? true,
      ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
    });
    if ((res.statusCode ?? 0) >= 300 && res.statusCode !== 304) return this.failure(res);
    const text = (await this.read(res, `${method} ${path}`, options.idleMs)).toString('utf8');
    return (text.trim() === '' ? null : JSON.parse(text)) as T;
  }

  /** The answer as a stream (build output, events, logs, archives); errors before the body are thrown. */
  async stream(
    method: string,
    path: string,
    options: {
      query?: Query;
      body?: Buffer | Readable;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      idleMs?: number;
    } = {},
  ): Promise<IncomingMessage> {
    const res = await this.send(method, path, options);
    if ((res.statusCode ?? 0) >= 300) return this.failure(res);
    return res;
  }

  /** The whole answer as bytes. */
  async buffer(method: string, path: string, options: { query?: Query } = {}): Promise<Buffer> {
    return this.read(await this.stream(method, path, options), `${method} ${path}`);
  }

  /**
   * Asks the engine to hand a connection over to another protocol (`POST /session` with `Upgrade: h2c`, as the
   * docker CLI's DialHijack does), over the same transport as every other request (unix socket, tcp/TLS, ssh).
   * Resolves once the engine answers 101, with the raw connection and any bytes that came with the answer; the
   * connection then belongs to the caller (the agent no longer pools it). Any other answer is an ApiError.
   */
  upgrade(
    path: string,
    options: { protocol: string; headers: Record<string, string | string[]>; signal?: AbortSignal },
  ): Promise<{ socket: Duplex; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const req: ClientRequest = this.client({
        ...this.base,
        agent: this.agent,
        method: 'POST',
        path: `${this.prefix}${path}`,
        headers: { ...options.headers, Connection: 'Upgrade', Upgrade: options.protocol },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const timer =
        this.idleMs > 0
          ? setTimeout(() => req.destroy(new EngineTimeout(`POST ${path}`, this.idleMs)), this.idleMs)
          : null;
      const settle = () => {
        if (timer) clearTimeout(timer);
      };
      req.on('upgrade', (_res, socket: Duplex, head: Buffer) => {
        settle();
        resolve({ socket, head });
      });
      req.on('response', (res) => {
        settle();
        if ((res.statusCode ?? 0) >= 300) {
          this.failure(res).catch(reject);
          return;
        }
        // A 2xx that does not switch protocols has opened nothing either.
        res.resume();
        reject(
          new ApiError(res.statusCode ?? 0, `the engine answered ${path} without switching to ${options.protocol}`),
        );
      });
      req.on('error', (error) => {
        settle();
        reject(error);
      });
      req.end();
    });
  }

  /** Closes idle kept-alive connections (ssh processes included), so the process can exit promptly. */
  close(): void {
    this.agent.destroy();
  }
}

export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
