/**
 * Real remote Docker endpoints on this machine, for integration tests of ssh://, tcp:// + TLS and docker
 * contexts. Everything listens on 127.0.0.1 only, lives in its own temp directory, and is torn down by
 * `stop()` / `remove()` (call them in afterAll; they are safe to call after a failed or partial start).
 *
 *   startSshHost()        an sshd whose far side runs `docker system dial-stdio` against the local engine
 *   startTlsEngine()      a second dockerd on tcp://127.0.0.1:PORT with --tlsverify, its own bridge and roots
 *   remoteEngines()       both, started and stopped by the calling suite's hooks
 *   createDockerContext() a docker context in a throwaway DOCKER_CONFIG
 *   ensureRemoteTools()   installs openssh-server / openssl / iproute2 when missing (root on Debian)
 *
 * Every wait below is bounded in time; every process started here is ended by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './docker.js';
import { run, type RunOptions } from './process.js';

// ------------------------------------------------------------------------------------------------
// Small process helpers
// ------------------------------------------------------------------------------------------------

/** Like run(), but rejects unless the command exits 0; resolves to trimmed stdout. */
async function must(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, options);
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true, at most `timeoutMs`; `gaveUp` says why when it never does. */
async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
  gaveUp?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stop = gaveUp?.();
    if (stop !== undefined) throw new Error(`${what}: ${stop}`);
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** A long-running child whose output goes to a log file (a pipe would kill it with SIGPIPE if we died first). */
interface Daemon {
  child: ChildProcess;
  logFile: string;
  exited: () => boolean;
  /** Resolves true when the process has exited within `ms`. */
  waitExit: (ms: number) => Promise<boolean>;
  logTail: () => string;
}

function startDaemon(cmd: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv): Daemon {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  let exitedFlag = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exitedFlag = true;
      resolve();
    });
    child.once('error', () => {
      exitedFlag = true;
      resolve();
    });
  });
  // Best effort if the test process ends without calling stop(): don't leave the daemon behind.
  const onExit = () => {
    if (!exitedFlag) child.kill('SIGTERM');
  };
  process.once('exit', onExit);
  void exit.then(() => process.removeListener('exit', onExit));
  return {
    child,
    logFile,
    exited: () => exitedFlag,
    waitExit: async (ms) => {
      if (exitedFlag) return true;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
      const result = await Promise.race([exit.then(() => true), timedOut]);
      clearTimeout(timer);
      return result;
    },
    logTail: () => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}

/** SIGTERM, a grace period, then SIGKILL: the daemon is gone when this resolves (bounded). */
async function stopDaemon(daemon: Daemon, graceMs: number): Promise<void> {
  if (daemon.exited()) return;
  daemon.child.kill('SIGTERM');
  if (await daemon.waitExit(graceMs)) return;
  daemon.child.kill('SIGKILL');
  await daemon.waitExit(5_000);
}

/**
 * Starts a daemon on a free port and waits until it answers there. The port can be taken between our probe and the
 * daemon's bind: a daemon that says so is stopped and started again on another, three times at most. One that
 * fails otherwise is stopped, and the error carries its log.
 */
async function startOnFreePort(o: {
  name: string;
  address: (port: number) => string;
  start: (port: number) => Daemon | Promise<Daemon>;
  answers: (port: number) => Promise<boolean>;
  timeoutMs: number;
  intervalMs: number;
  /** How long it may take to stop, before SIGKILL. */
  graceMs: number;
}): Promise<{ daemon: Daemon; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const daemon = await o.start(port);
    try {
      await waitUntil(
        `${o.name} on ${o.address(port)}`,
        () => o.answers(port),
        o.timeoutMs,
        o.intervalMs,
        () => (daemon.exited() ? `${o.name} exited:\n${daemon.logTail()}` : undefined),
      );
      return { daemon, port };
    } catch (error) {
      const inUse = /address already in use/i.test(daemon.logTail());
      await stopDaemon(daemon, o.graceMs);
      if (!inUse || attempt >= 3)
        throw new Error(
          `${error instanceof Error ? error.message : String(error)}\n${o.name} log:\n${daemon.logTail()}`,
          {
            cause: error,
          },
        );
    }
  }
}

/** What every harness here gives, besides its own means of reaching it. */
interface Harness {
  /** How long start took, for reports. */
  startedInMs: number;
  /** The last lines of its daemon's log, for failure messages. */
  log(): string;
  /** Stops it and removes what it made (bounded; a second call does nothing new). */
  stop(): Promise<void>;
}

function harness(began: number, daemon: Daemon, stop: () => Promise<void>): Harness {
  return { startedInMs: Date.now() - began, log: () => daemon.logTail(), stop };
}

export interface Proc {
  pid: number;
  ppid: number;
  /** R, S, D, Z (zombie: dead, waiting for its parent to reap it), ... */
  state: string;
  cmdline: string;
  cgroup: string;
}

/** This machine's processes (other than ours), read from /proc. */
export function processes(): Proc[] {
  const procs: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      // /proc/PID/stat: "pid (comm) state ppid ..." — comm may hold spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state = '', ppid = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({ pid, ppid: Number(ppid), state, cmdline, cgroup: readFileSync(`/proc/${pid}/cgroup`, 'utf8') });
    } catch {
      // gone meanwhile
    }
  }
  return procs;
}

/** Every descendant of pid (children, their children, ...), found before anything is killed and reparented. */
function descendantsOf(pid: number): number[] {
  const procs = processes();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const p of procs) {
      if (p.ppid !== parent || found.includes(p.pid)) continue;
      found.push(p.pid);
      queue.push(p.pid);
    }
  }
  return found;
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs every cleanup step even when one fails, then reports all failures at once. */
export async function cleanupAll(what: string, steps: Array<[string, () => Promise<unknown>]>): Promise<void> {
  const errors: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (errors.length > 0) throw new Error(`${what} cleanup failed:\n  ${errors.join('\n  ')}`);
}

/** The process environment without anything that would point a docker CLI somewhere else. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_TLS'])
    delete env[key];
  return env;
}

const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// ------------------------------------------------------------------------------------------------
// System packages
// ------------------------------------------------------------------------------------------------

/** Which Debian package brings each tool the harness runs. */
const TOOLS: ReadonlyArray<[tool: string, pkg: string]> = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['openssl', 'openssl'],
  ['ip', 'iproute2'],
];

async function haveTool(tool: string): Promise<boolean> {
  if (tool.startsWith('/')) return existsSync(tool);
  return (
    (
      await run('sh', ['-c', 'command -v "$1"', 'sh', tool], {
        env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${STANDARD_PATH}` },
        timeoutMs: 5_000,
      })
    ).code === 0
  );
}

let toolsReady: Promise<void> | undefined;

/**
 * Makes sure sshd, ssh, ssh-keygen, openssl and ip exist, installing their Debian packages when root with
 * apt-get (a fresh CI machine). Runs once per process; a failure is not cached, so a later call retries.
 */
export function ensureRemoteTools(): Promise<void> {
  toolsReady ??= installMissingTools().catch((error: unknown) => {
    toolsReady = undefined;
    throw error;
  });
  return toolsReady;
}

async function installMissingTools(): Promise<void> {
  const missing: string[] = [];
  for (const [tool, pkg] of TOOLS) if (!(await haveTool(tool)) && !missing.includes(pkg)) missing.push(pkg);
  if (missing.length === 0) return;
  const root = process.getuid?.() === 0;
  if (!root || !(await haveTool('apt-get'))) {
    throw new Error(
      `the remote-engine harness needs these packages: ${missing.join(' ')} (install them, or run as root on Debian)`,
    );
  }
  // openssh-server's postinst would start a system sshd on port 22; Debian's policy-rc.d hook (exit 101)
  // forbids service starts during the install. Only add it when there is none, and take it away after.
  const policy = '/usr/sbin/policy-rc.d';
  const addedPolicy = !existsSync(policy);
  if (addedPolicy) await writeFile(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await must('apt-get', ['update', '-qq'], { env, timeoutMs: 300_000 });
    await must('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 600_000 });
  } finally {
    if (addedPolicy) await rm(policy, { force: true });
  }
}

// ------------------------------------------------------------------------------------------------
// ssh:// — an sshd on 127.0.0.1 whose far side is this machine's engine
// ------------------------------------------------------------------------------------------------

/** A harness whose log() is the last lines of sshd's log (-e). */
export interface SshHost extends Harness {
  /** ssh://root@127.0.0.1:PORT */
  url: string;
  port: number;
  /**
   * A directory laid out like ~/.ssh (it is `${home}/.ssh`): `config` (Host 127.0.0.1 with Port, User,
   * IdentityFile, UserKnownHostsFile, IdentitiesOnly, StrictHostKeyChecking yes, BatchMode yes),
   * `id_ed25519` (+ .pub) and `known_hosts` (the host key for [127.0.0.1]:PORT).
   */
  sshDir: string;
  /** The fake home whose .ssh is sshDir. */
  home: string;
  /**
   * Environment for a child process so that a plain `ssh root@127.0.0.1 -p PORT` (and so the docker CLI and
   * anything else that spawns `ssh`) uses this key and known_hosts and never the real ~/.ssh:
   *   HOME          the fake home (for code that reads $HOME/.ssh itself, e.g. an ssh2-based client);
   *   PATH          a directory holding an `ssh` wrapper first — OpenSSH ignores $HOME (it takes the home
   *                 directory from the password database), so a fake HOME alone does NOT redirect it; the
   *                 wrapper runs the real ssh with `-F sshDir/config`, which also skips /etc/ssh/ssh_config;
   *   SSH_AUTH_SOCK empty, so no agent key is offered.
   * Merge it over process.env: `{ ...process.env, ...host.env }`.
   */
  env: Record<string, string>;
  /** Same as env, but the known_hosts is empty: the host key is unknown and ssh must refuse it. */
  emptyKnownHostsEnv: Record<string, string>;
  /** Args that point a directly spawned ssh at this host's config: ['-F', `${sshDir}/config`]. */
  sshArgs: string[];
}

/**
 * Starts `sshd -D -e` on 127.0.0.1:FREEPORT with our own host key, accepting only a fresh client key for
 * root. The far side's PATH and DOCKER_HOST are set with SetEnv (sshd clears the environment), so
 * `docker system dial-stdio` reaches the engine on /var/run/docker.sock.
 */
export async function startSshHost(): Promise<SshHost> {
  const began = Date.now();
  await ensureRemoteTools();
  const root = await mkdtemp(join(tmpdir(), 'deploy-ssh-'));
  let daemon: Daemon | undefined;
  let stopping: Promise<void> | undefined;
  // Memoized: a second stop() (say, afterAll after a failed start already cleaned up) does nothing new.
  const stop = () =>
    (stopping ??= cleanupAll('ssh host', [
      [
        'stop sshd',
        async () => {
          if (!daemon) return;
          // Each connection is a process tree under the listener (sshd monitor, session sshd, shell, command)
          // that outlives it: end those too.
          // (Only while it runs: the pid of a dead process may already belong to someone else.)
          const pid = daemon.child.pid;
          const sessions = pid === undefined || daemon.exited() ? [] : descendantsOf(pid);
          await stopDaemon(daemon, 5_000);
          killPids(sessions);
        },
      ],
      ['remove temp dir', () => rm(root, { recursive: true, force: true })],
    ]));
  try {
    const server = join(root, 'server');
    const home = join(root, 'home');
    const sshDir = join(home, '.ssh');
    const unknownHome = join(root, 'home-unknown-host');
    const unknownSshDir = join(unknownHome, '.ssh');
    await Promise.all(
      [server, sshDir, unknownSshDir, join(root, 'bin'), join(root, 'bin-unknown-host')].map((d) =>
        mkdir(d, { recursive: true, mode: 0o700 }),
      ),
    );

    const hostKey = join(server, 'ssh_host_ed25519_key');
    const clientKey = join(sshDir, 'id_ed25519');
    await Promise.all([
      must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy-test-host', '-f', hostKey]),
      must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy-test-client', '-f', clientKey]),
    ]);
    const clientPub = await readFile(`${clientKey}.pub`, 'utf8');
    const authorizedKeys = join(server, 'authorized_keys');
    await writeFile(authorizedKeys, clientPub, { mode: 0o600 });
    // The privilege-separation directory sshd insists on (normally made by the service script).
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

    const { daemon: sshd, port } = await startOnFreePort({
      name: 'sshd',
      address: (port) => `127.0.0.1:${port}`,
      start: async (port) => {
        const config = join(server, 'sshd_config');
        await writeFile(
          config,
          [
            '# Written by test/helpers/remote.ts (a throwaway sshd for tests).',
            `Port ${port}`,
            'ListenAddress 127.0.0.1',
            `HostKey ${hostKey}`,
            `PidFile ${join(server, 'sshd.pid')}`,
            'PermitRootLogin prohibit-password',
            'PubkeyAuthentication yes',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            `AuthorizedKeysFile ${authorizedKeys}`,
            'UsePAM no',
            // The key files sit under /tmp (world-writable), which StrictModes would reject.
            'StrictModes no',
            'PrintMotd no',
            'PrintLastLog no',
            // The docker CLI opens one ssh connection per API connection; don't throttle bursts.
            'MaxStartups 100',
            // sshd gives sessions a compiled-in PATH and nothing else; make both explicit. (root's ~/.bashrc may
            // still prepend to PATH: bash reads it for ssh commands.)
            `SetEnv PATH=${STANDARD_PATH} DOCKER_HOST=unix:///var/run/docker.sock`,
            'Subsystem sftp internal-sftp',
            '',
          ].join('\n'),
        );
        return startDaemon('/usr/sbin/sshd', ['-D', '-e', '-f', config], join(server, 'sshd.log'), {
          PATH: STANDARD_PATH,
        });
      },
      answers: (port) => sshBanner(port),
      timeoutMs: 10_000,
      intervalMs: 100,
      graceMs: 2_000,
    });
    daemon = sshd;

    const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    // Looked up on the standard PATH only: the caller's PATH may already hold another harness's wrapper.
    const realSsh = await must('sh', ['-c', 'command -v ssh'], { env: { PATH: STANDARD_PATH } });

    /** Writes one client side (home/.ssh + ssh wrapper) and returns its environment. */
    const clientSide = async (dir: string, binDir: string, knownHosts: string): Promise<Record<string, string>> => {
      const key = join(dir, 'id_ed25519');
      if (key !== clientKey) {
        await copyFile(clientKey, key);
        await copyFile(`${clientKey}.pub`, `${key}.pub`);
      }
      await chmod(key, 0o600); // ssh ignores a private key others can read
      await writeFile(join(dir, 'known_hosts'), knownHosts, { mode: 0o600 });
      const config = join(dir, 'config');
      await writeFile(
        config,
        [
          '# Written by test/helpers/remote.ts: this test host only, nothing from ~/.ssh or /etc/ssh.',
          'Host 127.0.0.1',
          `  Port ${port}`,
          '  User root',
          `  IdentityFile ${key}`,
          '  IdentitiesOnly yes',
          '  IdentityAgent none',
          `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
          '  GlobalKnownHostsFile /dev/null',
          '  StrictHostKeyChecking yes',
          '  UpdateHostKeys no',
          '  BatchMode yes',
          '  ConnectTimeout 10',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      const wrapper = join(binDir, 'ssh');
      await writeFile(
        wrapper,
        `#!/bin/sh\n# test/helpers/remote.ts: the real ssh, with this harness's config only.\nexec '${realSsh}' -F '${config}' "$@"\n`,
        { mode: 0o755 },
      );
      return { HOME: join(dir, '..'), PATH: `${binDir}:${process.env.PATH ?? STANDARD_PATH}`, SSH_AUTH_SOCK: '' };
    };

    const env = await clientSide(sshDir, join(root, 'bin'), `[127.0.0.1]:${port} ${hostPub}\n`);
    const emptyKnownHostsEnv = await clientSide(unknownSshDir, join(root, 'bin-unknown-host'), '');
    return {
      url: `ssh://root@127.0.0.1:${port}`,
      port,
      sshDir,
      home,
      env,
      emptyKnownHostsEnv,
      sshArgs: ['-F', join(sshDir, 'config')],
      ...harness(began, sshd, stop),
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** True once something on the port speaks SSH (sends its "SSH-2.0-..." banner); bounded to 1 s. */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

// ------------------------------------------------------------------------------------------------
// tcp:// + TLS — a second dockerd
// ------------------------------------------------------------------------------------------------

/** A harness whose log() is the last lines of dockerd's log. */
export interface TlsEngine extends Harness {
  /** tcp://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The CLIENT's ca.pem, cert.pem, key.pem, as DOCKER_CERT_PATH expects. */
  certDir: string;
  /**
   * ca.pem is the right CA (so the client trusts the server), but cert.pem/key.pem are signed by a
   * DIFFERENT CA: the engine must refuse the handshake.
   */
  wrongCertDir: string;
  /** DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH for a docker CLI (or the tool) to reach this engine. */
  env: { DOCKER_HOST: string; DOCKER_TLS_VERIFY: '1'; DOCKER_CERT_PATH: string };
  /** The Linux bridge made for this engine and its IPv4 network (containers get addresses from it). */
  bridge: string;
  subnet: string;
  /** Runs the docker CLI against this engine (own DOCKER_CONFIG, so ~/.docker contexts can't interfere). */
  docker(...args: string[]): Promise<string>;
  /** Copies an image (default busybox:1.36) from the first engine, so builds FROM it work here. */
  loadBaseImage(ref?: string): Promise<void>;
}

/** openssl, run in dir. */
const ssl = (dir: string, ...args: string[]) => must('openssl', args, { cwd: dir });

/** An EC P-256 key (fast to make, and fine for Go's TLS). */
const newKey = (dir: string, file: string) =>
  ssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file);

async function newCa(dir: string, name: string): Promise<void> {
  await newKey(dir, `${name}-key.pem`);
  await ssl(
    dir,
    'req',
    '-x509',
    '-new',
    '-key',
    `${name}-key.pem`,
    '-subj',
    `/CN=deploy test ${name}`,
    '-days',
    '2',
    '-out',
    `${name}.pem`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}

async function signedCert(dir: string, ca: string, name: string, subject: string, extensions: string): Promise<void> {
  await newKey(dir, `${name}-key.pem`);
  await ssl(dir, 'req', '-new', '-key', `${name}-key.pem`, '-subj', subject, '-out', `${name}.csr`);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await ssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}-key.pem`,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}-cert.pem`,
  );
}

/** IPv4 networks (a.b.c.d/len) this machine already has a route or address for. */
async function usedNetworks(): Promise<Array<[number, number]>> {
  const out = `${await must('ip', ['-4', '-o', 'addr', 'show'])}\n${await must('ip', ['-4', 'route', 'show', 'table', 'all'])}`;
  const nets: Array<[number, number]> = [];
  for (const m of out.matchAll(/\b(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\b/g)) {
    const [a, b, c, d, len] = m.slice(1).map(Number) as [number, number, number, number, number];
    nets.push([((a << 24) | (b << 16) | (c << 8) | d) >>> 0, len]);
  }
  return nets;
}

function overlaps([a, alen]: [number, number], [b, blen]: [number, number]): boolean {
  const len = Math.min(alen, blen);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

/**
 * Starts a second dockerd on tcp://127.0.0.1:FREEPORT that demands a client certificate (--tlsverify).
 * It has its own data/exec roots, pidfile, managed containerd and bridge (`-b NAME --iptables=false`; never
 * --bridge=none, which deletes the first engine's docker0). Containers published on 127.0.0.1 are reached
 * through docker-proxy (the userland proxy), which needs no iptables rules.
 */
export async function startTlsEngine(): Promise<TlsEngine> {
  const began = Date.now();
  await ensureRemoteTools();
  const root = await mkdtemp(join(tmpdir(), 'deploy-tls-'));
  const bridge = `dtls-${randomBytes(4).toString('hex')}`; // 13 chars; Linux allows 15
  let bridgeMade = false;
  let prefix = ''; // "10.B.C." — every address this engine hands out starts with it
  let daemon: Daemon | undefined;
  const dockerConfig = join(root, 'docker-config');
  let env: TlsEngine['env'] = { DOCKER_HOST: '', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(root, 'client') };
  const cliEnv = () => ({ ...baseEnv(), ...env, DOCKER_CONFIG: dockerConfig });
  const docker = (...args: string[]) => must('docker', args, { env: cliEnv(), timeoutMs: 120_000 });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= cleanupAll('TLS engine', [
      [
        'remove containers',
        async () => {
          // Every container on this engine is a test's; removing them first makes dockerd's shutdown quick.
          if (!daemon || daemon.exited()) return;
          const ids = (await run('docker', ['ps', '-aq'], { env: cliEnv(), timeoutMs: 15_000 })).stdout
            .split('\n')
            .filter(Boolean);
          if (ids.length > 0) await run('docker', ['rm', '-f', '-v', ...ids], { env: cliEnv(), timeoutMs: 30_000 });
        },
      ],
      ['stop dockerd', async () => daemon && stopDaemon(daemon, 20_000)],
      [
        'kill leftovers',
        async () => {
          // Only after a SIGKILL: its containerd and shims (their command lines name our exec root),
          // docker-proxy processes forwarding to our subnet, and the containers' own processes (a dead shim
          // leaves them running; they sit in cgroups named after this engine's container ids).
          let ids: string[] = [];
          try {
            ids = readdirSync(join(root, 'data', 'containers')).filter((id) => /^[0-9a-f]{64}$/.test(id));
          } catch {
            // no containers were ever made
          }
          const ours = (p: Proc) =>
            p.state !== 'Z' &&
            (p.cmdline.includes(`${root}/`) ||
              (prefix !== '' && p.cmdline.includes(`-container-ip ${prefix}`)) ||
              ids.some((id) => p.cgroup.includes(id)));
          // A few rounds, bounded: a dying shim or containerd may still be starting something.
          for (let round = 0; round < 10; round++) {
            const left = processes().filter(ours);
            if (left.length === 0) return;
            killPids(left.map((p) => p.pid));
            await sleep(200);
          }
          const left = processes().filter(ours);
          if (left.length > 0) throw new Error(`still running: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
        },
      ],
      [
        'unmount',
        async () => {
          // dockerd unmounts its overlays and netns files when it stops cleanly; after a kill they remain.
          const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
            .split('\n')
            .map((line) => line.split(' ')[4] ?? '')
            .filter((point) => point === root || point.startsWith(`${root}/`))
            .sort((a, b) => b.length - a.length);
          for (const point of mounts)
            if ((await run('umount', [point], { timeoutMs: 10_000 })).code !== 0)
              await must('umount', ['-l', point], { timeoutMs: 10_000 });
        },
      ],
      ['remove bridge', async () => bridgeMade && must('ip', ['link', 'del', bridge])],
      ['remove temp dir', () => rm(root, { recursive: true, force: true, maxRetries: 3 })],
    ]));

  try {
    // --- certificates ---------------------------------------------------------------------------
    const pki = join(root, 'pki');
    const certDir = join(root, 'client');
    const wrongCertDir = join(root, 'wrong-client');
    await Promise.all(
      [pki, certDir, wrongCertDir, dockerConfig, join(root, 'data'), join(root, 'exec')].map((d) =>
        mkdir(d, { recursive: true, mode: 0o700 }),
      ),
    );
    await Promise.all([newCa(pki, 'ca'), newCa(pki, 'other-ca')]);
    // Go checks the server name against subjectAltName only (the CN is ignored).
    await signedCert(
      pki,
      'ca',
      'server',
      '/CN=localhost',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n',
    );
    const clientExt = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n';
    await signedCert(pki, 'ca', 'client', '/CN=deploy-test-client', clientExt);
    await signedCert(pki, 'other-ca', 'stranger', '/CN=deploy-test-stranger', clientExt);
    const place = async (dir: string, cert: string) => {
      await copyFile(join(pki, 'ca.pem'), join(dir, 'ca.pem'));
      await copyFile(join(pki, `${cert}-cert.pem`), join(dir, 'cert.pem'));
      await copyFile(join(pki, `${cert}-key.pem`), join(dir, 'key.pem'));
      await chmod(join(dir, 'key.pem'), 0o600);
    };
    await place(certDir, 'client');
    await place(wrongCertDir, 'stranger');

    // --- the bridge -------------------------------------------------------------------------------
    // A random 10.B.C.0/24 (B in 200..250) that no route or address here overlaps; docker0 is 172.17/16.
    // The bridge takes its lower half; user-defined networks on this engine get /28s from the upper half.
    const used = await usedNetworks();
    for (let i = 0; i < 50 && prefix === ''; i++) {
      const b = 200 + Math.floor(Math.random() * 51);
      const c = Math.floor(Math.random() * 256);
      if (!used.some((net) => overlaps(net, [((10 << 24) | (b << 16) | (c << 8)) >>> 0, 24]))) prefix = `10.${b}.${c}.`;
    }
    if (prefix === '') throw new Error('no free 10.200-250.x.0/24 network for the TLS engine bridge');
    await must('ip', ['link', 'add', bridge, 'type', 'bridge']);
    bridgeMade = true;
    await must('ip', ['addr', 'add', `${prefix}1/25`, 'dev', bridge]);
    await must('ip', ['link', 'set', bridge, 'up']);

    // --- dockerd ----------------------------------------------------------------------------------
    // An empty config file, so /etc/docker/daemon.json (hosts, bridge, ...) can't leak into this engine.
    await writeFile(join(root, 'daemon.json'), '{}\n');
    // dockerd reads DOCKER_TLS_VERIFY / DOCKER_CERT_PATH as flag defaults: give it a clean environment.
    const daemonEnv = { ...baseEnv(), PATH: `${process.env.PATH ?? ''}:${STANDARD_PATH}` };
    const { daemon: dockerd, port } = await startOnFreePort({
      name: 'dockerd',
      address: (port) => `tcp://127.0.0.1:${port}`,
      start: (port) => {
        env = { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir };
        return startDaemon(
          'dockerd',
          [
            '--config-file',
            join(root, 'daemon.json'),
            '-H',
            `tcp://127.0.0.1:${port}`,
            '--tlsverify',
            '--tlscacert',
            join(pki, 'ca.pem'),
            '--tlscert',
            join(pki, 'server-cert.pem'),
            '--tlskey',
            join(pki, 'server-key.pem'),
            '--data-root',
            join(root, 'data'),
            '--exec-root',
            join(root, 'exec'),
            '--pidfile',
            join(root, 'docker.pid'),
            '-b',
            bridge,
            '--iptables=false',
            '--default-address-pool',
            `base=${prefix}128/25,size=28`,
          ],
          join(root, 'dockerd.log'),
          daemonEnv,
        );
      },
      answers: async () =>
        (await run('docker', ['version', '--format', '{{.Server.Version}}'], { env: cliEnv(), timeoutMs: 5_000 }))
          .code === 0,
      timeoutMs: 60_000,
      intervalMs: 250,
      graceMs: 10_000,
    });
    daemon = dockerd;

    return {
      url: env.DOCKER_HOST,
      port,
      certDir,
      wrongCertDir,
      env,
      bridge,
      subnet: `${prefix}0/24`,
      docker,
      loadBaseImage: (ref = 'busybox:1.36') => copyImage(ref, cliEnv()),
      ...harness(began, dockerd, stop),
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** `docker save REF` on the first engine piped into `docker load` on another (bounded to 2 minutes). */
function copyImage(ref: string, targetEnv: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const limits = { timeout: 120_000, killSignal: 'SIGKILL' as const };
    const save = spawn('docker', ['save', ref], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...limits });
    const load = spawn('docker', ['load', '-q'], { env: targetEnv, stdio: ['pipe', 'ignore', 'pipe'], ...limits });
    let errors = '';
    save.stderr.on('data', (b: Buffer) => (errors += b.toString()));
    load.stderr.on('data', (b: Buffer) => (errors += b.toString()));
    save.stdout.pipe(load.stdin);
    load.stdin.on('error', () => undefined); // load failing first shows up in its exit code
    let saveCode: number | null = null;
    save.on('error', reject);
    load.on('error', reject);
    save.on('close', (code) => (saveCode = code));
    load.on('close', (code) => {
      if (code === 0 && saveCode === 0) resolve();
      else
        reject(new Error(`copying ${ref} to the TLS engine failed (save ${saveCode}, load ${code}): ${errors.trim()}`));
    });
  });
}

// ------------------------------------------------------------------------------------------------
// both, for a suite
// ------------------------------------------------------------------------------------------------

/** The ssh host and the TLS engine of a suite; read them in its tests and hooks (they exist once beforeAll ran). */
export interface RemoteEngines {
  readonly ssh: SshHost;
  readonly tls: TlsEngine;
}

/**
 * Starts the ssh host and the TLS engine together in the calling suite's beforeAll, copies `baseImages` into the
 * TLS engine (its builds start FROM them), and stops both in its afterAll (after the suite's own afterAll hooks,
 * which may still need them).
 */
export function remoteEngines(baseImages: readonly string[] = ['busybox:1.36']): RemoteEngines {
  let ssh: SshHost | undefined;
  let tls: TlsEngine | undefined;
  beforeAll(async () => {
    [ssh, tls] = await Promise.all([startSshHost(), startTlsEngine()]);
    const engine = tls;
    await Promise.all(baseImages.map((ref) => engine.loadBaseImage(ref)));
  }, 240_000);
  afterAll(async () => {
    await tls?.stop();
    await ssh?.stop();
  });
  const started = <T>(engine: T | undefined, what: string): T => {
    if (engine === undefined) throw new Error(`the ${what} is read before the suite's beforeAll started it`);
    return engine;
  };
  return {
    get ssh() {
      return started(ssh, 'ssh host');
    },
    get tls() {
      return started(tls, 'TLS engine');
    },
  };
}

// ------------------------------------------------------------------------------------------------
// docker contexts
// ------------------------------------------------------------------------------------------------

export interface DockerContextOptions {
  /** A directory with ca.pem, cert.pem, key.pem (like TlsEngine.certDir); or give the files one by one. */
  certDir?: string;
  ca?: string;
  cert?: string;
  key?: string;
  skipTlsVerify?: boolean;
  description?: string;
  /** Make it the current context (written to config.json as currentContext). */
  use?: boolean;
}

export interface DockerContext {
  name: string;
  /** The temp DOCKER_CONFIG the context lives in. */
  dockerConfig: string;
  /** { DOCKER_CONFIG } for a child process. */
  env: { DOCKER_CONFIG: string };
  /** DOCKER_CONFIG/contexts/meta/<sha256(name)>/meta.json */
  metaFile: string;
  /** DOCKER_CONFIG/contexts/tls/<sha256(name)>/docker (ca.pem, cert.pem, key.pem; only with TLS material). */
  tlsDir: string;
  remove(): Promise<void>;
}

/**
 * Creates a docker context with the docker CLI in a fresh DOCKER_CONFIG. What docker 28 writes (the tool
 * reads it directly), with ID = hex sha256 of the context name:
 *
 *   DOCKER_CONFIG/contexts/meta/ID/meta.json
 *     {"Name":"NAME","Metadata":{"Description":"..."},
 *      "Endpoints":{"docker":{"Host":"tcp://127.0.0.1:PORT","SkipTLSVerify":false}}}
 *   DOCKER_CONFIG/contexts/tls/ID/docker/ca.pem, cert.pem, key.pem   (copies, only when given)
 *   DOCKER_CONFIG/config.json  {"currentContext":"NAME"}              (only with use: true)
 *
 * An ssh:// context has no tls directory. Paths are passed in the CLI's CSV syntax, so they must not
 * contain commas (temp paths don't).
 */
export async function createDockerContext(
  name: string,
  host: string,
  opts: DockerContextOptions = {},
): Promise<DockerContext> {
  const dockerConfig = await mkdtemp(join(tmpdir(), 'deploy-ctx-'));
  const env = { DOCKER_CONFIG: dockerConfig };
  const remove = () => rm(dockerConfig, { recursive: true, force: true });
  try {
    const files = {
      ca: opts.ca ?? (opts.certDir ? join(opts.certDir, 'ca.pem') : undefined),
      cert: opts.cert ?? (opts.certDir ? join(opts.certDir, 'cert.pem') : undefined),
      key: opts.key ?? (opts.certDir ? join(opts.certDir, 'key.pem') : undefined),
    };
    const endpoint = [`host=${host}`, ...Object.entries(files).flatMap(([k, v]) => (v ? [`${k}=${v}`] : []))];
    if (opts.skipTlsVerify) endpoint.push('skip-tls-verify=true');
    const cliEnv = { ...baseEnv(), ...env };
    await must(
      'docker',
      [
        'context',
        'create',
        name,
        '--description',
        opts.description ?? 'deploy test context',
        '--docker',
        endpoint.join(','),
      ],
      { env: cliEnv, timeoutMs: 15_000 },
    );
    if (opts.use) await must('docker', ['context', 'use', name], { env: cliEnv, timeoutMs: 15_000 });
    const id = createHash('sha256').update(name).digest('hex');
    return {
      name,
      dockerConfig,
      env,
      metaFile: join(dockerConfig, 'contexts', 'meta', id, 'meta.json'),
      tlsDir: join(dockerConfig, 'contexts', 'tls', id, 'docker'),
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
