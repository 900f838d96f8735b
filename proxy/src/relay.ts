// The relay (`proxy.js relay`): on the host's network, it binds the host ports it is told to and pipes each
// connection to the door's unix socket of the current generation, `${socketsRoot}/${generation}/${hostPort}.sock`,
// after a PROXY v1 header naming the client. The door is then never replaced for a port: a new port is one more
// binding here, and a new door takes over by a generation switch (new connections go to it, old ones run on).
import net, { type Socket } from 'node:net';
import { join } from 'node:path';
import { RELAY_VERBS, type Answer } from './client.js';
import { int, object, only, OptionError, parseRequest, show, type Json } from './checks.js';
import { answerLine, pong, type ServerInfo } from './control-socket.js';
import { formatProxyHeader } from './proxy-header.js';
import { readStateFile, writeFileAtomic } from './state-file.js';

/** A host address and port to listen on; `hostIp` "" is every interface. */
export interface Binding {
  hostIp: string;
  hostPort: number;
}

export interface FailedBinding extends Binding {
  error: string;
}

export interface ListenResult {
  generation: number;
  /** The bindings listened on now, in the order asked. */
  bindings: Binding[];
  /** The bindings that could not be opened, each with the reason (the others work). */
  failed: FailedBinding[];
  /** Set when the state file could not be written (the relay would forget this change at a restart). */
  saveError?: string;
}

export type RelayCommand =
  { verb: 'listen'; generation: number; bindings: Binding[] } | { verb: 'status' } | { verb: 'ping' };

export interface RelayOptions {
  stateFile: string;
  socketsRoot: string;
  log(line: string): void;
}

interface RelayState {
  version: 1;
  generation: number;
  bindings: Binding[];
}

const MAX_GENERATION = 2 ** 31 - 1;

/** `127.0.0.1:80`, `[::1]:80`, `*:80`. */
export function showBinding({ hostIp, hostPort }: Binding): string {
  if (hostIp === '') return `*:${hostPort}`;
  return hostIp.includes(':') ? `[${hostIp}]:${hostPort}` : `${hostIp}:${hostPort}`;
}

/** The options of `listen` (and the relay's state file, which holds the same), checked field by field. */
export function parseListen(value: unknown, where: string): { generation: number; bindings: Binding[] } {
  const options = object(value, where);
  only(options, ['generation', 'bindings'], where);
  const generation = int(options['generation'], `${where}: "generation"`, 0, MAX_GENERATION);
  const list = options['bindings'];
  if (!Array.isArray(list)) {
    throw new OptionError(`${where}: "bindings" must be a list of {"hostIp", "hostPort"} (got ${show(list)})`);
  }
  const seen = new Set<string>();
  const bindings = list.map((item, i): Binding => {
    const at = `${where}: bindings[${i}]`;
    const b = object(item, at);
    only(b, ['hostIp', 'hostPort'], at);
    const hostIp = b['hostIp'] ?? '';
    if (typeof hostIp !== 'string' || (hostIp !== '' && net.isIP(hostIp) === 0)) {
      throw new OptionError(`${at}.hostIp must be an IP address, or "" for every interface (got ${show(hostIp)})`);
    }
    const binding = { hostIp, hostPort: int(b['hostPort'], `${at}.hostPort`, 1, 65535) };
    const key = showBinding(binding);
    if (seen.has(key)) throw new OptionError(`${where}: "bindings" lists ${key} twice`);
    seen.add(key);
    return binding;
  });
  return { generation, bindings };
}

/** One control request to the relay. */
export function parseRelayCommand(value: unknown): RelayCommand {
  const { verb, options } = parseRequest(value, RELAY_VERBS);
  if (verb === 'listen') return { verb, ...parseListen(options, verb) };
  only(options, [], verb);
  return { verb };
}

function listenError(binding: Binding, err: NodeJS.ErrnoException): string {
  const why =
    err.code === 'EADDRINUSE'
      ? 'the address is in use'
      : err.code === 'EACCES'
        ? 'permission denied (a port below 1024 needs privileges)'
        : err.code === 'EADDRNOTAVAIL'
          ? `this host has no address ${binding.hostIp}`
          : err.message;
  return `cannot listen on ${showBinding(binding)}: ${why}${err.code ? ` (${err.code})` : ''}`;
}

/**
 * Pipe `a` and `b` both ways. Half-close is kept: a side that ends its writing ends the other's (both sockets allow
 * half-open), so a client that sends its request and then FIN still gets the whole answer. A side that fails or is
 * destroyed takes the other down.
 */
function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const onClose = (other: Socket) => (): void => {
    // Closed after both directions ended: `other` finishes flushing on its own. Any other close cuts it.
    if (!(other.readableEnded && other.writableEnded)) other.destroy();
  };
  a.once('close', onClose(b));
  b.once('close', onClose(a));
}

export class Relay {
  /** The generation new connections are sent to. */
  generation = 0;
  /** The bindings asked for last (failed ones included: a restart tries them again). */
  private wanted: Binding[] = [];
  private failed: FailedBinding[] = [];
  private readonly listeners = new Map<string, net.Server>();
  /** Client connections being piped (or connecting to the door). */
  private readonly piped = new Set<Socket>();
  readonly counts = { accepted: 0, refused: 0 };
  /** Socket paths a connection could not reach, logged once until one gets through. */
  private readonly unreachable = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RelayOptions) {}

  /** The door's socket for `hostPort` in the current generation. */
  socketPath(hostPort: number, generation = this.generation): string {
    return join(this.options.socketsRoot, String(generation), `${hostPort}.sock`);
  }

  /**
   * Listen on exactly `bindings` (kept listeners stay as they are, new ones open, the others close without cutting
   * what they piped), write the state file, then send new connections to `generation`. One change at a time.
   */
  listen(generation: number, bindings: Binding[]): Promise<ListenResult> {
    const next = this.queue.then(() => this.apply(generation, bindings, { save: true }));
    this.queue = next.catch(() => {});
    return next;
  }

  private async apply(generation: number, bindings: Binding[], { save }: { save: boolean }): Promise<ListenResult> {
    const failed: FailedBinding[] = [];
    const keys = new Set(bindings.map(showBinding));
    for (const binding of bindings) {
      const key = showBinding(binding);
      if (this.listeners.has(key)) continue;
      try {
        this.listeners.set(key, await this.open(binding));
        this.options.log(`listening on ${key}`);
      } catch (err) {
        const error = listenError(binding, err as NodeJS.ErrnoException);
        failed.push({ ...binding, error });
        this.options.log(error);
      }
    }
    for (const [key, server] of this.listeners) {
      if (keys.has(key)) continue;
      this.listeners.delete(key);
      server.close();
      this.options.log(`closed ${key}`);
    }
    this.wanted = bindings;
    this.failed = failed;
    let saveError: string | undefined;
    if (save) {
      const state: RelayState = { version: 1, generation, bindings };
      try {
        await writeFileAtomic(this.options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
      } catch (err) {
        saveError = `cannot write ${this.options.stateFile}: ${(err as Error).message}`;
        this.options.log(saveError);
      }
    }
    if (generation !== this.generation) this.options.log(`generation ${generation}: new connections go to it`);
    this.generation = generation;
    return { generation, bindings: this.bound(), failed, ...(saveError ? { saveError } : {}) };
  }

  private bound(): Binding[] {
    return this.wanted.filter((b) => this.listeners.has(showBinding(b)));
  }

  private async open(binding: Binding): Promise<net.Server> {
    // Paused until piped: nothing is read from a client before the door's socket is open.
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) =>
      this.accept(socket, binding.hostPort),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // reusePort: a new relay can bind beside this one and take over (SO_REUSEPORT). "": every interface (Node
      // binds :: for both IPv4 and IPv6 where it can, else 0.0.0.0).
      const host = binding.hostIp === '' ? {} : { host: binding.hostIp };
      server.listen({ ...host, port: binding.hostPort, reusePort: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  private accept(client: Socket, hostPort: number): void {
    const path = this.socketPath(hostPort);
    this.counts.accepted++;
    this.piped.add(client);
    client.once('close', () => this.piped.delete(client));
    const header = formatProxyHeader(
      { address: client.remoteAddress, port: client.remotePort },
      { address: client.localAddress, port: client.localPort },
    );
    const door = net.connect({ path, allowHalfOpen: true });
    let connected = false;
    client.on('error', () => door.destroy());
    door.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) return void client.destroy();
      // The door does not listen there (not started, or stopped): the client sees a reset, as from a closed port.
      this.counts.refused++;
      if (!this.unreachable.has(path)) {
        this.unreachable.add(path);
        this.options.log(`cannot reach ${path} (${err.code ?? err.message}): resetting its connections`);
      }
      client.resetAndDestroy();
    });
    door.once('connect', () => {
      connected = true;
      this.unreachable.delete(path);
      // The client went away while the door's socket was opening.
      if (client.destroyed) return void door.destroy();
      door.write(header);
      pipeBoth(client, door);
    });
  }

  /** Serve again what the state file holds (at start, before the control socket answers). */
  async restore(): Promise<void> {
    const state = readStateFile(this.options.stateFile, this.options.log, (parsed) => {
      const file = object(parsed, 'state file');
      if (file['version'] !== 1) throw new Error('not a version 1 relay state file');
      const { version: _version, ...rest } = file;
      return parseListen(rest, 'state file');
    });
    if (!state) return;
    const result = await this.apply(state.generation, state.bindings, { save: false });
    this.options.log(
      `restored generation ${result.generation}: ${result.bindings.length} binding(s)` +
        (result.failed.length > 0 ? `, ${result.failed.length} failed` : ''),
    );
  }

  status(info: ServerInfo): Json {
    return {
      ...pong('relay', info),
      generation: this.generation,
      bindings: this.bound(),
      failed: this.failed,
      connections: { open: this.piped.size, ...this.counts },
    };
  }

  /** Stop accepting; let piped connections run up to `graceMs`, then cut the rest. */
  async close(graceMs: number): Promise<void> {
    for (const server of this.listeners.values()) server.close();
    this.listeners.clear();
    const end = Date.now() + graceMs;
    while (this.piped.size > 0 && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, end - Date.now())));
    }
    for (const socket of this.piped) socket.destroy();
  }
}

/** Answer one request line on the relay's control socket. Never throws. */
export function answerRelay(relay: Relay, line: string, info: ServerInfo): Promise<Answer> {
  return answerLine(
    line,
    async (request) => {
      const command = parseRelayCommand(request);
      if (command.verb === 'listen') return relay.listen(command.generation, command.bindings);
      return relay.status(info);
    },
    (err) => err instanceof OptionError,
  );
}
