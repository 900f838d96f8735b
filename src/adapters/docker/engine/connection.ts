import type { Readable } from 'node:stream';
import { DeployError } from '../../../core/errors.js';
import { ApiError, EngineApi } from '../api.js';
import type { Endpoint } from '../endpoint.js';

/** The newest Engine API this tool speaks; older engines are met at their own version. */
const CLIENT_API_VERSION = '1.45';

/** How long a first /_ping may go unanswered (DEPLOY_ENGINE_TIMEOUT, when set, decides instead). */
const PING_IDLE_MS = 10_000;

/** One connection to an engine at an agreed API version: what every part of the engine client calls through. */
export class EngineConnection {
  readonly endpoint: Endpoint;
  readonly apiVersion: string;
  readonly api: EngineApi;

  private constructor(endpoint: Endpoint, api: EngineApi, apiVersion: string) {
    this.endpoint = endpoint;
    this.api = api;
    this.apiVersion = apiVersion;
  }

  /**
   * Connects and agrees on an API version (the older of the engine's and ours, or DOCKER_API_VERSION). An
   * aborted signal gives up at once and closes what was opened (an ssh process among it).
   */
  static async open(
    endpoint: Endpoint,
    env: Record<string, string | undefined>,
    signal?: AbortSignal,
  ): Promise<EngineConnection> {
    const api = new EngineApi(endpoint, env);
    let serverVersion: string;
    try {
      // /_ping answers in well under a millisecond with the version in a header; /version asks containerd too.
      // A ping that hangs is an engine a person should hear about in seconds, not minutes.
      const ping = await api.stream('GET', '/_ping', {
        idleMs: env.DEPLOY_ENGINE_TIMEOUT ? api.idleMs : PING_IDLE_MS,
        ...(signal ? { signal } : {}),
      });
      ping.resume();
      const header = ping.headers['api-version'];
      serverVersion = typeof header === 'string' && /^\d+\.\d+$/.test(header) ? header : '1.24';
    } catch (error) {
      api.close();
      throw unreachable(endpoint, error);
    }
    const version =
      endpoint.apiVersion ??
      (compareVersions(serverVersion, CLIENT_API_VERSION) < 0 ? serverVersion : CLIENT_API_VERSION);
    api.prefix = `/v${version}`;
    return new EngineConnection(endpoint, api, version);
  }

  /** Lets the process end: idle connections (and ssh processes) are closed. */
  close(): void {
    this.api.close();
  }

  /** Wraps an Engine API call: a lost connection becomes "Docker unreachable", naming the endpoint. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof DeployError) throw error;
      if (!(error instanceof ApiError) && isConnectionError(error)) throw unreachable(this.endpoint, error);
      if (error instanceof ApiError) throw new ApiError(error.statusCode, `${what}: ${error.message}`);
      throw error;
    }
  }
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiError ? error.statusCode : undefined;
}

/** Engine label filters: `key=value`, or just `key` (null value) for "has this label". */
export function labelFilters(labels: Record<string, string | null>): string {
  return JSON.stringify({ label: Object.entries(labels).map(([k, v]) => (v === null ? k : `${k}=${v}`)) });
}

/** Splits a newline-delimited JSON stream (build output, events) into parsed objects. */
export function jsonLines(
  stream: Readable,
  onObject: (o: Record<string, unknown>) => void,
  onText?: (line: string) => void,
): void {
  let buffered = '';
  const handle = (line: string) => {
    if (line.trim() === '') return;
    try {
      onObject(JSON.parse(line) as Record<string, unknown>);
    } catch {
      onText?.(line);
    }
  };
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(handle);
  });
  stream.on('end', () => handle(buffered));
}

export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return (
    [
      'ECONNREFUSED',
      'ENOENT',
      'EACCES',
      'EPERM',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENOTFOUND',
      'ENOTSOCK',
      'EPROTO',
      'ESSH',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'CERT_HAS_EXPIRED',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
    ].includes(code ?? '') || /socket hang up|certificate|ssl|tls/i.test((error as Error).message ?? '')
  );
}

export function unreachable(endpoint: Endpoint, error: unknown): DeployError {
  const code = (error as { code?: string }).code;
  const reason =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied on the socket'
      : code === 'ENOENT'
        ? 'no socket there'
        : code === 'ECONNREFUSED'
          ? 'connection refused'
          : ((error as Error).message ?? String(error));
  const url = endpoint.url;
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? 'Run as a user allowed to use Docker (the "docker" group), or choose another engine with --context or DOCKER_HOST.'
      : code === 'ESSH'
        ? `Check that "ssh ${url.replace(/^ssh:\/\//, '')}" works without a prompt (keys, agent, known_hosts) and that docker runs there.`
        : /certificate|ssl|tls/i.test(reason)
          ? 'Check the TLS certificates: DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) or those of the docker context.'
          : url.startsWith('unix:')
            ? 'Start the engine (dockerd, or systemctl start docker), or choose another one with --context, --host or DOCKER_HOST.'
            : 'Check that the engine runs there and is reachable, or choose another one with --context, --host or DOCKER_HOST.';
  return new DeployError('docker_unreachable', `Cannot reach the Docker Engine at ${url} (${reason}).`, {
    hint,
    details: { endpoint: url },
    cause: error,
  });
}
