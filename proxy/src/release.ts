// One release of an app: the addresses its upstream name resolves to (a container's alias: one; a Swarm service's
// alias in DNS round-robin mode: one per running task), each a Target with its own checks; requests are balanced
// over the healthy ones, and one whose connection never opened is tried on another.
import dns from 'node:dns';
import net from 'node:net';
import { checkOnce, splitAddress, type CheckResult, type HealthOptions } from './health.js';
import { Target, type Arrival, type ForwardOutcome, type TargetOptions } from './target.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A host name to the addresses it resolves to now (A/AAAA records, no ports). */
export type Resolver = (host: string) => Promise<string[]>;

/** What Docker's embedded DNS answers for an alias: every address, as the system resolver gives them. */
export const dnsResolver: Resolver = async (host) =>
  (await dns.promises.lookup(host, { all: true })).map((a) => a.address);

/**
 * `checking`: not yet passed `successes` checks in a row (gets no request); `healthy`: gets requests; `failing`:
 * `failures` checks failed in a row, or a connection to it failed (gets no new request until it passes again);
 * `draining`: gone from DNS, its requests in flight finishing.
 */
export type AddressState = 'checking' | 'healthy' | 'failing' | 'draining';

export interface AddressStatus {
  address: string;
  state: AddressState;
  inflight: { requests: number; streams: number };
  /** The last check's result (`HTTP 200`, `GET /up answered 500`, ...); none before the first check. */
  detail?: string;
}

interface Member {
  target: Target;
  state: 'checking' | 'healthy' | 'failing';
  passes: number;
  fails: number;
  detail: string | undefined;
}

export interface ReleaseOptions {
  health: HealthOptions;
  /**
   * null: one workload (a container), checked by the gate and during a bake window only, as routes always were.
   * N: a set of tasks: the gate needs N healthy addresses, and they are resolved and checked every interval for as
   * long as the release serves.
   */
  expect: number | null;
  target: TargetOptions;
  /** The drain of an address gone from DNS. */
  drainMs: number;
  streamDrainMs: number;
  resolve: Resolver;
  /** Told of each address appearing, changing state or going (while the release serves: logged and saved). */
  onChange?: (line: string) => void;
}

const NONE: ReadonlySet<Target> = new Set();

/** At most this many addresses of one release are tried for one request whose connections never opened. */
const MAX_TRIES = 3;

/** Resolves after `ms`, or at once when `signal` aborts; leaves no listener behind (a watch sleeps all day long). */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export class Release {
  /** The upstream as the route names it, `HOST:PORT`. */
  readonly address: string;
  private readonly host: string;
  private readonly port: number;
  private readonly members = new Map<string, Member>();
  /** Addresses gone from DNS, draining. */
  private readonly leaving = new Set<Target>();
  private next = 0;
  private resolveError: string | null = null;
  /** Addresses trusted without checks when they first appear: restored from the state file (they were serving). */
  private trusted: ((address: string) => boolean) | null = null;
  /** Set while the release serves: address changes are reported. */
  serving = false;
  private watcher: { stop: AbortController; poke: () => void; done: Promise<void> } | null = null;
  private failedRounds = 0;
  private onDown: ((detail: string) => void) | null = null;
  private lastRound = 0;
  private closed = false;

  constructor(
    address: string,
    private options: ReleaseOptions,
  ) {
    this.address = address;
    const { host, port } = splitAddress(address);
    this.host = host;
    this.port = port;
  }

  get expect(): number {
    return this.options.expect ?? 1;
  }

  /** A set of tasks, watched for as long as it serves (the route has `expect`). */
  get continuous(): boolean {
    return this.options.expect !== null;
  }

  /** New health and expect options (a deploy of the address already served). */
  configure(health: HealthOptions, expect: number | null): void {
    this.options = { ...this.options, health, expect };
  }

  healthy(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === 'healthy') n++;
    return n;
  }

  // ---- Addresses ------------------------------------------------------------------------------------------------

  private memberAddress(ip: string): string {
    return ip.includes(':') ? `[${ip}]:${this.port}` : `${ip}:${this.port}`;
  }

  /**
   * Resolve the name again: new addresses join (checking, or healthy when trusted), addresses gone from DNS leave
   * (no new request; drained, then closed). A failed lookup that says the name is unknown empties the set; any
   * other failure keeps it.
   */
  async refresh(): Promise<void> {
    let found: string[];
    try {
      const ips = net.isIP(this.host) ? [this.host] : await this.options.resolve(this.host);
      found = ips.map((ip) => this.memberAddress(ip));
      this.resolveError = null;
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).message;
      this.resolveError = `cannot resolve ${this.host}: ${code}`;
      if (code !== 'ENOTFOUND' && code !== 'ENODATA') return;
      found = [];
    }
    if (this.closed) return;
    const now = new Set(found);
    for (const [address, member] of this.members) {
      if (now.has(address)) continue;
      this.members.delete(address);
      this.leaving.add(member.target);
      this.report(`${address} left DNS: draining`);
      void member.target.drain(this.options.drainMs, this.options.streamDrainMs).then(async () => {
        this.leaving.delete(member.target);
        await member.target.close();
      });
    }
    for (const address of now) {
      if (this.members.has(address)) continue;
      // A container serving has one address: a new one is the same container (restarted), reached at once as a
      // route by name always was. A task of a set, or any address at the gate, is checked first.
      const trusted = this.trusted?.(address) ?? (this.serving && !this.continuous);
      this.members.set(address, {
        target: new Target(address, this.options.target),
        state: trusted ? 'healthy' : 'checking',
        passes: 0,
        fails: 0,
        detail: undefined,
      });
      this.report(`${address} appeared: ${trusted ? 'healthy (restored)' : 'checking'}`);
    }
  }

  /** Restore: the addresses found by the first lookup that `trust` accepts serve at once, without a gate. */
  async restore(trust: (address: string) => boolean): Promise<void> {
    this.trusted = trust;
    await this.refresh();
    this.trusted = null;
  }

  private report(line: string): void {
    if (this.serving) this.options.onChange?.(line);
  }

  /** One round: resolve, then check every address at once. Whether any check passed, and the failures seen. */
  private async round(): Promise<{ passed: boolean; failures: string[]; checked: number }> {
    this.lastRound = Date.now();
    await this.refresh();
    const members = [...this.members.entries()];
    const results = await Promise.all(members.map(([address]) => checkOnce(address, this.options.health)));
    const failures: string[] = [];
    let passed = false;
    const { successes, failures: fallCount } = this.options.health;
    members.forEach(([address, member], i) => {
      if (this.members.get(address) !== member) return;
      const result = results[i]!;
      member.detail = result.detail;
      const before = member.state;
      if (result.ok) {
        passed = true;
        member.passes++;
        member.fails = 0;
        if (member.state !== 'healthy' && member.passes >= successes) member.state = 'healthy';
      } else {
        failures.push(members.length === 1 ? result.detail : `${address}: ${result.detail}`);
        member.fails++;
        member.passes = 0;
        if (member.state === 'healthy' && member.fails >= fallCount) member.state = 'failing';
      }
      if (member.state !== before) this.report(`${address} ${before} -> ${member.state}: ${result.detail}`);
    });
    if (members.length === 0) failures.push(this.resolveError ?? `${this.host} resolves to no address`);
    return { passed, failures, checked: members.length };
  }

  /** After a pass that is not yet a run, the confirming checks follow 100 ms apart, so a ready address joins fast. */
  private waitAfter(started: number): number {
    const confirming = [...this.members.values()].some((m) => m.state !== 'healthy' && m.passes > 0);
    const { intervalMs } = this.options.health;
    return confirming ? Math.min(intervalMs, 100) : Math.max(0, started + intervalMs - Date.now());
  }

  /**
   * The gate: rounds until `expect` addresses are healthy (resolves ok) or `deadlineMs` passes (resolves with the
   * last failure, and how many of how many passed). The release gets no request before this resolves ok.
   */
  async gate(
    deadlineMs: number,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<CheckResult & { checks: number }> {
    const until = Date.now() + deadlineMs;
    let checks = 0;
    for (;;) {
      if (signal.aborted) return { ok: false, detail: 'cancelled', checks };
      const started = Date.now();
      const { failures, checked } = await this.round();
      checks += checked;
      if (this.healthy() >= this.expect) {
        const passedBy = [...this.members.values()].find((m) => m.state === 'healthy');
        return { ok: true, detail: passedBy?.detail ?? '', checks };
      }
      const wait = this.waitAfter(started);
      if (Date.now() + wait >= until) {
        const last = failures.at(-1) ?? 'not enough passing checks yet';
        const counted =
          this.members.size <= 1 && this.expect === 1
            ? last
            : `${this.healthy()} of ${this.members.size} addresses passed (${this.expect} expected); last: ${last}`;
        return { ok: false, detail: `not healthy within ${deadlineMs} ms: ${counted}`, checks };
      }
      await sleep(wait, signal);
    }
  }

  /** One fresh round now: ok when any address passed its check (a fallback goes only to a release that answers). */
  async probe(): Promise<CheckResult> {
    const { passed, failures } = await this.round();
    return passed ? { ok: true, detail: 'an address passed' } : { ok: false, detail: failures.join('; ') };
  }

  /**
   * Check every interval (resolving first). `onDown` is called once when no address has passed a check for
   * `failures` rounds in a row (one task of three dying is not that); null: watch without reporting.
   */
  watch(onDown: ((detail: string) => void) | null): void {
    this.onDown = onDown;
    this.failedRounds = 0;
    if (this.watcher || this.closed) return;
    const stop = new AbortController();
    let wake = new AbortController();
    stop.signal.addEventListener('abort', () => wake.abort(), { once: true });
    const loop = async (): Promise<void> => {
      let started = this.lastRound || Date.now();
      while (!stop.signal.aborted) {
        await sleep(this.waitAfter(started), wake.signal);
        if (stop.signal.aborted) return;
        if (wake.signal.aborted) {
          // Woken by a failed connection: not sooner than 100 ms after the last round began.
          wake = new AbortController();
          await sleep(Math.max(0, started + 100 - Date.now()), stop.signal);
          if (stop.signal.aborted) return;
        }
        started = Date.now();
        const { passed, failures } = await this.round();
        if (stop.signal.aborted) return;
        this.failedRounds = passed ? 0 : this.failedRounds + 1;
        const fallCount = this.options.health.failures;
        if (this.onDown && this.failedRounds >= fallCount) {
          const report = this.onDown;
          this.onDown = null;
          const detail =
            this.members.size <= 1 && failures.length === 1
              ? `${this.failedRounds} checks failed in a row: ${failures[0]}`
              : `no address passed ${this.failedRounds} checks in a row: ${failures.join('; ')}`;
          report(detail);
        }
      }
    };
    this.watcher = { stop, poke: () => wake.abort(), done: loop() };
  }

  /** Stop reporting down (the bake window ended); the checks stop too unless the release is a set of tasks. */
  endBake(): void {
    this.onDown = null;
    if (!this.continuous) this.stopWatch();
  }

  stopWatch(): void {
    this.watcher?.stop.abort();
    this.watcher = null;
  }

  // ---- Traffic --------------------------------------------------------------------------------------------------

  /**
   * The address for the next request or connection, least in flight first (ties in turn), among the healthy ones
   * not in `tried`. With none healthy at all, every address in DNS is used rather than none (Envoy's "panic"
   * routing): a single container's route always worked that way, and answering 502 for sure is worse.
   */
  pick(tried: ReadonlySet<Target> = NONE): Target | null {
    if (this.members.size === 1) {
      // A container's release: its one address, whatever its state (the hot path: nothing to choose).
      const only = this.members.values().next().value!.target;
      return tried.has(only) ? null : only;
    }
    const all = [...this.members.values()];
    const healthy = all.filter((m) => m.state === 'healthy');
    const candidates = (healthy.length > 0 ? healthy : all).filter((m) => !tried.has(m.target));
    if (candidates.length === 0) return null;
    const start = this.next++ % candidates.length;
    let best: Target | null = null;
    for (let i = 0; i < candidates.length; i++) {
      const t = candidates[(start + i) % candidates.length]!.target;
      if (best === null || t.load() < best.load()) best = t;
    }
    return best;
  }

  /**
   * A connection to `target` never opened: when the release is watched it gets no new request until it passes
   * its checks again, which come soon, the name resolved again with them; else the name is resolved again now (a
   * restarted container may have another address), and this resolves when that is done.
   */
  async connectFailed(target: Target): Promise<void> {
    const member = this.members.get(target.address);
    if (!member || member.target !== target) return;
    if (this.watcher) {
      if (member.state === 'healthy') this.report(`${target.address} healthy -> failing: a connection failed`);
      member.state = 'failing';
      member.passes = 0;
      this.watcher.poke();
      return;
    }
    await this.refreshSoon();
  }

  private refreshing: Promise<void> | null = null;
  private lastRefresh = 0;

  /** Resolve again unless that was done in the last 100 ms (requests that find no address share one lookup). */
  private refreshSoon(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (Date.now() - this.lastRefresh < 100) return Promise.resolve();
    this.lastRefresh = Date.now();
    this.refreshing = this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Pass a request (or upgrade, or connection) to an address; another one while its connections never open. */
  private async attempt(pass: (target: Target) => Promise<ForwardOutcome>): Promise<ForwardOutcome> {
    let first = this.pick();
    if (!first) {
      // No address (the name did not resolve when last asked): ask again, as a route by name always did.
      await this.refreshSoon();
      first = this.pick();
      if (!first) return 'retry';
    }
    if ((await pass(first)) === 'done') return 'done';
    await this.connectFailed(first);
    const tried = new Set([first]);
    for (let i = 1; i < MAX_TRIES; i++) {
      const target = this.pick(tried);
      if (!target) break;
      tried.add(target);
      if ((await pass(target)) === 'done') return 'done';
      await this.connectFailed(target);
    }
    return 'retry';
  }

  forward(req: IncomingMessage, res: ServerResponse, arrival: Arrival): Promise<ForwardOutcome> {
    return this.attempt((t) => t.forward(req, res, arrival));
  }

  upgrade(req: IncomingMessage, client: Duplex, head: Buffer, arrival: Arrival): Promise<ForwardOutcome> {
    return this.attempt((t) => t.upgrade(req, client, head, arrival));
  }

  private targets(): Target[] {
    return [...[...this.members.values()].map((m) => m.target), ...this.leaving];
  }

  inflight(): { requests: number; streams: number } {
    let requests = 0;
    let streams = 0;
    for (const t of this.targets()) {
      const f = t.inflight();
      requests += f.requests;
      streams += f.streams;
    }
    return { requests, streams };
  }

  /** Drain every address (Target.drain); counts summed. */
  async drain(
    drainMs: number,
    streamDrainMs: number,
    signal?: AbortSignal,
  ): Promise<{ cutRequests: number; cutStreams: number; cancelled: boolean }> {
    const all = await Promise.all(this.targets().map((t) => t.drain(drainMs, streamDrainMs, signal)));
    return {
      cutRequests: all.reduce((n, d) => n + d.cutRequests, 0),
      cutStreams: all.reduce((n, d) => n + d.cutStreams, 0),
      cancelled: signal?.aborted ?? false,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.serving = false;
    this.stopWatch();
    await Promise.all(this.targets().map((t) => t.close()));
  }

  /** Each address and its state (those gone from DNS as `draining`). */
  addresses(): AddressStatus[] {
    const out: AddressStatus[] = [];
    for (const [address, m] of this.members) {
      out.push({
        address,
        state: m.state,
        inflight: m.target.inflight(),
        ...(m.detail === undefined ? {} : { detail: m.detail }),
      });
    }
    for (const t of this.leaving) out.push({ address: t.address, state: 'draining', inflight: t.inflight() });
    return out;
  }

  /**
   * `address` and `inflight` (summed), as the status of a release always was; a set of tasks, or a name that
   * resolved to several addresses, adds `expect`, `healthy` and `addresses`.
   */
  status(): Record<string, unknown> {
    const addresses = this.addresses();
    const base = { address: this.address, inflight: this.inflight() };
    if (!this.continuous && addresses.length <= 1) return base;
    return { ...base, expect: this.expect, healthy: this.healthy(), addresses };
  }
}
