import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { registryOf } from '../../core/image-ref.js';
import { protobufBytesField, protobufFields, protobufVarintField } from '../../core/protobuf.js';
import type { EngineApi } from './api.js';
import type { RegistryAuth } from './engine/types.js';

// Loaded only when a build has secrets or registry credentials (engine/builds.ts imports this module lazily).
const http2 = createRequire(import.meta.url)('node:http2') as typeof import('node:http2');

/**
 * A BuildKit build session, as the docker CLI opens one (moby/buildkit session/session.go): `POST /session`
 * upgraded to h2c, after which the engine is the gRPC *client* on that connection and this process the gRPC
 * *server*. The build names the session (`session=ID` on `POST /build`) and BuildKit asks it for what the build
 * needs from the client: secrets (`RUN --mount=type=secret`), registry credentials (a private base image, or
 * `--pull` from a private registry), and whether the session is alive.
 *
 *   moby.buildkit.secrets.v1.Secrets/GetSecret  GetSecretRequest { string ID = 1; map<string,string> annotations = 2; }
 *                                                GetSecretResponse { bytes data = 1; }
 *   moby.filesync.v1.Auth/Credentials            CredentialsRequest { string Host = 1; }
 *                                                CredentialsResponse { string Username = 1; string Secret = 2; }
 *   grpc.health.v1.Health/Check                  HealthCheckRequest { string service = 1; }
 *                                                HealthCheckResponse { ServingStatus status = 1; }  SERVING = 1
 *
 * An engine of Docker 20.10 checks the session's health every second and drops the session at the first
 * failed check; a newer one every 5 s, after two failures.
 */
export const GET_SECRET = '/moby.buildkit.secrets.v1.Secrets/GetSecret';
export const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
/**
 * Registry credentials for a host BuildKit pulls from. Only this method of the Auth service is offered: BuildKit
 * falls back to it from FetchToken and GetTokenAuthority (UNIMPLEMENTED here) and does the token exchange itself.
 */
export const AUTH_CREDENTIALS = '/moby.filesync.v1.Auth/Credentials';

/** A registry's credentials, looked up when BuildKit asks (registry as image references name it: docker.io, ghcr.io). */
export type CredentialLookup = (registry: string) => Promise<RegistryAuth | null>;

/** The gRPC status codes this server answers with. */
export const GRPC_STATUS = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
} as const;

/** A request larger than this is not one of ours (a GetSecretRequest is an id and a few annotations). */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface GrpcAnswer {
  status: number;
  /** The response message (status OK), without gRPC framing. */
  message?: Buffer;
  /** Why, for any other status: what the engine puts in its error. Never a secret's value. */
  error?: string;
}

/** The gRPC length-prefixed message: a compression flag, 4 bytes of length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/**
 * What a call to `method` with this request body (a gRPC-framed unary request) gets back: a secret by its id
 * (NOT_FOUND for an id the build was not given, so a `required` mount fails and an optional one is left out, as
 * BuildKit's own provider answers), SERVING to a health check, UNIMPLEMENTED to anything else.
 */
export function answerCall(method: string, body: Buffer, secrets: ReadonlyMap<string, Buffer>): GrpcAnswer {
  if (method !== GET_SECRET && method !== HEALTH_CHECK)
    return { status: GRPC_STATUS.UNIMPLEMENTED, error: `unknown method ${method}` };
  const message = unframe(body);
  if (!Buffer.isBuffer(message)) return message;
  if (method === HEALTH_CHECK) return { status: GRPC_STATUS.OK, message: protobufVarintField(1, 1) };
  const id = fieldOneText(message);
  if (id === null) return { status: GRPC_STATUS.INVALID_ARGUMENT, error: 'unreadable GetSecretRequest' };
  const data = secrets.get(id);
  if (data === undefined) return { status: GRPC_STATUS.NOT_FOUND, error: `secret ${id} not found` };
  return { status: GRPC_STATUS.OK, message: protobufBytesField(1, data) };
}

/** The request message of a unary call, without its framing; the answer to give instead when it is not one. */
function unframe(body: Buffer): Buffer | GrpcAnswer {
  if (body.length < 5) return { status: GRPC_STATUS.INVALID_ARGUMENT, error: 'no request message' };
  // Nothing here offers compression (no grpc-accept-encoding), so a compressed message is a client's mistake.
  if (body[0] !== 0) return { status: GRPC_STATUS.UNIMPLEMENTED, error: 'compressed messages are not supported' };
  return body.subarray(5, 5 + body.readUInt32BE(1));
}

/**
 * Field 1 of a request message as a string (the secret's id of a GetSecretRequest, the host of a
 * CredentialsRequest; '' when absent, the last when repeated, as protobuf reads it); null when unreadable.
 */
function fieldOneText(message: Buffer): string | null {
  let text = '';
  try {
    for (const [field, wire, value] of protobufFields(message)) {
      if (field === 1 && wire === 2 && Buffer.isBuffer(value)) text = value.toString('utf8');
    }
  } catch {
    return null;
  }
  return text;
}

/**
 * The answer to a Credentials call: the user name and password (or, as the docker CLI answers, an identity token
 * alone as the secret) of the host asked about; empty ones, meaning "pull anonymously", when there are none.
 */
export async function answerCredentials(body: Buffer, lookUp: CredentialLookup): Promise<GrpcAnswer> {
  const message = unframe(body);
  if (!Buffer.isBuffer(message)) return message;
  const host = fieldOneText(message);
  if (host === null) return { status: GRPC_STATUS.INVALID_ARGUMENT, error: 'unreadable CredentialsRequest' };
  // BuildKit names the registry's host (registry-1.docker.io for Docker Hub); the lookup takes the registry.
  const auth = await lookUp(registryOf(`${host}/x`));
  if (!auth) return { status: GRPC_STATUS.OK, message: Buffer.alloc(0) };
  const [user, secret] = auth.identitytoken ? ['', auth.identitytoken] : [auth.username ?? '', auth.password ?? ''];
  return {
    status: GRPC_STATUS.OK,
    message: Buffer.concat([protobufBytesField(1, Buffer.from(user)), protobufBytesField(2, Buffer.from(secret))]),
  };
}

/** grpc-message is percent-encoded: every byte outside printable ASCII, and "%" itself. */
function grpcMessage(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function reply(stream: ServerHttp2Stream, answer: GrpcAnswer): void {
  if (stream.destroyed || stream.closed) return;
  if (answer.status !== GRPC_STATUS.OK || answer.message === undefined) {
    // A trailers-only response: the status travels in the headers and the stream ends there.
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(answer.status),
        'grpc-message': grpcMessage(answer.error ?? ''),
      },
      { endStream: true },
    );
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(grpcFrame(answer.message));
}

/** What a session serves: the build's secrets, and registry credentials when the build may need them. */
export interface SessionServices {
  secrets: ReadonlyMap<string, Buffer>;
  credentials?: CredentialLookup | undefined;
}

function serve(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  services: SessionServices,
  failed: (error: unknown) => void,
): void {
  // A call cut short by the engine (a build cancelled, the engine gone) has no one left to answer.
  stream.on('error', () => undefined);
  const method = String(headers[':path'] ?? '');
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      reply(stream, { status: GRPC_STATUS.RESOURCE_EXHAUSTED, error: 'request too large' });
      stream.destroy();
      return;
    }
    chunks.push(chunk);
  });
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    const lookUp = services.credentials;
    if (method !== AUTH_CREDENTIALS || !lookUp) return reply(stream, answerCall(method, body, services.secrets));
    answerCredentials(body, lookUp).then(
      (answer) => reply(stream, answer),
      (error: unknown) => {
        // The build then fails on the registry's refusal; the reason (a credential helper that failed) is kept for it.
        failed(error);
        reply(stream, {
          status: GRPC_STATUS.UNAVAILABLE,
          error: 'the credentials could not be read (see the error of deploy)',
        });
      },
    );
  });
}

export interface BuildSession {
  /** What `POST /build` takes as `session`. */
  readonly id: string;
  /** Ends the session: the connection is closed and the engine forgets it. Safe to call more than once. */
  close(): void;
  /** Why credentials could not be given when BuildKit asked (a credential helper that failed), if that happened. */
  readonly credentialError: unknown;
}

/**
 * Opens a build session on the engine that serves `secrets` (id → value) until closed. The connection is a new
 * one of the same transport as every other request (unix socket, tcp/TLS, an ssh process), handed over by the
 * engine with 101 Switching Protocols; Node's HTTP/2 server then speaks on it.
 */
export async function openBuildSession(
  api: EngineApi,
  services: SessionServices,
  signal?: AbortSignal,
): Promise<BuildSession> {
  const id = randomBytes(16).toString('hex');
  const { socket, head } = await api.upgrade('/session', {
    protocol: 'h2c',
    headers: {
      'X-Docker-Expose-Session-Uuid': id,
      'X-Docker-Expose-Session-Name': 'deploy',
      // BuildKit keys its cache of a client's local directories by this; a session that sends none needs none.
      'X-Docker-Expose-Session-Sharedkey': id,
      'X-Docker-Expose-Session-Grpc-Method': services.credentials
        ? [HEALTH_CHECK, GET_SECRET, AUTH_CREDENTIALS]
        : [HEALTH_CHECK, GET_SECRET],
    },
    ...(signal ? { signal } : {}),
  });
  // The engine may have started talking HTTP/2 (its preface) in the same read as its 101: give those bytes back.
  if (head.length > 0) socket.unshift(head);
  socket.on('error', () => undefined);
  const server = http2.createServer();
  let credentialError: unknown;
  server.on('stream', (stream, headers) => serve(stream, headers, services, (error) => (credentialError ??= error)));
  server.on('session', (session) => session.on('error', () => undefined));
  server.on('sessionError', () => undefined);
  // Handed to the server as a plain stream: a TLS socket itself would be taken for a TLS client that did not
  // negotiate h2 by ALPN, and dropped (the engine's h2c runs inside TLS, with no ALPN).
  server.emit('connection', Duplex.from({ readable: socket, writable: socket }));
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', close);
    socket.destroy();
    server.close();
  };
  signal?.addEventListener('abort', close, { once: true });
  return {
    id,
    close,
    get credentialError() {
      return credentialError;
    },
  };
}
