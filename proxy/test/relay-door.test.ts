// The door on unix sockets (FRONT_DOOR_SOCKETS) behind a real relay: HTTP, HTTPS by SNI, TCP and upgrades, with the
// client's address taken from the PROXY header. Clients connect from 127.0.0.7 so that the address seen can only
// have come from the header (the door's own peer is a unix socket, which has none).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Relay } from '../src/relay.js';
import { Router } from '../src/router.js';
import { freePort, makeCert, testRoute, until, upstreamsPerTest } from './helpers.js';

const CLIENT = '127.0.0.7';

let dir: string;
let router: Router;
let relay: Relay;
let logs: string[];
let access: Record<string, unknown>[];
const up = upstreamsPerTest();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-door-'));
  logs = [];
  access = [];
  router = new Router({
    stateFile: join(dir, 'state.json'),
    listenHost: '127.0.0.1',
    socketsDir: join(dir, 'sockets', '1'),
    log: (line) => logs.push(line),
    accessLog: (line) => access.push(JSON.parse(line) as Record<string, unknown>),
  });
  relay = new Relay({ stateFile: join(dir, 'relay.json'), socketsRoot: join(dir, 'sockets'), log: () => {} });
});
afterEach(async () => {
  await relay.close(0);
  await router.close({ drain: false });
  rmSync(dir, { recursive: true, force: true });
});

async function relayPorts(...ports: number[]): Promise<void> {
  const result = await relay.listen(
    1,
    ports.map((hostPort) => ({ hostIp: '127.0.0.1', hostPort })),
  );
  expect(result.failed).toEqual([]);
}

function request(
  port: number,
  path: string,
  { host = 'app.test', tls }: { host?: string; tls?: { servername: string } } = {},
): Promise<{ status: number; body: string; peerCN?: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, localAddress: CLIENT, headers: { host }, agent: false };
    const done = (res: http.IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const cert = 'getPeerCertificate' in res.socket ? (res.socket as import('node:tls').TLSSocket) : null;
        resolve({
          status: res.statusCode ?? 0,
          body,
          ...(cert ? { peerCN: String(cert.getPeerCertificate().subject?.CN) } : {}),
        });
      });
    };
    const req = tls
      ? https.get({ ...options, servername: tls.servername, rejectUnauthorized: false }, done)
      : http.get(options, done);
    req.on('error', reject);
  });
}

describe('the door behind the relay', () => {
  it("serves an HTTP route, with the client's address in x-forwarded-for and the access log", async () => {
    const v1 = await up('v1');
    const port = await freePort();
    await router.deploy(testRoute('web', v1.address, { port }));
    expect(existsSync(join(dir, 'sockets', '1', `${port}.sock`))).toBe(true);
    await relayPorts(port);
    const answer = await request(port, '/headers');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'http' });
    await until(() => access.length === 1);
    expect(access[0]).toMatchObject({ app: 'web', client: CLIENT, status: 200 });
  });

  it("serves HTTPS with the certificate picked by SNI, and the client's address", async () => {
    const certs = mkdtempSync(join(tmpdir(), 'relay-door-certs-'));
    const { certFile, keyFile } = makeCert(certs, 'a.test');
    try {
      const v1 = await up('v1');
      const [plain, secure] = [await freePort(), await freePort()];
      await router.deploy(
        testRoute('web', v1.address, { port: plain, hosts: ['a.test'], tls: { certFile, keyFile, port: secure } }),
      );
      await relayPorts(plain, secure);
      const answer = await request(secure, '/headers', { host: 'a.test', tls: { servername: 'a.test' } });
      expect(answer).toMatchObject({ status: 200, peerCN: 'a.test' });
      expect(JSON.parse(answer.body)).toMatchObject({ 'x-forwarded-for': CLIENT, 'x-forwarded-proto': 'https' });
      expect(readFileSync(certFile, 'utf8')).toContain('CERTIFICATE');
    } finally {
      rmSync(certs, { recursive: true, force: true });
    }
  });

  it('pipes a TCP route, and an HTTP upgrade', async () => {
    const echo = net.createServer((s) => {
      s.on('error', () => {});
      s.write('echo:');
      s.pipe(s);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const v1 = await up('v1');
    try {
      const [tcpPort, webPort] = [await freePort(), await freePort()];
      const echoAddress = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
      await router.deploy(testRoute('db', echoAddress, { kind: 'tcp', port: tcpPort }));
      await router.deploy(testRoute('web', v1.address, { port: webPort }));
      await relayPorts(tcpPort, webPort);

      const raw = async (port: number, send: string, want: (text: string) => boolean): Promise<string> => {
        const socket = net.connect({ port, host: '127.0.0.1', localAddress: CLIENT });
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (d: string) => (text += d));
        socket.on('error', () => {});
        socket.write(send);
        await until(() => want(text));
        socket.destroy();
        return text;
      };
      expect(await raw(tcpPort, 'ping', (t) => t === 'echo:ping')).toBe('echo:ping');
      const upgraded = await raw(
        webPort,
        'GET /ws HTTP/1.1\r\nhost: app.test\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\nhello',
        (t) => t.endsWith('v1:hello'),
      );
      expect(upgraded).toMatch(/^HTTP\/1\.1 101 /);
      expect(v1.seen.at(-1)?.headers['x-forwarded-for']).toBe(CLIENT);
    } finally {
      echo.close();
    }
  });

  it("drops a connection without a valid header, serves one whose request comes in the header's packet", async () => {
    const v1 = await up('v1');
    const port = await freePort();
    await router.deploy(testRoute('web', v1.address, { port }));
    const path = join(dir, 'sockets', '1', `${port}.sock`);
    const direct = async (send: string): Promise<{ text: string; closed: boolean }> => {
      const socket = net.connect(path);
      let text = '';
      let closed = false;
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => (text += d));
      socket.on('close', () => (closed = true));
      socket.on('error', () => {});
      socket.write(send);
      await until(() => closed || text.endsWith('v1') || text.endsWith('0\r\n\r\n'));
      socket.destroy();
      return { text, closed };
    };
    expect(await direct('GET / HTTP/1.1\r\nhost: a\r\n\r\n')).toEqual({ text: '', closed: true });
    expect(logs.some((l) => l.endsWith(`${path}: dropped a connection: no PROXY header`))).toBe(true);
    const served = await direct('PROXY TCP4 10.1.2.3 10.0.0.1 5555 80\r\nGET /x HTTP/1.1\r\nhost: a\r\n\r\n');
    expect(served.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(v1.seen.at(-1)?.headers['x-forwarded-for']).toBe('10.1.2.3');
    expect(v1.seen).toHaveLength(1);

    // Removing the route closes the listener and its socket file.
    await router.remove('web');
    await until(() => !existsSync(path));
  });
});
