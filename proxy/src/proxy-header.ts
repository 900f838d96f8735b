// The PROXY protocol, version 1 (haproxy's proxy-protocol.txt): one text line the relay writes before a piped
// connection's bytes, `PROXY TCP4 <src> <dst> <srcport> <dstport>\r\n`, which tells the door who the client is.
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The longest header line the protocol allows, CRLF included. */
export const MAX_HEADER = 107;
const SIGNATURE = Buffer.from('PROXY ');

export interface Endpoint {
  address?: string | undefined;
  port?: number | undefined;
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) as `1.2.3.4`; any other address as it is. */
function unmapped(address: string): string {
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : '';
  return net.isIPv4(v4) ? v4 : address;
}

/** The header line for a connection from `source` to `destination` (UNKNOWN when either is not known). */
export function formatProxyHeader(source: Endpoint, destination: Endpoint): string {
  if (!source.address || !destination.address || source.port === undefined || destination.port === undefined) {
    return 'PROXY UNKNOWN\r\n';
  }
  const src = unmapped(source.address);
  const dst = unmapped(destination.address);
  const family = net.isIP(src);
  if (family === 0 || family !== net.isIP(dst)) return 'PROXY UNKNOWN\r\n';
  return `PROXY TCP${family} ${src} ${dst} ${source.port} ${destination.port}\r\n`;
}

export type HeaderParse =
  | { state: 'more' }
  | { state: 'bad'; reason: string }
  /** `source` null: `PROXY UNKNOWN` (the sender does not know the client). */
  | { state: 'done'; source: { address: string; port: number } | null; length: number };

const PORT = /^(?:0|[1-9]\d{0,4})$/;

/** Read a header from the first bytes of a connection: complete, not yet (more bytes needed), or malformed. */
export function parseProxyHeader(bytes: Buffer): HeaderParse {
  const head = bytes.subarray(0, Math.min(bytes.length, SIGNATURE.length));
  if (!head.equals(SIGNATURE.subarray(0, head.length))) return { state: 'bad', reason: 'no PROXY header' };
  const newline = bytes.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (newline < 0) {
    return bytes.length >= MAX_HEADER
      ? { state: 'bad', reason: `no CRLF within ${MAX_HEADER} bytes` }
      : { state: 'more' };
  }
  if (bytes[newline - 1] !== 0x0d) return { state: 'bad', reason: 'the header line does not end in CRLF' };
  const line = bytes.subarray(0, newline - 1).toString('latin1');
  const parts = line.split(' ');
  const length = newline + 1;
  // The protocol tells receivers to ignore whatever follows UNKNOWN on its line.
  if (parts[1] === 'UNKNOWN') return { state: 'done', source: null, length };
  const family = parts[1] === 'TCP4' ? 4 : parts[1] === 'TCP6' ? 6 : 0;
  if (family === 0) return { state: 'bad', reason: `unknown protocol in ${JSON.stringify(line)}` };
  const [, , src, dst, srcPort, dstPort] = parts;
  const valid =
    parts.length === 6 &&
    net.isIP(src!) === family &&
    net.isIP(dst!) === family &&
    [srcPort!, dstPort!].every((p) => PORT.test(p) && Number(p) <= 65535);
  if (!valid) return { state: 'bad', reason: `malformed header ${JSON.stringify(line)}` };
  return { state: 'done', source: { address: src!, port: Number(srcPort) }, length };
}

// The client's address as the header told it, per connection: a unix socket has no peer address of its own.
const clients = new WeakMap<object, string>();

/**
 * The address of the client behind a connection: the PROXY header's source when the connection came through the
 * relay, else the TCP peer's address. For a TLS socket, that of the connection it was made on.
 */
export function clientAddress(socket: Duplex): string | undefined {
  const told = clients.get(socket);
  if (told !== undefined) return told;
  // Node keeps the connection a TLSSocket wraps as `_parent` (not documented; proxy/test/relay-door.test.ts checks
  // x-forwarded-for over HTTPS, so a Node that changes it fails there).
  const parent = (socket as { _parent?: unknown })._parent;
  if (parent && typeof parent === 'object') {
    const fromParent = clients.get(parent);
    if (fromParent !== undefined) return fromParent;
  }
  return (socket as Partial<Socket>).remoteAddress;
}

/**
 * Read the PROXY header off a new connection, within `timeoutMs`. On success the connection is paused with the
 * bytes after the header put back, ready to hand to a server, and `clientAddress` knows its client. A connection
 * without a valid header is destroyed and the promise rejects with the reason.
 */
export function readProxyHeader(socket: Socket, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let bytes: Buffer = Buffer.alloc(0);
    const finish = (reason: string | null): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (reason === null) return resolve();
      socket.destroy();
      reject(new Error(reason));
    };
    const onData = (chunk: Buffer): void => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      const parsed = parseProxyHeader(bytes);
      if (parsed.state === 'more') return;
      if (parsed.state === 'bad') return finish(parsed.reason);
      socket.pause();
      if (parsed.source) clients.set(socket, parsed.source.address);
      if (bytes.length > parsed.length) socket.unshift(bytes.subarray(parsed.length));
      finish(null);
    };
    const onEnd = (): void => finish('the connection ended before its PROXY header');
    const onError = (err: Error): void => finish(`the connection failed before its PROXY header: ${err.message}`);
    const timer = setTimeout(() => finish(`no PROXY header within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.on('error', onError);
  });
}
