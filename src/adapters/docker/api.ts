import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
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

  constructor(endpoint: Endpoint, env: Record<string, string | undefined>) {
    this.endpoint = endpoint;
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
        ? new https.Agent({ keepAlive: true, ca: tls?.ca, cert: tls?.cert, key: tls?.key, rejectUnauthorized: tls?.verify ?? true, ...(tls && !tls.verify ? { checkServerIdentity: () => undefined } : {}) })
        : new http.Agent({ keepAlive: true });
      this.base = { host: url.hostname, port: Number(url.port) || (secure ? 2376 : 2375) };
      this.client = (secure ? https.request : http.request) as typeof http.request;
    } else {
      throw new Error(`unsupported endpoint ${endpoint.url}`);
    }
  }

  /** Sends a request; resolves with the response once its headers arrive (any status). */
  private send(method: string, path: string, options: { query?: Query; body?: Buffer | Readable | undefined; headers?: Record<string, string>; signal?: AbortSignal; versioned?: boolean } = {}): Promise<IncomingMessage> {
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
      req.on('response', resolve);
      req.on('error', reject);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (error) => req.destroy(error));
        body.pipe(req);
      }
    });
  }

  private async failure(res: IncomingMessage): Promise<never> {
    const text = (await readAll(res)).toString('utf8');
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new ApiError(res.statusCode ?? 0, message || `HTTP ${res.statusCode}`);
  }

  /** A JSON answer (or null for an empty 2xx body). */
  async json<T>(method: string, path: string, options: { query?: Query; body?: unknown; versioned?: boolean } = {}): Promise<T> {
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const res = await this.send(method, path, { query: options.query, body, headers: body ? { 'Content-Type': 'application/json' } : {}, versioned: options.versioned ?? true });
    if ((res.statusCode ?? 0) >= 300 && res.statusCode !== 304) return this.failure(res);
    const text = (await readAll(res)).toString('utf8');
    return (text.trim() === '' ? null : JSON.parse(text)) as T;
  }

  /** The answer as a stream (build output, events, logs, archives); errors before the body are thrown. */
  async stream(method: string, path: string, options: { query?: Query; body?: Buffer | Readable; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<IncomingMessage> {
    const res = await this.send(method, path, options);
    if ((res.statusCode ?? 0) >= 300) return this.failure(res);
    return res;
  }

  /** The whole answer as bytes. */
  async buffer(method: string, path: string, options: { query?: Query } = {}): Promise<Buffer> {
    return readAll(await this.stream(method, path, options));
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
