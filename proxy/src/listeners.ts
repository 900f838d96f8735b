// The ports the front door listens on: plain HTTP, HTTPS (certificate picked by SNI) or raw TCP; each on a TCP
// address, or on a unix socket behind the relay, reading the PROXY header each connection starts with.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readProxyHeader } from './proxy-header.js';

export type Proto = 'http' | 'https' | 'tcp';

export interface ListenerHandlers {
  request(port: number, proto: 'http' | 'https', req: IncomingMessage, res: ServerResponse): void;
  upgrade(port: number, proto: 'http' | 'https', req: IncomingMessage, socket: Duplex, head: Buffer): void;
  connection(port: number, socket: Socket): void;
  /** The certificate for `servername` on an HTTPS port, or null for the port's default. */
  secureContext(port: number, servername: string): SecureContext | null;
}

/** Where a listener takes its connections: a TCP address, or `${socketsDir}/${port}.sock` behind the relay. */
export type ListenOn = { host: string } | { socketsDir: string };

/** How long a connection on a unix socket may take to send its PROXY header. */
const HEADER_TIMEOUT_MS = 5_000;
/** How long idle keep-alive connections stay open once a listener closes. */
const IDLE_LINGER_MS = 1_000;

export class Listener {
  private constructor(
    readonly port: number,
    readonly proto: Proto,
    /** What accepts the connections: the web server itself on TCP, a unix socket server behind the relay. */
    private readonly server: net.Server,
    private readonly web: http.Server | https.Server | null,
    /** `HOST:PORT` or the socket's path, for logs. */
    readonly where: string,
  ) {}

  static async open(
    on: ListenOn,
    port: number,
    proto: Proto,
    handlers: ListenerHandlers,
    log: (line: string) => void = () => {},
  ): Promise<Listener> {
    let web: http.Server | https.Server | null = null;
    let accept: (socket: Socket) => void;
    if (proto === 'tcp') {
      accept = (socket) => handlers.connection(port, socket);
    } else {
      const onRequest = (req: IncomingMessage, res: ServerResponse): void => handlers.request(port, proto, req, res);
      web =
        proto === 'https'
          ? https.createServer(
              {
                SNICallback: (servername, cb) => cb(null, handlers.secureContext(port, servername) ?? undefined),
              },
              onRequest,
            )
          : http.createServer(onRequest);
      web.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        handlers.upgrade(port, proto, req, socket, head),
      );
      // A client that sends garbage gets a 400 and its connection closed; nothing else is affected.
      web.on('clientError', (_err, socket: Duplex) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
        else socket.destroy();
      });
      // Idle client connections stay open a minute (Node's default is 5 s): fewer reconnects for browsers and for
      // a load balancer in front (nginx keeps them 75 s).
      web.keepAliveTimeout = 60_000;
      const server = web;
      // A connection handed over after its PROXY header is paused with the bytes after the header put back: TLS
      // reads those from the paused socket itself, the HTTP parser needs it flowing.
      accept = (socket) => {
        server.emit('connection', socket);
        if (proto === 'http') socket.resume();
      };
    }
    if ('socketsDir' in on) {
      if (port === 0) throw new Error('port 0 (any free port) cannot be served on a unix socket');
      const path = join(on.socketsDir, `${port}.sock`);
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        readProxyHeader(socket, HEADER_TIMEOUT_MS).then(
          () => accept(socket),
          (err: Error) => log(`${path}: dropped a connection: ${err.message}`),
        );
      });
      mkdirSync(on.socketsDir, { recursive: true });
      rmSync(path, { force: true });
      await listen(server, { path });
      chmodSync(path, 0o600);
      // Node's HTTP server starts tracking its connections (closing idle ones, header and request timeouts) when it
      // starts listening; this one never listens itself (its connections come from the unix socket), so say it does.
      web?.emit('listening');
      return new Listener(port, proto, server, web, path);
    }
    const server = web ?? net.createServer(accept);
    await listen(server, { host: on.host, port });
    const bound = (server.address() as net.AddressInfo).port;
    return new Listener(
      port,
      proto,
      server,
      web,
      on.host.includes(':') ? `[${on.host}]:${bound}` : `${on.host}:${bound}`,
    );
  }

  /** The port actually bound (differs from `port` only when 0 was asked for, in tests). */
  get boundPort(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : this.port;
  }

  /** The certificate served to clients that send no SNI. */
  setDefaultCertificate(material: { cert: Buffer; key: Buffer } | null): void {
    if (this.web instanceof https.Server && material) this.web.setSecureContext(material);
  }

  /**
   * Stop accepting (a unix socket's file is removed). Keep-alive connections get a moment (`IDLE_LINGER_MS`) to send
   * their next request, answered with `connection: close` (the router sets it once closing): a client that is busy
   * learns to reconnect (through the relay, to the next door) instead of having its connection closed under a request
   * it is sending. Then idle ones close; busy ones after their answer or at `graceMs`.
   */
  async close(graceMs = 5_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const idle = setTimeout(() => this.web?.closeIdleConnections(), Math.min(IDLE_LINGER_MS, graceMs));
      const timer = setTimeout(() => this.closeAll(), graceMs);
      // net.Server's close: an HTTP server's own would close idle connections at once.
      net.Server.prototype.close.call(this.server, () => {
        clearTimeout(idle);
        clearTimeout(timer);
        // Now the HTTP server's: it stops its connection checks.
        this.web?.close();
        resolve();
      });
    });
  }

  /** Close every connection at once (the process is stopping after its drain). */
  closeAll(): void {
    this.web?.closeAllConnections();
  }
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
