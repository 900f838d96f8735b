import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, freePort, makeCert, startRouter, testRoute, upstreamsPerTest, type Harness } from './helpers.js';

let certs: string;
const cert = (name: string): { certFile: string; keyFile: string } => ({
  certFile: join(certs, `${name}.pem`),
  keyFile: join(certs, `${name}.key`),
});

beforeAll(() => {
  certs = mkdtempSync(join(tmpdir(), 'front-door-certs-'));
  for (const name of ['a.test', 'b.test']) makeCert(certs, name);
});
afterAll(() => rmSync(certs, { recursive: true, force: true }));

/** The CN of the certificate the front door presents for `servername` (none: no SNI). */
function presented(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) },
      () => {
        const subject = socket.getPeerCertificate().subject;
        socket.end();
        resolve(String(subject?.CN));
      },
    );
    socket.on('error', reject);
  });
}

let h: Harness;
const up = upstreamsPerTest();
afterEach(async () => {
  await h?.close();
});

describe('TLS', () => {
  it('picks the certificate by SNI and serves each host its app over HTTPS', async () => {
    h = startRouter();
    const a = await up('a');
    const b = await up('b');
    const [http, https] = [await freePort(), await freePort()];
    await h.router.deploy(
      testRoute('app-a', a.address, { port: http, hosts: ['a.test'], tls: { ...cert('a.test'), port: https } }),
    );
    await h.router.deploy(
      testRoute('app-b', b.address, { port: http, hosts: ['b.test'], tls: { ...cert('b.test'), port: https } }),
    );
    expect(await presented(https, 'a.test')).toBe('a.test');
    expect(await presented(https, 'b.test')).toBe('b.test');
    // No SNI: the port's default certificate (the first app's here, as none is the default host).
    expect(await presented(https)).toBe('a.test');

    const { readFileSync } = await import('node:fs');
    const pool = new Pool(`https://127.0.0.1:${https}`, {
      connect: { servername: 'b.test', ca: readFileSync(cert('b.test').certFile) },
    });
    const answer = await pool.request({ path: '/headers', method: 'GET', headers: { host: 'b.test' } });
    expect(answer.statusCode).toBe(200);
    const seen = (await answer.body.json()) as Record<string, string>;
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(b.seen).toHaveLength(1);
    await pool.close();
    const status = h.router.status('app-a') as { certificateValidTo: string; listening: unknown };
    expect(Date.parse(status.certificateValidTo)).toBeGreaterThan(Date.now());
    expect(status.listening).toEqual([
      { proto: 'http', port: http },
      { proto: 'https', port: https },
    ]);
  });

  it('redirects plain HTTP to HTTPS when asked', async () => {
    h = startRouter();
    const a = await up('a');
    const [http, https] = [await freePort(), await freePort()];
    await h.router.deploy(
      testRoute('app-a', a.address, {
        port: http,
        hosts: ['a.test'],
        tls: { ...cert('a.test'), port: https, redirect: true },
      }),
    );
    const pool = client(http, 1);
    const answer = await pool.request({ path: '/x?y=1', method: 'GET', headers: { host: 'a.test' } });
    expect(answer.statusCode).toBe(301);
    expect(answer.headers.location).toBe(`https://a.test:${https}/x?y=1`);
    await answer.body.dump();
    expect(a.seen).toEqual([]);
    await pool.close();
  });

  it('refuses a key that does not belong to the certificate, and a missing file, before anything changes', async () => {
    h = startRouter();
    const a = await up('a');
    const mixed = { certFile: cert('a.test').certFile, keyFile: cert('b.test').keyFile, port: 0 };
    await expect(h.router.deploy(testRoute('app-a', a.address, { tls: mixed }))).rejects.toThrow(
      /^app-a: certificate .*a\.test\.pem and key .*b\.test\.key cannot be used together: .*key values mismatch/,
    );
    await expect(
      h.router.deploy(testRoute('app-a', a.address, { tls: { ...mixed, certFile: '/nope.pem' } })),
    ).rejects.toThrow('app-a: cannot read certificate /nope.pem: ENOENT');
    expect(a.healthChecks).toBe(0);
    expect(h.router.status(null)).toEqual({ apps: [], failed: [], pending: [] });
  });
});
