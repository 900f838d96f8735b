// The ports the front door listens on: plain HTTP, HTTPS (certificate picked by SNI) or raw TCP.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';

export type Proto = 'http' | 'https' | 'tcp';

export interface ListenerHandlers {
  request(port: number, proto: 'http' | 'https', req: IncomingMessage, res: ServerResponse): void;
  upgrade(port: number, proto: 'http' | 'https', req: IncomingMessage, socket: Duplex, head: Buffer): void;
  connection(port: number, socket: Socket): void;
  /** The certificate for `servername` on an HTTPS port, or null for the port's default. */
  secureContext(port: number, servername: string): SecureContext | null;
}

export class Listener {
  private constructor(
    readonly port: number,
    readonly proto: Proto,
    private readonly server: net.Server,
  ) {}

  static async open(host: string, port: number, proto: Proto, handlers: ListenerHandlers): Promise<Listener> {
    let server: net.Server;
    if (proto === 'tcp') {
      server = net.createServer((socket) => handlers.connection(port, socket));
    } else {
      const onRequest = (req: IncomingMessage, res: ServerResponse): void => handlers.request(port, proto, req, res);
      const web =
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
      server = web;
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new Listener(port, proto, server);
  }

  /** The port actually bound (differs from `port` only when 0 was asked for, in tests). */
  get boundPort(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : this.port;
  }

  /** The certificate served to clients that send no SNI. */
  setDefaultCertificate(material: { cert: Buffer; key: Buffer } | null): void {
    if (this.server instanceof https.Server && material) this.server.setSecureContext(material);
  }

  /** Stop accepting; idle keep-alive connections close now, busy ones after their answer or at `graceMs`. */
  async close(graceMs = 5_000): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.closeAll(), graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      if (this.server instanceof http.Server || this.server instanceof https.Server) this.server.closeIdleConnections();
    });
  }

  /** Close every connection at once (the process is stopping after its drain). */
  closeAll(): void {
    if (this.server instanceof http.Server || this.server instanceof https.Server) this.server.closeAllConnections();
  }
}
