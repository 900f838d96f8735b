import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { EXIT_CODES } from '../../src/core/errors.js';
import { upstreamHost } from '../../src/core/front-door.js';
import { DOOR_NAMES } from '../../src/core/door.js';
import type { PublicRecord } from '../../src/core/record-view.js';
import { appForTest, type AppFixture } from '../helpers/app-fixture.js';
import { fetchText, freePort } from '../helpers/docker.js';
import { webApp } from '../helpers/git-repo.js';
import { load, type Outcome } from '../helpers/load.js';

/**
 * Apps behind the engine's real front door, driven through the CLI as a user does: `proxy: true` in deploy.json.
 * Each case runs bounded keep-alive load on loopback while it switches, and counts every failed request.
 */

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

function quietly(...args: string[]): void {
  try {
    execFileSync('docker', args, { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}

/** A web app whose requests busybox logs (`url:/path`), so a test can tell which release saw which request. */
const LOGGING_START = 'echo "starting on 8080"\nexec httpd -f -vv -p 8080 -h /www\n';

async function routedApp(prefix: string, deployJson: Record<string, unknown> = {}): Promise<AppFixture> {
  return appForTest({ prefix, start: LOGGING_START, deployJson: { proxy: true, ...deployJson } });
}

/** A TCP service on busybox nc: each connection reads one line and answers `BODY LINE` (BODY: index.html). */
const TCP_START =
  'printf \'read line\\necho "$(cat /www/index.html) $line"\\n\' > /tmp/answer.sh\nchmod +x /tmp/answer.sh\nexec nc -ll -p 8080 -e /tmp/answer.sh\n';

/** A TCP connection to the service: `ask(line)` sends one line and resolves with the answer (the service closes). */
function tcpConnection(port: number): Promise<{ ask(line: string): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () =>
      resolve({
        ask: (line) =>
          new Promise<string>((done, fail) => {
            let answer = '';
            socket.setEncoding('utf8');
            socket.on('data', (c: string) => (answer += c));
            socket.on('end', () => done(answer.trim()));
            socket.on('error', fail);
            socket.write(`${line}\n`);
          }),
        close: () => socket.destroy(),
      }),
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
  });
}

/** Connections made one after another by `clients` loops until stopped: each one's answer, or its error. */
function tcpLoad(
  port: number,
  clients = 4,
): { stop(): Promise<Array<{ answer: string | null; error: string | null }>> } {
  let stopped = false;
  const outcomes: Array<{ answer: string | null; error: string | null }> = [];
  const loops = Array.from({ length: clients }, async (_, i) => {
    while (!stopped) {
      try {
        const c = await tcpConnection(port);
        outcomes.push({ answer: await c.ask(`c${i}`), error: null });
      } catch (error) {
        outcomes.push({ answer: null, error: (error as Error).message });
      }
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** A new commit of the app answering `body`, with the start script given and the deploy.json it has now. */
function commitNext(f: AppFixture, body: string, start: string): void {
  f.repo.commit(
    body,
    webApp(body, { start, deployJson: JSON.parse(readFileSync(join(f.repo.dir, 'deploy.json'), 'utf8')) }),
  );
}

function failures(outcomes: readonly Outcome[]): string[] {
  return outcomes.filter((o) => o.error !== null).map((o) => o.error as string);
}

/** What the door says of an app (one exec, as the CLI does it). */
function doorStatus(app: string): { state: string; active: { address: string } | null } {
  const out = docker('exec', DOOR_NAMES.container, 'node', '/proxy.js', 'status', JSON.stringify({ app }));
  return (JSON.parse(out.split('\n').at(-1) as string) as { result: never }).result;
}

async function eventually<T>(read: () => T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let v = read();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    v = read();
  }
  return v;
}

/** A web app that answers / until $FAIL_AFTER seconds after it starts (when set), then 404. */
const FAILS_AFTER =
  'if [ -n "$FAIL_AFTER" ]; then (sleep "$FAIL_AFTER"; rm -f /www/index.html) & fi\nexec httpd -f -p 8080 -h /www\n';

/**
 * v1 serving behind the door with a 30 s bake window, then v2, which passes the door's gate and starts failing 3 s
 * later: resolves once the door has switched back to v1 on its own (`back`: the address it routes to then).
 */
async function fellBackInWindow(prefix: string) {
  const f = await appForTest({
    prefix,
    start: FAILS_AFTER,
    deployJson: { proxy: true, bakeWindow: '30s', healthCheck: { path: '/', interval: '200ms' } },
  });
  const v1 = await f.deploy();
  const r = await f.cli(['redeploy', f.app, '--env', 'FAIL_AFTER=3', '--yes', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const v2 = r.json<PublicRecord>();
  // The old container keeps running meanwhile.
  expect(docker('inspect', '-f', '{{.State.Running}}', v1.containerId as string)).toBe('true');
  const back = await eventually(
    () => doorStatus(f.app).active?.address ?? '',
    (a) => a.startsWith(`${upstreamHost(v1)}:`),
    20_000,
  );
  expect(await fetchText(f.port)).toBe('one');
  return { f, v1, v2, back };
}

describe('deploying behind the front door (real engine, real door, CLI)', () => {
  afterAll(() => {
    quietly(
      'rm',
      '-f',
      '-v',
      DOOR_NAMES.container,
      DOOR_NAMES.next,
      DOOR_NAMES.relay,
      DOOR_NAMES.relayNext,
      `${DOOR_NAMES.container}.lock`,
    );
    quietly('network', 'rm', DOOR_NAMES.network);
    quietly('volume', 'rm', DOOR_NAMES.volume);
  });

  it('runs the app without host ports on the door network; a redeploy, a new commit and a rollback under load drop no request, and the switch is atomic', async () => {
    const f = await routedApp('fdz', { bakeWindow: '0s' });
    const first = await f.deploy();
    const inspected = JSON.parse(docker('inspect', first.containerId as string))[0];
    expect(inspected.HostConfig.PortBindings).toEqual({});
    expect(inspected.NetworkSettings.Networks[DOOR_NAMES.network].Aliases).toContain(upstreamHost(first));
    // The door publishes nothing: its relay, on the host's network, listens on the app's port.
    expect(docker('port', DOOR_NAMES.container)).toBe('');
    expect(JSON.parse(docker('exec', DOOR_NAMES.relay, 'node', '/proxy.js', 'ping')).result.bindings).toContainEqual({
      hostIp: '127.0.0.1',
      hostPort: f.port,
    });
    expect(await fetchText(f.port)).toBe('one');

    const status = await f.cli(['status']);
    expect(status.stdout).toContain(`http://127.0.0.1:${f.port}/`);

    const traffic = load(f.port, { clients: 8 });
    const redeploy = await f.cli(['redeploy', f.app, '--yes', '--json']);
    expect(redeploy.code, redeploy.stderr).toBe(0);
    commitNext(f, 'two', LOGGING_START);
    const two = await f.cli(['deploy', '--yes', '--json']);
    expect(two.code, two.stderr).toBe(0);
    const rollback = await f.cli(['rollback', f.app, '--yes', '--json']);
    expect(rollback.code, rollback.stderr).toBe(0);
    const outcomes = await traffic.stop();

    expect(failures(outcomes)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(100);
    // Atomic: once a request sent after the switch to 'two' was answered by it, none sent later got 'one' until the
    // rollback; and the rollback's answer is 'one' again.
    const bodies = outcomes.map((o) => o.body);
    expect(new Set(bodies)).toEqual(new Set(['one', 'two']));
    const firstTwo = outcomes.find((o) => o.body === 'two') as Outcome;
    const lastTwo = outcomes.filter((o) => o.body === 'two').at(-1) as Outcome;
    const betweenOnes = outcomes.filter(
      (o) => o.body === 'one' && o.sentAt > firstTwo.doneAt && o.doneAt < lastTwo.sentAt,
    );
    expect(betweenOnes).toEqual([]);
    expect(await fetchText(f.port)).toBe('one');
    // Without a bake window, each replaced release is retired at once: only the serving container is left.
    expect(docker('ps', '-q', '--filter', `label=dev.deploy.app=${f.app}`).split('\n')).toHaveLength(1);
  });

  it('never sends a request to a release that fails the door check: exit code of a failed health check, the old one serves throughout', async () => {
    const f = await routedApp('fdh', { healthCheck: { path: '/', timeout: '4s' } });
    await f.deploy();
    const traffic = load(f.port, { clients: 4 });
    const r = await f.cli(['redeploy', f.app, '--health-path', '/missing', '--yes', '--json']);
    const outcomes = await traffic.stop();

    expect(r.code).toBe(EXIT_CODES.health_failed);
    expect(r.stderr).toMatch(
      /failed its health check: the front door's check did not pass within 4s \(last: GET \/missing answered 404\)/,
    );
    expect(r.stderr).toMatch(/is still serving/);
    expect(failures(outcomes)).toEqual([]);
    expect(new Set(outcomes.map((o) => o.body))).toEqual(new Set(['one']));
    // Its kept log: only the door's checks of /missing reached it, not one request of the load.
    const failed = f.newest();
    expect(failed?.status).toBe('failed');
    const logs = await f.cli(['logs', failed?.id as string]);
    // busybox logs each request on stderr; `deploy logs` gives both streams.
    const seen = `${logs.stdout}\n${logs.stderr}`;
    expect(seen).toMatch(/url:\/missing/);
    expect(seen).not.toMatch(/url:\/\s*$/m);
  });

  it('stop answers 503 from the door, start brings the app back, and a restart under load drops no request', async () => {
    const f = await routedApp('fds');
    const d = await f.deploy();
    expect((await f.cli(['stop', f.app, '--yes'])).code).toBe(0);
    const paused = await fetch(`http://127.0.0.1:${f.port}/`);
    expect(paused.status).toBe(503);
    expect(doorStatus(f.app).state).toBe('paused');
    expect((await f.cli(['start', f.app, '--yes'])).code).toBe(0);
    expect(await fetchText(f.port)).toBe('one');

    // --pause: a request sent while it is stopped waits, and the start serves it.
    expect((await f.cli(['stop', f.app, '--pause', '20s', '--yes'])).code).toBe(0);
    expect(doorStatus(f.app).state).toBe('paused');
    const held = fetch(`http://127.0.0.1:${f.port}/`).then(async (res) => `${res.status} ${(await res.text()).trim()}`);
    await new Promise((r) => setTimeout(r, 500));
    expect((await f.cli(['start', f.app, '--yes'])).code).toBe(0);
    expect(await held).toBe('200 one');

    const traffic = load(f.port, { clients: 8 });
    const restart = await f.cli(['restart', f.app, '--yes']);
    await new Promise((r) => setTimeout(r, 300));
    const outcomes = await traffic.stop();
    expect(restart.code, restart.stderr).toBe(0);
    expect(failures(outcomes)).toEqual([]);
    expect(docker('inspect', '-f', '{{.RestartCount}} {{.State.Running}}', d.containerId as string)).toMatch(/ true$/);
  });

  it('keeps the old release for the bake window: when the new one starts failing the door switches back at once, and the record says so', async () => {
    const { f, v1, v2, back } = await fellBackInWindow('fdb');
    expect(back.startsWith(`${upstreamHost(v1)}:`)).toBe(true);
    expect(await fetchText(f.port)).toBe('one');

    // The next change to the app records what the door did (here: a stop asked of the app, which then stops v1).
    const ls = await f.cli(['restart', f.app, '--yes']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stderr).toMatch(
      new RegExp(`v${v2.version} \\(${v2.id}\\) failed the front door's checks in its bake window`),
    );
    const after = (await f.cli(['ls', '--app', f.app, '--json'])).json<PublicRecord[]>();
    expect(after.find((d) => d.id === v2.id)?.status).toBe('failed');
    expect(after.find((d) => d.id === v1.id)?.status).toBe('running');
    expect(docker('ps', '-aq', '--filter', `name=${v2.id}`)).toBe('');
  });
  it('a deploy after the door fell back in the bake window records the failed release failed and replaces the one the door serves', async () => {
    const { f, v1, v2 } = await fellBackInWindow('fdf');

    commitNext(f, 'three', FAILS_AFTER);
    const v3 = await f.cli(['deploy', '--yes', '--json']);
    expect(v3.code, v3.stderr).toBe(0);
    expect(v3.stderr).toContain(`v${v2.version} (${v2.id}) failed the front door's checks in its bake window`);
    const after = (await f.cli(['ls', '--app', f.app, '--json'])).json<PublicRecord[]>();
    const [one, two, three] = [v1.id, v2.id, v3.json<PublicRecord>().id].map((id) => after.find((d) => d.id === id));
    expect(two).toMatchObject({ status: 'failed', rolledBack: true });
    // v1 served until v3 replaced it: superseded by v3 (and kept for v3's window), not by the failed v2.
    expect(one).toMatchObject({ status: 'superseded', supersededBy: three?.id });
    expect(three?.status).toBe('running');
    expect(await fetchText(f.port)).toBe('three');
  });

  it('keeps a release for the bake window only where the door kept it: a door made again without its routes has nothing to switch back to, so the old release is retired', async () => {
    const f = await routedApp('fdk', { bakeWindow: '60s' });
    const v1 = await f.deploy();
    // The door, its relay and its saved routes removed outside the tool: the next deploy makes them again, empty.
    docker('rm', '-f', DOOR_NAMES.container, DOOR_NAMES.relay);
    docker('volume', 'rm', DOOR_NAMES.volume);
    commitNext(f, 'two', LOGGING_START);
    const two = await f.cli(['deploy', '--yes', '--json']);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toContain(`Retired v${v1.version}`);
    expect(two.stderr).not.toContain('kept running');
    expect(docker('ps', '-aq', '--filter', `name=${v1.id}`)).toBe('');
    // So a rollback is not a swap back: it starts v1's image behind the gate.
    const back = await f.cli(['rollback', f.app, '--yes', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).not.toContain('Swapped back');
    expect(back.json<PublicRecord>()).toMatchObject({ kind: 'rollback', status: 'running' });
    expect(await fetchText(f.port)).toBe('one');
  });

  it('rolls back inside the bake window by a swap back: no new container, no request dropped, and a retried rollback does nothing', async () => {
    const f = await routedApp('fdr', { bakeWindow: '60s' });
    const v1 = await f.deploy();
    commitNext(f, 'two', LOGGING_START);
    const v2 = (await f.cli(['deploy', '--yes', '--json'])).json<PublicRecord>();
    expect(v2.status).toBe('running');
    const containersBefore = docker('ps', '-aq', '--filter', `label=dev.deploy.app=${f.app}`).split('\n').sort();

    const traffic = load(f.port, { clients: 8 });
    const r = await f.cli(['rollback', f.app, '--yes', '--json']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outcomes = await traffic.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Swapped back/);
    // The release that serves again is v1 itself, in the container it kept running: no new record, no new container.
    expect(r.json<PublicRecord>().id).toBe(v1.id);
    expect(docker('ps', '-aq', '--filter', `label=dev.deploy.app=${f.app}`).split('\n').sort()).toEqual(
      containersBefore,
    );
    expect(failures(outcomes)).toEqual([]);
    expect(await fetchText(f.port)).toBe('one');

    const list = (await f.cli(['ls', '--app', f.app, '--json'])).json<PublicRecord[]>();
    expect(list.find((d) => d.id === v1.id)?.status).toBe('running');
    expect(list.find((d) => d.id === v2.id)).toMatchObject({ status: 'superseded', supersededBy: v1.id });
    // That command (any command) retired v2's container: its window is over once it no longer serves.
    expect(docker('ps', '-aq', '--filter', `label=dev.deploy.app=${f.app}`).split('\n')).toHaveLength(1);

    const again = await f.cli(['rollback', f.app, '--yes', '--json']);
    expect(again.code).toBe(0);
    expect(again.json<PublicRecord>().id).toBe(v1.id);
    expect(again.stderr).toMatch(/already running this deployment; nothing to do/);
  });

  it('carries a TCP service (proxy "tcp"): new connections go to the new release once it accepts them, none fails, and a connection open on the old one drains to its end', async () => {
    const f = await appForTest({
      prefix: 'fdt',
      start: TCP_START,
      deployJson: { proxy: 'tcp', bakeWindow: '0s', healthCheck: undefined },
    });
    const first = await f.deploy();
    expect(first.config.proxy).toBe('tcp');
    expect(await (await tcpConnection(f.port)).ask('hi')).toBe('one hi');

    // A connection to v1 opened before the switch, its question not asked yet.
    const early = await tcpConnection(f.port);
    const traffic = tcpLoad(f.port);
    commitNext(f, 'two', TCP_START);
    const deploying = f.cli(['deploy', '--yes', '--json']);
    // New connections reach v2 while the old connection is still open (the deploy waits for its drain).
    let probe = '';
    for (const deadline = Date.now() + 60_000; probe !== 'two probe' && Date.now() < deadline;) {
      probe = await (await tcpConnection(f.port)).ask('probe');
      if (probe !== 'two probe') await new Promise((r) => setTimeout(r, 100));
    }
    expect(probe).toBe('two probe');
    expect(await early.ask('late')).toBe('one late');
    const two = await deploying;
    expect(two.code, two.stderr).toBe(0);
    const outcomes = await traffic.stop();

    expect(outcomes.filter((o) => o.error !== null)).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(20);
    expect(new Set(outcomes.map((o) => o.answer?.split(' ')[0]))).toEqual(new Set(['one', 'two']));
    expect(await (await tcpConnection(f.port)).ask('after')).toBe('two after');
  });

  it("deploy proxy status names each app's routed release; a restart of the door keeps every route, and upgrade keeps a current door", async () => {
    const f = await routedApp('fdp', { bakeWindow: '0s' });
    const d = await f.deploy();
    const view = (await f.cli(['proxy', 'status', '--json'])).json<{
      running: boolean;
      bindings: Array<{ hostIp: string; hostPort: number }>;
      apps: Array<{ app: string; state: string; routesTo: { id: string } | null; current: boolean }>;
    }>();
    expect(view.running).toBe(true);
    expect(view.bindings).toContainEqual({ hostIp: '127.0.0.1', hostPort: f.port });
    expect(view.apps.find((a) => a.app === f.app)).toMatchObject({
      state: 'serving',
      routesTo: { id: d.id },
      current: true,
    });

    const restarted = await f.cli(['proxy', 'restart', '--yes', '--json']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.json<{ apps: string[] }>().apps).toContain(f.app);
    expect(await fetchText(f.port)).toBe('one');

    const upgraded = await f.cli(['proxy', 'upgrade', '--yes', '--json']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.json<{ action: string }>().action).toBe('keep');
    expect(await fetchText(f.port)).toBe('one');

    const logs = await f.cli(['proxy', 'logs', '--tail', 'all']);
    // The door logs on stderr; the command prints each line on the stream it came from.
    expect(`${logs.stdout}${logs.stderr}`).toMatch(new RegExp(`${f.app}: deployed: ${upstreamHost(d)}:8080`));
  });
  it('status says when the front door does not route a running app (here: its container removed outside the tool), and proxy upgrade brings it back with its routes', async () => {
    const f = await routedApp('fdg', { bakeWindow: '0s' });
    const d = await f.deploy();
    type Row = { app: string; frontDoor: { routed: boolean | null; state: string | null; problem: string | null } };
    const rowOf = async () =>
      (await f.cli(['status', f.app, '--json'])).json<Row[]>().find((r) => r.app === f.app) as Row;
    expect((await rowOf()).frontDoor).toEqual({ routed: true, state: 'serving', problem: null });

    docker('rm', '-f', DOOR_NAMES.container);
    expect((await rowOf()).frontDoor).toMatchObject({ routed: false, problem: 'there is no front door on its engine' });
    const human = await f.cli(['status', f.app]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('running, not routed');
    expect(human.stderr).toContain(`${f.app}: v${d.version} runs, but there is no front door on its engine`);
    expect(human.stderr).toContain('deploy proxy upgrade');

    const upgraded = await f.cli(['proxy', 'upgrade', '--yes', '--json']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.json<{ action: string; apps: string[] }>()).toMatchObject({ action: 'create' });
    expect(upgraded.json<{ apps: string[] }>().apps).toContain(f.app);
    expect(await fetchText(f.port)).toBe('one');
    expect((await rowOf()).frontDoor).toEqual({ routed: true, state: 'serving', problem: null });
  });

  it('serves the app over TLS from the certificate and key files given (SNI), redirects plain HTTP, and the key is never recorded or shown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'door-tls-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=tls.test',
        '-addext',
        'subjectAltName=DNS:tls.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const f = await routedApp('fdt');
    const httpsPort = await freePort();
    const d = await f.deploy(
      '--port',
      `127.0.0.1:${f.port}:8080`,
      '--port',
      `127.0.0.1:${httpsPort}:8080`,
      '--domain',
      'tls.test',
      '--set',
      `tlsCertificate=${join(dir, 'cert.pem')}`,
      '--set',
      `tlsKey=${join(dir, 'key.pem')}`,
    );
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        {
          host: '127.0.0.1',
          port: httpsPort,
          path: '/',
          servername: 'tls.test',
          headers: { host: 'tls.test' },
          ca: readFileSync(join(dir, 'cert.pem')),
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text.trim()));
        },
      );
      req.on('error', reject);
    });
    expect(body).toBe('one');
    // fetch() sets Host itself: a plain request names the domain through node:http.
    const plain = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: f.port, path: '/', headers: { host: 'tls.test' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      });
      req.on('error', reject);
    });
    expect([301, 308]).toContain(plain.status);
    expect(plain.location).toBe(`https://tls.test:${httpsPort}/`);
    expect(d.config.tlsCertificate).toBe(join(dir, 'cert.pem'));
    // The key's content: not in the record, the listing, the container's labels or the door's labels and log.
    const seen = [
      JSON.stringify(d),
      (await f.cli(['ls', '--app', f.app, '--json'])).stdout,
      (await f.cli(['inspect', d.id, '--json'])).stdout,
      docker('inspect', d.containerId as string),
      docker('inspect', DOOR_NAMES.container),
      docker('logs', DOOR_NAMES.container),
    ].join('\n');
    expect(seen).not.toContain(key.split('\n')[1] as string);
  });

  it('destroy lets go of its host port: another program can listen on it, and the relay no longer does', async () => {
    const f = await routedApp('fdx', { bakeWindow: '0s' });
    await f.deploy();
    expect(await fetchText(f.port)).toBe('one');
    const relayBindings = () =>
      (
        JSON.parse(docker('exec', DOOR_NAMES.relay, 'node', '/proxy.js', 'ping')).result.bindings as Array<{
          hostPort: number;
        }>
      ).map((b) => b.hostPort);
    expect(relayBindings()).toContain(f.port);
    const gone = await f.cli(['destroy', f.app, '--yes']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(relayBindings()).not.toContain(f.port);
    const taken = net.createServer();
    await new Promise<void>((resolve, reject) => {
      taken.once('error', reject);
      taken.listen(f.port, '127.0.0.1', resolve);
    });
    taken.close();
  });
});
