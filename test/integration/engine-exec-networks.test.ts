import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/adapters/docker/engine/engine.js';
import { ExecTimeout } from '../../src/adapters/docker/engine/exec.js';
import { isDeployError } from '../../src/core/errors.js';
import { rejectionOf } from '../helpers/rejection.js';

/** What the front door needs of the engine: commands run in a container, and networks where containers find each other by alias. */
describe('exec and networks against the real engine', () => {
  let engine: Engine;
  const prefix = `deploy-engine-net-${process.pid}`;
  const label = { 'dev.deploy.test': prefix };
  const containers: string[] = [];

  /** A busybox container with the tool's usual settings (init, so a removal is quick), started. */
  async function running(name: string, cmd: string[]): Promise<string> {
    const id = await engine.containers.createNamed({
      name: `${prefix}-${name}`,
      Image: 'busybox:1.36',
      Cmd: cmd,
      Labels: label,
      HostConfig: { Init: true },
    });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    containers.push(id as string);
    await engine.containers.start(id as string);
    return id as string;
  }

  beforeAll(async () => {
    engine = await Engine.connect({ url: 'unix:///var/run/docker.sock', source: 'test' });
  });
  afterAll(() => {
    for (const id of containers) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    const left = execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=dev.deploy.test=${prefix}`], {
      encoding: 'utf8',
    }).trim();
    if (left) execFileSync('docker', ['network', 'rm', ...left.split('\n')], { stdio: 'ignore' });
    engine.close();
  });

  it('runs a command in a container: its exit code, and stdout and stderr apart', async () => {
    const id = await running('exec', ['sleep', '300']);
    expect(await engine.exec.run(id, ['sh', '-c', 'echo out; echo err >&2; printf tail; exit 3'])).toEqual({
      exitCode: 3,
      stdout: 'out\ntail',
      stderr: 'err\n',
    });
    expect(
      await engine.exec.run(id, ['sh', '-c', 'id -u; echo "$GREETING"'], {
        user: '1234',
        env: ['GREETING=hello from exec'],
      }),
    ).toEqual({
      exitCode: 0,
      stdout: '1234\nhello from exec\n',
      stderr: '',
    });
    // A program that does not exist is the engine's answer (exit 126/127 from the runtime), not a hang.
    const missing = await engine.exec.run(id, ['/no/such/program']);
    expect(missing.exitCode).not.toBe(0);
  });

  it('gives up on a command that does not finish within its time, and the client stays usable', async () => {
    const id = await running('hung', ['sleep', '300']);
    const hung = await rejectionOf(engine.exec.run(id, ['sleep', '60'], { timeoutMs: 300 }));
    expect(hung).toBeInstanceOf(ExecTimeout);
    expect(isDeployError(hung, 'engine_error')).toBe(true);
    expect((hung as Error).message).toMatch(
      new RegExp(`^The command sleep run in the container ${id.slice(0, 12)} did not finish within 300ms\\.$`),
    );
    expect(await engine.exec.run(id, ['echo', 'still here'])).toEqual({
      exitCode: 0,
      stdout: 'still here\n',
      stderr: '',
    });
  });

  it('refuses to exec in a container that is not running', async () => {
    const id = await engine.containers.createNamed({
      name: `${prefix}-created`,
      Image: 'busybox:1.36',
      Cmd: ['true'],
      Labels: label,
    });
    containers.push(id as string);
    await expect(engine.exec.run(id as string, ['true'])).rejects.toThrow(/exec: .*is not running/);
  });

  it('creates a network once, joins containers with an alias the others reach it by, and removes it when they are gone', async () => {
    const net = `${prefix}-app`;
    expect(await engine.networks.inspect(net)).toBeNull();
    const made = await engine.networks.create(net, { labels: label });
    expect(made).toMatchObject({ name: net, driver: 'bridge', internal: false, labels: label, containers: [] });
    // Idempotent: the existing one comes back, no second network of that name is made.
    expect((await engine.networks.create(net, { labels: label })).id).toBe(made.id);
    expect((await engine.networks.list(label)).map((n) => n.id)).toEqual([made.id]);
    expect(await engine.networks.has(net)).toBe(true);

    const web = await running('web', ['nc', '-ll', '-p', '8080', '-e', 'echo', 'from-web']);
    const client = await running('client', ['sleep', '300']);
    await engine.networks.connect(net, web, { aliases: [`web-${process.pid}`] });
    await engine.networks.connect(net, client, { aliases: [] });
    expect((await engine.networks.inspect(net))?.containers).toEqual([web, client].sort());

    // By alias, from inside the other container (the listener may need a moment to start: bounded tries).
    let answer = await engine.exec.run(client, ['nc', '-w', '3', `web-${process.pid}`, '8080']);
    for (let i = 0; i < 20 && answer.stdout.trim() !== 'from-web'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await engine.exec.run(client, ['nc', '-w', '3', `web-${process.pid}`, '8080']);
    }
    expect(answer).toMatchObject({ exitCode: 0, stdout: 'from-web\n' });

    expect(await engine.networks.remove(net)).toBe('in-use');
    await engine.networks.disconnect(net, client);
    expect((await engine.networks.inspect(net))?.containers).toEqual([web]);
    // Off the network, the alias no longer resolves for it.
    expect((await engine.exec.run(client, ['nc', '-w', '3', `web-${process.pid}`, '8080'])).exitCode).not.toBe(0);
    await engine.networks.disconnect(net, web);
    await engine.networks.disconnect(net, web); // not joined any more: off it already

    expect(await engine.networks.remove(net)).toBe('removed');
    expect(await engine.networks.remove(net)).toBe('gone');
    expect(await engine.networks.inspect(net)).toBeNull();
    expect(await engine.networks.has(net)).toBe(false);
    expect(await engine.networks.list(label)).toEqual([]);
  });

  it('makes an internal network when asked', async () => {
    const net = `${prefix}-internal`;
    expect(await engine.networks.create(net, { labels: label, internal: true })).toMatchObject({
      name: net,
      internal: true,
    });
    expect(await engine.networks.remove(net)).toBe('removed');
  });
});
