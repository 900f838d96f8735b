/**
 * A real multi-node Docker Swarm on this machine, for integration tests of Swarm services. The host engine
 * (/var/run/docker.sock) is never touched: each node is an extra `dockerd` in a network namespace of its own,
 * reached from the test process through a unix socket in a temp directory.
 *
 *   startSwarm({ nodes: 2 })   2 (or 3, ...) nodes joined into one swarm, the first its manager, each with
 *                              the base image busybox:1.36 loaded
 *   swarm.stop()               daemons stopped (and whatever they left running killed), cgroups, namespaces,
 *                              veths and the temp dir removed; safe after a failed or partial start, and twice
 *
 * A swarm whose test process died without stop() (a crash, a SIGKILL) is cleared away by the next startSwarm.
 *
 * The network (what ../shared/ENVIRONMENT.md found to work here, where the kernel has no IPVS):
 *
 *   host ── veth (10.B.C.1) ──┐
 *                             switch namespace: bridge "sw" (no iptables there, so bridged traffic flows)
 *   node 1 namespace ─ veth ──┤  10.B.C.11   dockerd -b br0 (a bridge made first inside the namespace)
 *   node 2 namespace ─ veth ──┘  10.B.C.12   ...
 *
 * Each dockerd runs as `nsenter --net=NS -- unshare --mount --uts --propagation slave -- dockerd ...`: its own
 * hostname (the node's name in `docker node ls`), its mounts private to it (a sysfs of its own network namespace
 * among them), its containers under the cgroup parent /NAME. Every name carries a random id, so a crashed earlier
 * run never collides with this one. Every wait is bounded, and a daemon that fails says so with the tail of its log.
 * Costs, measured here: start (2 nodes, image loaded) 1.3-2.5 s; stop 2.6-6.4 s (mostly dockerd's own shutdown).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunOptions } from './process.js';
import { cleanupAll, ensureRemoteTools, processes, type Proc } from './remote.js';

// ------------------------------------------------------------------------------------------------
// Small process helpers (remote.ts has the same ones, unexported)
// ------------------------------------------------------------------------------------------------

const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The process environment without anything that would point a docker CLI somewhere else. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${process.env.PATH ?? ''}:${STANDARD_PATH}` };
  for (const key of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_TLS'])
    delete env[key];
  return env;
}

/** Like run(), but rejects unless the command exits 0; resolves to trimmed stdout. */
async function must(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, { env: baseEnv(), timeoutMs: 30_000, ...options });
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true, at most `timeoutMs`; `gaveUp` says why when it never will. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  gaveUp: () => string | undefined = () => undefined,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stop = gaveUp();
    if (stop !== undefined) throw new Error(`${what}: ${stop}`);
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** A dockerd whose output goes to a log file (a pipe would kill it with SIGPIPE if we died first). */
interface Daemon {
  child: ChildProcess;
  exited: () => boolean;
  /** Resolves true when the process has exited within `ms`. */
  waitExit: (ms: number) => Promise<boolean>;
  logTail: (lines?: number) => string;
}

function startDaemon(cmd: string, args: readonly string[], logFile: string): Daemon {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { env: baseEnv(), stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  let exitedFlag = false;
  const exit = new Promise<void>((resolve) => {
    const done = () => {
      exitedFlag = true;
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
  });
  // Best effort if the test process ends without calling stop(): don't leave the daemon behind.
  const onExit = () => {
    if (!exitedFlag) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  void exit.then(() => process.removeListener('exit', onExit));
  return {
    child,
    exited: () => exitedFlag,
    waitExit: async (ms) => {
      if (exitedFlag) return true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
      const result = await Promise.race([exit.then(() => true), timedOut]);
      clearTimeout(timer);
      return result;
    },
    logTail: (lines = 25) => {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Addresses
// ------------------------------------------------------------------------------------------------

type Net = [address: number, prefixLength: number];

/** IPv4 networks (a.b.c.d/len) in `ip addr` / `ip route` output. */
export function networksIn(text: string): Net[] {
  const nets: Net[] = [];
  for (const m of text.matchAll(/\b(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\b/g)) {
    const [a, b, c, d, len] = m.slice(1).map(Number) as [number, number, number, number, number];
    nets.push([((a << 24) | (b << 16) | (c << 8) | d) >>> 0, len]);
  }
  return nets;
}

function overlaps([a, alen]: Net, [b, blen]: Net): boolean {
  const len = Math.min(alen, blen);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/**
 * A "10.B.C." prefix (B in 160..199: the TLS engine of remote.ts picks from 200..250) whose /24 overlaps none
 * of `used`; null after 50 tries. `random` gives numbers in [0, 1).
 */
export function freeSubnetPrefix(used: readonly Net[], random: () => number = Math.random): string | null {
  for (let i = 0; i < 50; i++) {
    const b = 160 + Math.floor(random() * 40);
    const c = Math.floor(random() * 256);
    if (!used.some((net) => overlaps(net, [((10 << 24) | (b << 16) | (c << 8)) >>> 0, 24]))) return `10.${b}.${c}.`;
  }
  return null;
}

// ------------------------------------------------------------------------------------------------
// Tear-down steps, shared with the clean-up of swarms whose test process died
// ------------------------------------------------------------------------------------------------

const ROOT_PREFIX = 'deploy-swarm-';
const OWNER_FILE = 'owner.json';

function networkNames(tag: string): { switchNs: string; hostVeth: string } {
  return { switchNs: `${tag}-sw`, hostVeth: `${tag}h` };
}

/**
 * Kills what is left of a swarm's processes: its daemons (and, after a SIGKILL, their containerd and shims,
 * whose command lines name the temp dir) and the containers' processes (in cgroups under /NAME). Bounded.
 */
async function killLeftovers(root: string, names: readonly string[]): Promise<void> {
  const ours = (p: Proc) =>
    p.state !== 'Z' && (p.cmdline.includes(`${root}/`) || names.some((n) => p.cgroup.includes(`:/${n}/`)));
  for (let round = 0; round < 10; round++) {
    const left = processes().filter(ours);
    if (left.length === 0) return;
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(200);
  }
  const left = processes().filter(ours);
  if (left.length > 0) throw new Error(`still running: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
}

/** Removes /sys/fs/cgroup/<controller>/NAME (and, after a kill, the container directories in it). */
function removeCgroups(names: readonly string[]): void {
  if (!existsSync('/sys/fs/cgroup')) return;
  const failed: string[] = [];
  const remove = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) remove(join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') failed.push(`${dir}: ${(error as Error).message}`);
    }
  };
  for (const controller of readdirSync('/sys/fs/cgroup'))
    for (const name of names) remove(join('/sys/fs/cgroup', controller, name));
  if (failed.length > 0) throw new Error(failed.join('; '));
}

/** Deletes the nodes' and the switch's namespaces (and so the veths in them, and their peers: the host's too). */
async function removeNetwork(tag: string, names: readonly string[]): Promise<void> {
  const { switchNs, hostVeth } = networkNames(tag);
  for (const ns of [...names, switchNs]) if (existsSync(`/run/netns/${ns}`)) await must('ip', ['netns', 'del', ns]);
  if ((await run('ip', ['link', 'show', hostVeth], { env: baseEnv(), timeoutMs: 10_000 })).code === 0)
    await must('ip', ['link', 'del', hostVeth]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Clears away the swarms of test processes that died without stop() (a crash, a SIGKILL): their daemons,
 * containers, cgroups, namespaces and temp dirs. Best effort: a failure here is reported on stderr and does not
 * stop a new swarm from starting (its names are its own).
 */
async function removeStaleSwarms(): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(ROOT_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const root = join(tmpdir(), entry);
    let owner: { pid: number; tag: string; names: string[] };
    try {
      owner = JSON.parse(readFileSync(join(root, OWNER_FILE), 'utf8')) as typeof owner;
    } catch {
      continue; // being made right now, or not one of ours
    }
    if (alive(owner.pid) || !/^dsw[0-9a-f]{6}$/.test(owner.tag)) continue;
    try {
      await cleanupAll(`stale swarm ${owner.tag}`, [
        ['kill leftovers', () => killLeftovers(root, owner.names)],
        ['remove cgroups', async () => removeCgroups(owner.names)],
        ['remove namespaces', () => removeNetwork(owner.tag, owner.names)],
        ['remove temp dir', () => rm(root, { recursive: true, force: true, maxRetries: 3 })],
      ]);
      process.stderr.write(
        `swarm harness: cleared away ${root}, left by a test process that died (pid ${owner.pid})\n`,
      );
    } catch (error) {
      process.stderr.write(`swarm harness: ${(error as Error).message}\n`);
    }
  }
}

// ------------------------------------------------------------------------------------------------
// The swarm
// ------------------------------------------------------------------------------------------------

export interface SwarmNode {
  /** The node's hostname (as `docker node ls` shows it), its network namespace and its cgroup parent. */
  name: string;
  /** Its address on the switch (10.B.C.11, .12, ...): the swarm's advertise address, reachable from the host. */
  address: string;
  /** Its dockerd's socket. */
  socket: string;
  /** unix://SOCKET, for Engine.connect({ url, source }). */
  url: string;
  /** Its swarm node id. */
  nodeId: string;
  manager: boolean;
  /** Runs the docker CLI against this node (`-H url`); rejects unless it exits 0; resolves to trimmed stdout. */
  docker(...args: string[]): Promise<string>;
  /** The last lines of its dockerd's log. */
  log(lines?: number): string;
}

export interface Swarm {
  nodes: SwarmNode[];
  /** nodes[0]. */
  manager: SwarmNode;
  /** 10.B.C.0/24: the nodes' network. */
  subnet: string;
  /** 10.B.C.1: the host's address on it (a registry the nodes pull from listens here; the nodes trust it). */
  hostAddress: string;
  /** How long startSwarm took, in ms. */
  startedInMs: number;
  /** Tears everything down (bounded); safe to call again. Rejects with every step that failed. */
  stop(): Promise<void>;
}

export interface SwarmOptions {
  /** How many nodes (2 by default; the first is the manager, the others workers). */
  nodes?: number;
  /** Images copied from the host engine to every node (`docker save | docker load`). Default: busybox:1.36. */
  images?: readonly string[];
}

const REQUIRED_TOOLS: ReadonlyArray<[tool: string, pkg: string]> = [
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['dockerd', 'docker.io'],
  ['docker', 'docker.io'],
];

async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const [tool, pkg] of REQUIRED_TOOLS)
    if ((await run('sh', ['-c', 'command -v "$1"', 'sh', tool], { env: baseEnv(), timeoutMs: 5_000 })).code !== 0)
      missing.push(`${tool} (${pkg})`);
  return missing;
}

async function checkTools(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the swarm harness needs root (network namespaces, dockerd)');
  let missing = await missingTools();
  // A fresh machine may lack iproute2 (docker.io does not depend on it): remote.ts installs it, as root on Debian.
  if (missing.length > 0 && missing.every((m) => m.startsWith('ip '))) {
    await ensureRemoteTools();
    missing = await missingTools();
  }
  if (missing.length > 0) throw new Error(`the swarm harness needs: ${missing.join(', ')}`);
}

/**
 * Starts `nodes` dockerd daemons, each in a network namespace of its own, joins them into one swarm (the first
 * inits it and is its only manager), waits (bounded) until the manager lists every node Ready, and loads the
 * images into each. On any failure everything made so far is torn down before the error is thrown.
 */
export async function startSwarm(options: SwarmOptions = {}): Promise<Swarm> {
  const began = Date.now();
  const count = options.nodes ?? 2;
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error(`nodes must be 1..9, not ${count}`);
  await checkTools();
  await removeStaleSwarms();

  const id = randomBytes(3).toString('hex');
  const tag = `dsw${id}`; // 9 characters: every interface name below stays within Linux's 15
  const root = await mkdtemp(join(tmpdir(), ROOT_PREFIX));
  const { switchNs, hostVeth } = networkNames(tag);
  const names = Array.from({ length: count }, (_, i) => `${tag}-n${i + 1}`);
  // Who made it, so a later run can clear it away if this process dies without stop() (removeStaleSwarms).
  await writeFile(join(root, OWNER_FILE), `${JSON.stringify({ pid: process.pid, tag, names })}\n`);
  const daemons = new Map<string, Daemon>();
  const docker = (socket: string, args: readonly string[], timeoutMs = 60_000) =>
    must('docker', ['-H', `unix://${socket}`, ...args], { timeoutMs });
  const dirOf = (name: string) => join(root, name);
  const socketOf = (name: string) => join(dirOf(name), 'docker.sock');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= cleanupAll('swarm', [
      [
        'remove services',
        async () => {
          // Their tasks would otherwise be stopped one by one by each dockerd's shutdown, each with its grace period.
          const manager = names[0];
          const d = manager === undefined ? undefined : daemons.get(manager);
          if (manager === undefined || !d || d.exited()) return;
          const r = await run('docker', ['-H', `unix://${socketOf(manager)}`, 'service', 'ls', '-q'], {
            env: baseEnv(),
            timeoutMs: 10_000,
          });
          const services = r.stdout.split('\n').filter(Boolean);
          if (r.code === 0 && services.length > 0)
            await run('docker', ['-H', `unix://${socketOf(manager)}`, 'service', 'rm', ...services], {
              env: baseEnv(),
              timeoutMs: 15_000,
            });
        },
      ],
      [
        'remove containers',
        async () => {
          await Promise.all(
            [...daemons].map(async ([name, d]) => {
              if (d.exited()) return;
              const env = baseEnv();
              const ps = await run('docker', ['-H', `unix://${socketOf(name)}`, 'ps', '-aq'], {
                env,
                timeoutMs: 10_000,
              });
              const ids = ps.stdout.split('\n').filter(Boolean);
              if (ids.length > 0)
                await run('docker', ['-H', `unix://${socketOf(name)}`, 'rm', '-f', '-v', ...ids], {
                  env,
                  timeoutMs: 30_000,
                });
            }),
          );
        },
      ],
      [
        'stop daemons',
        async () => {
          await Promise.all(
            [...daemons.values()].map(async (d) => {
              if (d.exited()) return;
              // A node's dockerd takes 2.5-6 s to shut down (swarm leave broadcasts, containerd reconnects).
              d.child.kill('SIGTERM');
              if (await d.waitExit(10_000)) return;
              d.child.kill('SIGKILL');
              await d.waitExit(5_000);
            }),
          );
        },
      ],
      ['kill leftovers', () => killLeftovers(root, names)],
      ['remove cgroups', async () => removeCgroups(names)],
      ['remove namespaces', () => removeNetwork(tag, names)],
      ['remove temp dir', () => rm(root, { recursive: true, force: true, maxRetries: 3 })],
    ]));

  try {
    const used = networksIn(
      `${await must('ip', ['-4', '-o', 'addr', 'show'])}\n${await must('ip', ['-4', 'route', 'show', 'table', 'all'])}`,
    );
    const prefix = freeSubnetPrefix(used);
    if (prefix === null) throw new Error('no free 10.160-199.x.0/24 network for the swarm');
    const ns = (name: string, ...args: string[]) => must('ip', ['-n', name, ...args]);

    // --- the switch, and the host's port on it ---------------------------------------------------
    await must('ip', ['netns', 'add', switchNs]);
    await ns(switchNs, 'link', 'add', 'sw', 'type', 'bridge');
    await ns(switchNs, 'link', 'set', 'sw', 'up');
    await must('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'host', 'netns', switchNs]);
    await ns(switchNs, 'link', 'set', 'host', 'master', 'sw', 'up');
    await must('ip', ['addr', 'add', `${prefix}1/24`, 'dev', hostVeth]);
    await must('ip', ['link', 'set', hostVeth, 'up']);

    // --- the nodes' namespaces -------------------------------------------------------------------
    for (const [i, name] of names.entries()) {
      await must('ip', ['netns', 'add', name]);
      const port = `n${i + 1}`;
      await must('ip', ['-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
      await ns(switchNs, 'link', 'set', port, 'master', 'sw', 'up');
      await ns(name, 'link', 'set', 'lo', 'up');
      await ns(name, 'addr', 'add', `${prefix}${11 + i}/24`, 'dev', 'eth0');
      await ns(name, 'link', 'set', 'eth0', 'up');
      // The bridge for this dockerd's own containers (never --bridge=none; see ENVIRONMENT.md).
      await ns(name, 'link', 'add', 'br0', 'type', 'bridge');
      await ns(name, 'addr', 'add', '192.168.240.1/24', 'dev', 'br0');
      await ns(name, 'link', 'set', 'br0', 'up');
    }

    // --- the daemons (started together: each is up in well under a second) -------------------------
    await Promise.all(
      names.map(async (name) => {
        const dir = dirOf(name);
        await mkdir(join(dir, 'data'), { recursive: true, mode: 0o700 });
        await mkdir(join(dir, 'exec'), { recursive: true, mode: 0o700 });
        await mkdir(join(dir, 'cgroup'), { recursive: true, mode: 0o700 });
        // An empty config file, so /etc/docker/daemon.json can't leak into this engine.
        await writeFile(join(dir, 'daemon.json'), '{}\n');
        const d = startDaemon(
          'nsenter',
          [
            `--net=/run/netns/${name}`,
            '--',
            'unshare',
            '--mount',
            '--uts',
            '--propagation',
            'slave',
            '--',
            'sh',
            '-c',
            // In its own mount namespace: a sysfs of the node's network namespace on /sys (else dockerd reads
            // and writes /sys/class/net of the host's, where an interface of the same name, a docker_gwbridge
            // say, would be the host's), with the host's cgroups kept at /sys/fs/cgroup (moved aside and back).
            [
              `mount --rbind /sys/fs/cgroup '${join(dir, 'cgroup')}'`,
              'mount -t sysfs sysfs /sys',
              `mount --rbind '${join(dir, 'cgroup')}' /sys/fs/cgroup`,
              `umount -l '${join(dir, 'cgroup')}'`,
              `hostname ${name}`,
              'exec "$0" "$@"',
            ].join(' && '),
            'dockerd',
            '--config-file',
            join(dir, 'daemon.json'),
            '--data-root',
            join(dir, 'data'),
            '--exec-root',
            join(dir, 'exec'),
            '--pidfile',
            join(dir, 'docker.pid'),
            '-H',
            `unix://${socketOf(name)}`,
            '-b',
            'br0',
            '--cgroup-parent',
            `/${name}`,
            '--insecure-registry',
            `${prefix}0/24`,
          ],
          join(dir, 'dockerd.log'),
        );
        daemons.set(name, d);
        await waitUntil(
          `dockerd of swarm node ${name}`,
          async () =>
            (
              await run('docker', ['-H', `unix://${socketOf(name)}`, 'version', '--format', '{{.Server.Version}}'], {
                env: baseEnv(),
                timeoutMs: 5_000,
              })
            ).code === 0,
          30_000,
          () => (d.exited() ? `dockerd exited:\n${d.logTail()}` : undefined),
        ).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}\ndockerd log (${name}):\n${d.logTail()}`, { cause: error });
        });
      }),
    );

    // --- the swarm ---------------------------------------------------------------------------------
    const [first, ...rest] = names as [string, ...string[]];
    const addressOf = (name: string) => `${prefix}${11 + names.indexOf(name)}`;
    await docker(socketOf(first), [
      'swarm',
      'init',
      '--advertise-addr',
      addressOf(first),
      '--listen-addr',
      `${addressOf(first)}:2377`,
    ]);
    const token = await docker(socketOf(first), ['swarm', 'join-token', '-q', 'worker']);
    await Promise.all(
      rest.map((name) =>
        docker(socketOf(name), [
          'swarm',
          'join',
          '--token',
          token,
          '--advertise-addr',
          addressOf(name),
          '--listen-addr',
          `${addressOf(name)}:2377`,
          `${addressOf(first)}:2377`,
        ]),
      ),
    );
    const nodeIds = new Map<string, string>();
    let listed = '';
    await waitUntil(
      `the swarm's ${count} nodes Ready`,
      async () => {
        listed = await docker(socketOf(first), ['node', 'ls', '--format', '{{.Hostname}} {{.ID}} {{.Status}}']);
        const ready = listed
          .split('\n')
          .map((line) => line.split(' '))
          .filter(([host, , status]) => names.includes(host ?? '') && status === 'Ready');
        for (const [host = '', nodeId = ''] of ready) nodeIds.set(host, nodeId);
        return ready.length === count;
      },
      30_000,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; node ls:\n${listed}`, { cause: error });
    });

    // --- images --------------------------------------------------------------------------------------
    const images = options.images ?? ['busybox:1.36'];
    if (images.length > 0) {
      const tar = join(root, 'images.tar');
      await must('docker', ['save', '-o', tar, ...images], { timeoutMs: 120_000 });
      await Promise.all(names.map((name) => docker(socketOf(name), ['load', '-q', '-i', tar], 120_000)));
      await rm(tar, { force: true });
    }

    const nodes: SwarmNode[] = names.map((name, i) => ({
      name,
      address: addressOf(name),
      socket: socketOf(name),
      url: `unix://${socketOf(name)}`,
      nodeId: nodeIds.get(name) ?? '',
      manager: i === 0,
      docker: (...args: string[]) => docker(socketOf(name), args),
      log: (lines?: number) => daemons.get(name)?.logTail(lines) ?? '(not started)',
    }));
    return {
      nodes,
      manager: nodes[0] as SwarmNode,
      subnet: `${prefix}0/24`,
      hostAddress: `${prefix}1`,
      startedInMs: Date.now() - began,
      stop,
    };
  } catch (error) {
    // The logs go with the temp dir: read them first. A daemon that failed to start has its own in the error.
    const logs = (error as Error).message.includes('dockerd log')
      ? ''
      : [...daemons].map(([name, d]) => `\n--- dockerd log (${name}), last lines:\n${d.logTail(15)}`).join('');
    const cleanup = await stop().then(
      () => '',
      (e: unknown) => `\n(and ${(e as Error).message})`,
    );
    throw new Error(`starting the swarm failed: ${(error as Error).message}${logs}${cleanup}`, { cause: error });
  }
}
