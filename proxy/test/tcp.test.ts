import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRouter, testRoute, until, type Harness } from './helpers.js';

/** A TCP server that greets with its name, then echoes. */
async function echoServer(name: string): Promise<{ address: string; connections: () => number; close: () => void }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => connections,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

function connect(port: number): { socket: net.Socket; text: () => string; closed: () => boolean } {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  return { socket, text: () => text, closed: () => closed };
}

let h: Harness;
const servers: { close: () => void }[] = [];
afterEach(async () => {
  await h?.close();
  for (const s of servers.splice(0)) s.close();
});

describe('TCP ports', () => {
  it('sends new connections to the new target and lets old ones run until the stream drain deadline', async () => {
    h = startRouter();
    const a = await echoServer('a');
    const b = await echoServer('b');
    servers.push(a, b);
    const timing = { drainMs: 50, streamDrainMs: 2_000, bakeMs: 0 };
    await h.router.deploy(testRoute('db', a.address, { kind: 'tcp', port: 0, timing }));
    // The gate's checks opened connections to a; nothing was sent through.
    const gateConnections = a.connections();
    const port = h.port('db', 'tcp');
    const old = connect(port);
    old.socket.write('one');
    await until(() => old.text() === 'a:one');

    await h.router.deploy(testRoute('db', b.address, { kind: 'tcp', port: 0, timing }));
    const fresh = connect(port);
    fresh.socket.write('two');
    await until(() => fresh.text() === 'b:two');
    // Past drainMs: the old connection is a stream and still works.
    await new Promise((r) => setTimeout(r, 200));
    old.socket.write('three');
    await until(() => old.text() === 'a:onethree');
    expect(a.connections()).toBe(gateConnections + 1);
    // At streamDrainMs it is cut.
    await until(() => old.closed(), 5_000);
    expect(fresh.closed()).toBe(false);
    fresh.socket.destroy();
  });

  it('sends a connection the new release refuses to the release kept for the bake window', async () => {
    h = startRouter();
    const a = await echoServer('a');
    const b = await echoServer('b');
    servers.push(a, b);
    const timing = { bakeMs: 10_000 };
    await h.router.deploy(testRoute('db', a.address, { kind: 'tcp', port: 0, timing }));
    await h.router.deploy(testRoute('db', b.address, { kind: 'tcp', port: 0, timing, health: { intervalMs: 5_000 } }));
    b.close(); // the new release crashes; the bake watch has not noticed yet
    const c = connect(h.port('db', 'tcp'));
    // Sent before the front door knows where it goes: held, then delivered to a.
    c.socket.write('early');
    await until(() => c.text() === 'a:early');
    c.socket.destroy();
  });

  it('refuses connections while paused', async () => {
    h = startRouter();
    const a = await echoServer('a');
    servers.push(a);
    await h.router.deploy(testRoute('db', a.address, { kind: 'tcp', port: 0 }));
    await h.router.pause('db', 0);
    const c = connect(h.port('db', 'tcp'));
    await until(() => c.closed());
    expect(c.text()).toBe('');
  });
});
