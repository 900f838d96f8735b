// One app behind the front door: its route, the target it serves from, the one kept for the bake window, pause.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HealthOptions } from './health.js';
import { rawPage, type PageKind } from './pages.js';
import { dnsResolver, Release, type Resolver } from './release.js';
import { send, type Arrival, type ForwardOutcome, type Target } from './target.js';
import type { LoadedTls } from './tls.js';

export interface TlsOptions {
  certFile: string;
  keyFile: string;
  /** The HTTPS port (default 443). */
  port: number;
  /** Answer plain HTTP on `port` of the route with a redirect to HTTPS. */
  redirect: boolean;
}

export interface Timing {
  /** How long requests waiting for a response on a replaced target may run. */
  drainMs: number;
  /** How long streams (SSE, downloads, WebSockets, TCP) on a replaced target may run. */
  streamDrainMs: number;
  /** How long after a switch the replaced target is kept, and the new one watched, for a fallback. */
  bakeMs: number;
  /** How long the gate waits for a new target to become healthy. */
  deployTimeoutMs: number;
  /** How long to wait for an upstream's response headers (then 504). */
  responseTimeoutMs: number;
}

/** Everything the front door keeps about one app: what a deploy sends and the state file holds. */
export interface AppRoute {
  app: string;
  kind: 'http' | 'tcp';
  /** Host names served (exact, or `*.example.com`); empty: every host on the port not claimed by another app. */
  hosts: string[];
  /** The listen port: plain HTTP for `http`, the raw port for `tcp`. */
  port: number;
  tls: TlsOptions | null;
  /** The upstream now served: `host:port`; the host may resolve to several addresses (a Swarm service's tasks). */
  target: string;
  /**
   * Unset: one workload (a container): checked by the gate and in the bake window. N: a set of tasks: the gate
   * needs N healthy addresses, and every address is checked for as long as the release serves.
   */
  expect?: number;
  health: HealthOptions;
  timing: Timing;
  /** Trust X-Forwarded-* from clients (another proxy stands in front). */
  trustForwarded: boolean;
  /** null: serving. `holdMs` 0: answer 503 at once; more: hold requests that long for a resume, then 503. */
  paused: { holdMs: number } | null;
}

export interface AppEvent {
  at: string;
  kind:
    | 'deployed'
    | 'deploy-failed'
    | 'fell-back'
    | 'rolled-back'
    | 'bake-passed'
    | 'unhealthy'
    | 'drained'
    | 'paused'
    | 'resumed'
    | 'restored';
  detail: string;
}

export interface Baking {
  target: Release;
  until: number;
  timer: NodeJS.Timeout;
  /** Stops the drain's deadlines when traffic goes back to this target. */
  drainControl: AbortController;
  drained: Promise<unknown>;
}

const MAX_EVENTS = 50;

/** What a service needs from the front door around it. */
export interface ServiceContext {
  /** Event lines and address changes go to the front door's log. */
  onEvent(app: string, event: AppEvent): void;
  log(line: string): void;
  /** Save the state (an address of a serving release changed state). */
  save(): void;
  resolve: Resolver;
}

const QUIET: ServiceContext = { onEvent: () => {}, log: () => {}, save: () => {}, resolve: dnsResolver };

export class Service {
  route: AppRoute;
  active: Release | null = null;
  previous: Baking | null = null;
  /** Replaced releases still draining; closed when their drain ends. */
  readonly retiring = new Set<Release>();
  /** The certificate and key this app's host names are served with (loaded and checked at deploy or restore). */
  tls: LoadedTls | null = null;
  readonly events: AppEvent[] = [];
  /**
   * The gate of the route being deployed now, if any: a newer route of the app (or its removal) cancels it. The
   * tool sends an app's routes under its lock, so a gate is only overtaken when the process that sent it died.
   */
  gating: { target: string; control: AbortController } | null = null;
  private held = new Set<() => void>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    route: AppRoute,
    private readonly context: ServiceContext = QUIET,
  ) {
    this.route = route;
  }

  /** A release of this app at `address` (`HOST:PORT`), with `route`'s options; nothing is resolved yet. */
  release(address: string, route: AppRoute = this.route): Release {
    const release: Release = new Release(address, {
      health: route.health,
      expect: route.expect ?? null,
      target: { responseTimeoutMs: route.timing.responseTimeoutMs, connectTimeoutMs: 5_000 },
      drainMs: route.timing.drainMs,
      streamDrainMs: route.timing.streamDrainMs,
      resolve: this.context.resolve,
      onChange: (line) => {
        this.context.log(`${this.name}: ${release.address}: ${line}`);
        if (release === this.active) this.context.save();
      },
    });
    return release;
  }

  get name(): string {
    return this.route.app;
  }

  /** Run `fn` after every change queued before it: one change to an app at a time. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  record(kind: AppEvent['kind'], detail: string): void {
    const event: AppEvent = { at: new Date().toISOString(), kind, detail };
    this.events.push(event);
    this.context.onEvent(this.route.app, event);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  /** Serve one HTTP request. */
  async handle(req: IncomingMessage, res: ServerResponse, arrival: Arrival): Promise<void> {
    await this.serve(
      (target) => target.forward(req, res, arrival),
      (kind) => send(res, kind),
    );
  }

  /** Serve an HTTP upgrade (WebSocket). */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, arrival: Arrival): Promise<void> {
    await this.serve(
      (target) => target.upgrade(req, socket, head, arrival),
      (kind) => writeRawPage(socket, kind),
    );
  }

  /**
   * Serves a request or an upgrade the same way: held (or answered with the paused page) while paused, passed to
   * the active target by `pass`, tried once more where it cannot have reached the app; `answer` writes a built-in
   * page the way the connection takes it.
   */
  private async serve(
    pass: (release: Release) => Promise<ForwardOutcome>,
    answer: (kind: PageKind) => void,
  ): Promise<void> {
    if (this.route.paused && !(await this.waitForResume())) {
      answer('paused');
      return;
    }
    const first = this.active;
    if (!first) {
      answer('unavailable');
      return;
    }
    if ((await pass(first)) === 'done') return;
    // The connection never opened and nothing was read: the app saw nothing, so one more try is safe.
    const second = this.retryTarget(first);
    if (second && (await pass(second)) === 'done') return;
    answer('bad-gateway');
  }

  /**
   * Where a request goes whose connection to `failed` never opened: the target routed now if the switch moved on
   * meanwhile; else, inside a bake window, the release kept from before (the new one may have crashed; the bake
   * watch will swap back).
   */
  private retryTarget(failed: Release): Release | null {
    if (this.active && this.active !== failed) return this.active;
    if (this.previous && this.previous.target !== failed) return this.previous.target;
    return null;
  }

  /**
   * Serve one TCP connection (kind `tcp`): piped to an address of the active release; counted there until it
   * closes. A connection that cannot be opened goes to another address of the release, then as a request would.
   */
  handleTcp(
    client: Socket,
    connect: (target: Target, client: Socket, retry: (failed: Target) => Target | null) => void,
  ): void {
    const release = this.route.paused ? null : this.active;
    const tried = new Set<Target>();
    const first = release?.pick(tried);
    if (!release || !first) {
      client.destroy();
      return;
    }
    tried.add(first);
    let fellOver = false;
    connect(first, client, (failed) => {
      if (fellOver) return null;
      void release.connectFailed(failed);
      const other = tried.size < 3 ? release.pick(tried) : null;
      if (other) {
        tried.add(other);
        return other;
      }
      fellOver = true;
      return this.retryTarget(release)?.pick() ?? null;
    });
  }

  pause(holdMs: number): void {
    this.route.paused = { holdMs };
    this.record('paused', holdMs > 0 ? `holding requests up to ${holdMs} ms` : 'answering 503');
  }

  resume(): void {
    this.route.paused = null;
    const held = [...this.held];
    this.held.clear();
    for (const release of held) release();
    this.record('resumed', held.length > 0 ? `released ${held.length} held request(s)` : 'serving');
  }

  /** While paused with a hold: wait for a resume (true) or the hold to pass (false). */
  private waitForResume(): Promise<boolean> {
    const holdMs = this.route.paused?.holdMs ?? 0;
    if (holdMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.held.delete(release);
        resolve(false);
      }, holdMs);
      this.held.add(release);
    });
  }

  /** Let every held request go (answering 503): the app is being removed or the front door stops. */
  releaseHeld(): void {
    const held = [...this.held];
    this.held.clear();
    this.route.paused = this.route.paused ?? { holdMs: 0 };
    for (const release of held) release();
  }

  status(): Record<string, unknown> {
    const describe = (r: Release): Record<string, unknown> => r.status();
    return {
      app: this.route.app,
      kind: this.route.kind,
      hosts: this.route.hosts,
      port: this.route.port,
      tls: this.route.tls ? { port: this.route.tls.port, redirect: this.route.tls.redirect } : null,
      state: this.route.paused ? 'paused' : this.active ? 'serving' : 'unavailable',
      paused: this.route.paused,
      active: this.active ? describe(this.active) : null,
      /** The target a deploy is gating now (not yet sent a request), if any. */
      gating: this.gating?.target ?? null,
      previous: this.previous
        ? { ...describe(this.previous.target), bakeUntil: new Date(this.previous.until).toISOString() }
        : null,
      retiring: [...this.retiring].map(describe),
      events: this.events,
    };
  }
}

function writeRawPage(socket: Duplex, kind: PageKind): void {
  socket.end(rawPage(kind));
}
