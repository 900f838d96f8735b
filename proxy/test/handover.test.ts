// The built bundle as it runs in its containers: a relay process and two door processes (generations 1 and 2) on
// unix sockets. The relay is switched from door 1 to door 2 under a keep-alive load, door 1 stops: no request fails.
// Then the relay process restarts and serves its bindings again from its state file.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendCommand } from '../src/client.js';
import { client, freePort, sleep, startUpstream, type Upstream } from './helpers.js';

const dist = join(import.meta.dirname, '..', 'dist', 'proxy.js');
let dir: string;
let v1: Upstream;
let v2: Upstream;
const processes: ChildProcess[] = [];

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [join(import.meta.dirname, '..', 'build.mjs')]);
  dir = mkdtempSync(join(tmpdir(), 'handover-'));
  v1 = await startUpstream('v1');
  v2 = await startUpstream('v2');
});
afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await v1?.close();
  await v2?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Start the bundle in `mode` and wait for its control socket. */
async function start(mode: 'serve' | 'relay', env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [dist, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  processes.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const end = Date.now() + 10_000;
  while (!stderr.includes('control socket')) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`${mode} did not start: ${stderr}`);
    await sleep(20);
  }
  return child;
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  return child.exitCode;
}

describe('a door handover behind the relay', () => {
  it('switches doors under keep-alive load without a failed request, and the relay restarts by itself', async () => {
    const root = join(dir, 'sockets');
    const relayEnv = {
      FRONT_DOOR_SOCKET: join(dir, 'relay.sock'),
      FRONT_DOOR_RELAY_STATE: join(dir, 'relay', 'relay.json'),
      FRONT_DOOR_SOCKETS_ROOT: root,
      FRONT_DOOR_RELAY_GRACE_MS: '2000',
    };
    const doorEnv = (generation: number): Record<string, string> => ({
      FRONT_DOOR_SOCKET: join(dir, `door${generation}.sock`),
      FRONT_DOOR_STATE: join(dir, `door${generation}`, 'state.json'),
      FRONT_DOOR_SOCKETS: join(root, String(generation)),
    });
    const port = await freePort();
    const route = (target: string): Record<string, unknown> => ({
      app: 'web',
      target,
      port,
      health: { intervalMs: 50 },
      timing: { bakeMs: 0 },
    });
    const relay = await start('relay', relayEnv);
    const door1 = await start('serve', doorEnv(1));
    const door2 = await start('serve', doorEnv(2));
    expect(await sendCommand(doorEnv(1).FRONT_DOOR_SOCKET!, 'deploy', route(v1.address))).toMatchObject({ ok: true });
    expect(await sendCommand(doorEnv(2).FRONT_DOOR_SOCKET!, 'deploy', route(v2.address))).toMatchObject({ ok: true });
    const binding = { hostIp: '127.0.0.1', hostPort: port };
    expect(await sendCommand(relayEnv.FRONT_DOOR_SOCKET, 'listen', { generation: 1, bindings: [binding] })).toEqual({
      ok: true,
      result: { generation: 1, bindings: [binding], failed: [] },
    });
    expect(await sendCommand(doorEnv(1).FRONT_DOOR_SOCKET!, 'ping', {})).toMatchObject({
      ok: true,
      result: { mode: 'door' },
    });

    const pool = client(port, 8);
    const seen = { v1: 0, v2: 0, failed: [] as string[] };
    let running = true;
    const loop = async (): Promise<void> => {
      while (running) {
        try {
          const answer = await pool.request({ path: '/', method: 'GET' });
          const text = await answer.body.text();
          if (answer.statusCode !== 200) seen.failed.push(`${answer.statusCode} ${text}`);
          else if (text === 'v1' || text === 'v2') seen[text]++;
        } catch (err) {
          seen.failed.push((err as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await sleep(300);
    expect(await sendCommand(relayEnv.FRONT_DOOR_SOCKET, 'listen', { generation: 2, bindings: [binding] })).toEqual({
      ok: true,
      result: { generation: 2, bindings: [binding], failed: [] },
    });
    expect(await stop(door1)).toBe(0);
    const afterSwitch = seen.v2;
    await sleep(300);
    running = false;
    await Promise.all(loops);
    await pool.close();
    expect(seen.failed).toEqual([]);
    expect(seen.v1).toBeGreaterThan(0);
    expect(seen.v2).toBeGreaterThan(afterSwitch);

    // The relay restarts (as its container would) and serves generation 2 again with no command.
    expect(await stop(relay)).toBe(0);
    await start('relay', relayEnv);
    expect(await sendCommand(relayEnv.FRONT_DOOR_SOCKET, 'status', {})).toMatchObject({
      ok: true,
      result: { mode: 'relay', generation: 2, bindings: [binding], failed: [] },
    });
    const again = client(port, 1);
    const answer = await again.request({ path: '/', method: 'GET' });
    expect(await answer.body.text()).toBe('v2');
    await again.close();
    await stop(door2);
  });
});
