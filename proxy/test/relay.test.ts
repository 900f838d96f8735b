// The relay on its own: real TCP listeners on loopback, real unix socket servers standing in for the door.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatProxyHeader, parseProxyHeader } from '../src/proxy-header.js';
import { answerRelay, parseRelayCommand, Relay } from '../src/relay.js';
import { freePort, until } from './helpers.js';

/**
 * A unix socket server standing in for the door: records each connection's first line (the PROXY header), greets
 * with its name, echoes what it gets, and ends its side only once the client has ended its own (half-close).
 */
async function fakeDoor(path: string, name: string): Promise<{ headers: string[]; close(): void }> {
  const headers: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let buffer = '';
    let seenHeader = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      if (seenHeader) return void socket.write(chunk);
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      seenHeader = true;
      headers.push(buffer.slice(0, end + 2));
      socket.write(`${name}:${buffer.slice(end + 2)}`);
    });
    // Answers after the client's FIN: a relay without half-close would have cut this.
    socket.on('end', () => setTimeout(() => socket.end(`:${name}-bye`), 50));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    headers,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

interface Conn {
  socket: net.Socket;
  text(): string;
  closed(): boolean;
  error(): string | undefined;
}

function connect(port: number, host = '127.0.0.1', localAddress?: string): Conn {
  const socket = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) });
  let text = '';
  let closed = false;
  let error: string | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (text += d));
  socket.on('close', () => (closed = true));
  socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code));
  return { socket, text: () => text, closed: () => closed, error: () => error };
}

let dir: string;
const cleanup: (() => unknown)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-'));
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function startRelay(logs: string[] = []): Relay {
  const relay = new Relay({
    stateFile: join(dir, 'relay.json'),
    socketsRoot: join(dir, 'sockets'),
    log: (line) => logs.push(line),
  });
  cleanup.push(() => relay.close(0));
  return relay;
}

async function door(generation: number, port: number, name: string): Promise<{ headers: string[] }> {
  mkdirSync(join(dir, 'sockets', String(generation)), { recursive: true });
  const d = await fakeDoor(join(dir, 'sockets', String(generation), `${port}.sock`), name);
  cleanup.push(() => d.close());
  return d;
}

describe('the PROXY header', () => {
  it('is written for IPv4, IPv6 and IPv4-mapped addresses, and read back', () => {
    const v4 = formatProxyHeader({ address: '10.0.0.1', port: 5000 }, { address: '10.0.0.2', port: 80 });
    expect(v4).toBe('PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\n');
    expect(formatProxyHeader({ address: '::ffff:1.2.3.4', port: 1 }, { address: '::ffff:5.6.7.8', port: 2 })).toBe(
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n',
    );
    expect(formatProxyHeader({ address: '::1', port: 1 }, { address: '::1', port: 443 })).toBe(
      'PROXY TCP6 ::1 ::1 1 443\r\n',
    );
    expect(formatProxyHeader({}, { address: '::1', port: 443 })).toBe('PROXY UNKNOWN\r\n');
    expect(parseProxyHeader(Buffer.from(`${v4}GET /`))).toEqual({
      state: 'done',
      source: { address: '10.0.0.1', port: 5000 },
      length: v4.length,
    });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ state: 'done', source: null, length: 15 });
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 10.0'))).toEqual({ state: 'more' });
    expect(parseProxyHeader(Buffer.from('PRO'))).toEqual({ state: 'more' });
  });

  it.each([
    ['GET / HTTP/1.1\r\n', 'no PROXY header'],
    ['PROXY TCP4 10.0.0.1 ::1 1 2\r\n', 'malformed header "PROXY TCP4 10.0.0.1 ::1 1 2"'],
    ['PROXY TCP4 10.0.0.1 10.0.0.2 1 70000\r\n', 'malformed header "PROXY TCP4 10.0.0.1 10.0.0.2 1 70000"'],
    ['PROXY UDP4 10.0.0.1 10.0.0.2 1 2\r\n', 'unknown protocol in "PROXY UDP4 10.0.0.1 10.0.0.2 1 2"'],
    ['PROXY TCP4 10.0.0.1 10.0.0.2 1 2\n', 'the header line does not end in CRLF'],
    [`PROXY UNKNOWN ${'x'.repeat(100)}`, 'no CRLF within 107 bytes'],
  ])('refuses %j', (text, reason) => {
    expect(parseProxyHeader(Buffer.from(text))).toEqual({ state: 'bad', reason });
  });
});

describe('relay commands', () => {
  it('reads listen, status and ping', () => {
    expect(
      parseRelayCommand({
        verb: 'listen',
        options: { generation: 3, bindings: [{ hostIp: '127.0.0.1', hostPort: 80 }, { hostPort: 443 }] },
      }),
    ).toEqual({
      verb: 'listen',
      generation: 3,
      bindings: [
        { hostIp: '127.0.0.1', hostPort: 80 },
        { hostIp: '', hostPort: 443 },
      ],
    });
    expect(parseRelayCommand({ verb: 'ping' })).toEqual({ verb: 'ping' });
    expect(parseRelayCommand({ verb: 'status' })).toEqual({ verb: 'status' });
  });

  it.each([
    [{ verb: 'deploy' }, 'unknown verb "deploy" (known: listen, status, ping)'],
    [{ verb: 'listen', options: { bindings: [] } }, 'listen: "generation" must be an integer from 0 to 2147483647'],
    [{ verb: 'listen', options: { generation: 1 } }, 'listen: "bindings" must be a list of {"hostIp", "hostPort"}'],
    [
      { verb: 'listen', options: { generation: 1, bindings: [{ hostIp: 'localhost', hostPort: 80 }] } },
      'listen: bindings[0].hostIp must be an IP address, or "" for every interface (got "localhost")',
    ],
    [
      { verb: 'listen', options: { generation: 1, bindings: [{ hostIp: '', hostPort: 0 }] } },
      'listen: bindings[0].hostPort must be an integer from 1 to 65535 (got 0)',
    ],
    [
      { verb: 'listen', options: { generation: 1, bindings: [{ hostPort: 80, proto: 'tcp' }] } },
      'listen: bindings[0]: unknown option "proto" (known: hostIp, hostPort)',
    ],
    [
      { verb: 'listen', options: { generation: 1, bindings: [{ hostPort: 80 }, { hostIp: '', hostPort: 80 }] } },
      'listen: "bindings" lists *:80 twice',
    ],
    [{ verb: 'ping', options: { x: 1 } }, 'ping: unknown option "x" (known: )'],
  ])('refuses %j', (request, message) => {
    expect(() => parseRelayCommand(request)).toThrow(message);
  });

  it('answers on the control line protocol, refusals as {ok:false}', async () => {
    const relay = startRelay();
    const info = { version: 'test', startedAt: Date.now() };
    expect(await answerRelay(relay, '{"verb":"ping"}', info)).toMatchObject({
      ok: true,
      result: { mode: 'relay', version: 'test', generation: 0, bindings: [] },
    });
    expect(await answerRelay(relay, '{"verb":"listen","options":{"generation":-1,"bindings":[]}}', info)).toEqual({
      ok: false,
      error: 'listen: "generation" must be an integer from 0 to 2147483647 (got -1)',
    });
  });
});

describe('the relay', () => {
  it("pipes a connection to the generation's socket after a PROXY header, keeping half-close", async () => {
    const relay = startRelay();
    const port = await freePort();
    const d = await door(1, port, 'd1');
    expect(await relay.listen(1, [{ hostIp: '127.0.0.1', hostPort: port }])).toEqual({
      generation: 1,
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
      failed: [],
    });
    const c = connect(port, '127.0.0.1', '127.0.0.3');
    c.socket.write('hello');
    await until(() => c.text() === 'd1:hello');
    const clientPort = c.socket.localPort;
    // The client is done sending; the door's answer after that still arrives whole.
    c.socket.end();
    await until(() => c.closed());
    expect(c.text()).toBe('d1:hello:d1-bye');
    expect(d.headers).toEqual([`PROXY TCP4 127.0.0.3 127.0.0.1 ${clientPort} ${port}\r\n`]);
  });

  it('writes a TCP6 header for an IPv6 client', async (ctx) => {
    const probe = net.createServer();
    const v6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => resolve(true));
    });
    probe.close();
    if (!v6) return ctx.skip();
    const relay = startRelay();
    const port = await freePort();
    const d = await door(1, port, 'd1');
    await relay.listen(1, [{ hostIp: '::1', hostPort: port }]);
    const c = connect(port, '::1');
    c.socket.write('x');
    await until(() => c.text() === 'd1:x');
    expect(d.headers[0]).toMatch(new RegExp(`^PROXY TCP6 ::1 ::1 \\d+ ${port}\\r\\n$`));
    c.socket.destroy();
  });

  it("listens on exactly the bindings asked for: keeps, opens, closes; a kept listener's connection survives", async () => {
    const relay = startRelay();
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    for (const p of [a, b, c]) await door(1, p, `d${p}`);
    const at = (hostPort: number) => ({ hostIp: '127.0.0.1', hostPort });
    await relay.listen(1, [at(a), at(b)]);
    const onA = connect(a);
    const onB = connect(b);
    onA.socket.write('1');
    onB.socket.write('1');
    await until(() => onA.text() === `d${a}:1` && onB.text() === `d${b}:1`);
    expect(await relay.listen(1, [at(a), at(c)])).toMatchObject({ bindings: [at(a), at(c)], failed: [] });
    // b is closed to new connections; its piped connection runs on. a was never reopened.
    const refused = connect(b);
    await until(() => refused.closed());
    expect(refused.error()).toBe('ECONNREFUSED');
    onA.socket.write('2');
    onB.socket.write('2');
    await until(() => onA.text() === `d${a}:12` && onB.text() === `d${b}:12`);
    const onC = connect(c);
    onC.socket.write('3');
    await until(() => onC.text() === `d${c}:3`);
    for (const conn of [onA, onB, onC]) conn.socket.destroy();
  });

  it('reports a binding it cannot open, and serves the others', async () => {
    const relay = startRelay();
    const busy = net.createServer();
    const [taken, good] = [await freePort(), await freePort()];
    await new Promise<void>((resolve) => busy.listen(taken, '127.0.0.1', resolve));
    cleanup.push(() => busy.close());
    await door(2, good, 'd2');
    const result = await relay.listen(2, [
      { hostIp: '127.0.0.1', hostPort: taken },
      { hostIp: '192.0.2.1', hostPort: good },
      { hostIp: '127.0.0.1', hostPort: good },
    ]);
    expect(result).toEqual({
      generation: 2,
      bindings: [{ hostIp: '127.0.0.1', hostPort: good }],
      failed: [
        {
          hostIp: '127.0.0.1',
          hostPort: taken,
          error: `cannot listen on 127.0.0.1:${taken}: the address is in use (EADDRINUSE)`,
        },
        {
          hostIp: '192.0.2.1',
          hostPort: good,
          error: `cannot listen on 192.0.2.1:${good}: this host has no address 192.0.2.1 (EADDRNOTAVAIL)`,
        },
      ],
    });
    const conn = connect(good);
    conn.socket.write('ok');
    await until(() => conn.text() === 'd2:ok');
    conn.socket.destroy();
  });

  it('resets a connection when the door does not listen, and counts it', async () => {
    const logs: string[] = [];
    const relay = startRelay(logs);
    const port = await freePort();
    await relay.listen(7, [{ hostIp: '127.0.0.1', hostPort: port }]);
    const conn = connect(port);
    await until(() => conn.closed());
    expect(conn.error()).toBe('ECONNRESET');
    expect(relay.status({ version: 't', startedAt: 0 })).toMatchObject({
      connections: { open: 0, accepted: 1, refused: 1 },
    });
    expect(logs).toContain(`cannot reach ${relay.socketPath(port)} (ENOENT): resetting its connections`);
  });

  it('sends new connections to a new generation while an old piped connection keeps going', async () => {
    const relay = startRelay();
    const port = await freePort();
    await door(1, port, 'old');
    await door(2, port, 'new');
    const binding = { hostIp: '127.0.0.1', hostPort: port };
    await relay.listen(1, [binding]);
    const first = connect(port);
    first.socket.write('a');
    await until(() => first.text() === 'old:a');
    await relay.listen(2, [binding]);
    const second = connect(port);
    second.socket.write('b');
    first.socket.write('c');
    await until(() => second.text() === 'new:b' && first.text() === 'old:ac');
    first.socket.destroy();
    second.socket.destroy();
  });

  it('writes its state file and serves it again after a restart', async () => {
    const port = await freePort();
    await door(4, port, 'd4');
    const before = startRelay();
    await before.listen(4, [{ hostIp: '127.0.0.1', hostPort: port }]);
    expect(JSON.parse(readFileSync(join(dir, 'relay.json'), 'utf8'))).toEqual({
      version: 1,
      generation: 4,
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
    });
    await before.close(0);
    const after = startRelay();
    await after.restore();
    expect(after.status({ version: 't', startedAt: 0 })).toMatchObject({
      generation: 4,
      bindings: [{ hostIp: '127.0.0.1', hostPort: port }],
    });
    const conn = connect(port);
    conn.socket.write('again');
    await until(() => conn.text() === 'd4:again');
    conn.socket.destroy();
  });

  it('closes its ports at close, lets piped connections run within the grace, then cuts them', async () => {
    const relay = startRelay();
    const port = await freePort();
    await door(1, port, 'd1');
    await relay.listen(1, [{ hostIp: '127.0.0.1', hostPort: port }]);
    const conn = connect(port);
    conn.socket.write('a');
    await until(() => conn.text() === 'd1:a');
    const closing = relay.close(300);
    const late = connect(port);
    await until(() => late.closed());
    expect(late.error()).toBe('ECONNREFUSED');
    conn.socket.write('b');
    await until(() => conn.text() === 'd1:ab');
    expect(conn.closed()).toBe(false);
    await closing;
    await until(() => conn.closed());
  });
});
