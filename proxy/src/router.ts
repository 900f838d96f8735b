// The registry of apps: which (port, host) goes to which app, conflict checks, the listeners the routes need,
// and the state file (written atomically, restored app by app).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { DeployError, deployTarget, stopService, swapBack, type DeployResult } from './deploy.js';
import { Listener, type Proto } from './listeners.js';
import { OptionError, parseRoute } from './options.js';
import { rawPage } from './pages.js';
import { clientAddress } from './proxy-header.js';
import { dnsResolver, type Resolver } from './release.js';
import { Service, type AppRoute, type ServiceContext } from './service.js';
import { readStateFile, writeFileAtomic } from './state-file.js';
import { send } from './target.js';
import { pipeTcp } from './tcp.js';
import { hostMatches, loadTls, type LoadedTls } from './tls.js';

export interface RouterOptions {
  /** One JSON line per request answered (opt-in: it costs a write per request). */
  accessLog?: (line: string) => void;
  stateFile: string;
  /** Address the listeners bind (0.0.0.0 in the container, 127.0.0.1 in tests). */
  listenHost: string;
  /**
   * Behind the relay: listen on `${socketsDir}/${port}.sock` instead of `listenHost`, each connection starting with
   * a PROXY header that names the client.
   */
  socketsDir?: string;
  log(line: string): void;
  /**
   * A route's host name to its addresses (default: the system resolver, which in the door's container asks
   * Docker's embedded DNS). Tests give their own: no alias resolves to several loopback addresses otherwise.
   */
  resolve?: Resolver;
}

/** One port claimed by a route. */
export interface Claim {
  port: number;
  proto: Proto;
  hosts: string[];
}

export function claims(route: AppRoute): Claim[] {
  if (route.kind === 'tcp') return [{ port: route.port, proto: 'tcp', hosts: [] }];
  const out: Claim[] = [{ port: route.port, proto: 'http', hosts: route.hosts }];
  if (route.tls) out.push({ port: route.tls.port, proto: 'https', hosts: route.hosts });
  return out;
}

/** Why `candidate` cannot be served beside `others` (null: it can). Port 0 (any free port) never conflicts. */
export function routeConflict(others: AppRoute[], candidate: AppRoute): string | null {
  for (const mine of claims(candidate)) {
    if (mine.port === 0) continue;
    for (const other of others) {
      if (other.app === candidate.app) continue;
      for (const theirs of claims(other)) {
        if (theirs.port !== mine.port) continue;
        if (theirs.proto !== mine.proto) {
          return `port ${mine.port} is ${theirs.proto} for app ${other.app}, not ${mine.proto}`;
        }
        if (mine.proto === 'tcp') return `port ${mine.port} is already taken by app ${other.app}`;
        if (mine.hosts.length === 0 && theirs.hosts.length === 0) {
          return `app ${other.app} is already the default (no host name) on port ${mine.port}`;
        }
        const shared = mine.hosts.find((h) => theirs.hosts.includes(h));
        if (shared) return `host ${shared} on port ${mine.port} is already served by app ${other.app}`;
      }
    }
  }
  return null;
}

/** The host name of a Host header, without port, lower-cased. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

interface StateFile {
  version: 1;
  apps: unknown[];
  /**
   * Per app, the addresses of the release served and their states when the file was written (an older door wrote
   * none): a restart trusts those that were healthy.
   */
  addresses?: Record<string, unknown>;
}

/** The addresses saved for `app`, if the file has a list of them (anything else: as if none were saved). */
function savedAddresses(state: StateFile, app: string): { address: unknown; state: unknown }[] | undefined {
  const saved: unknown = (state.addresses as Record<string, unknown> | undefined)?.[app];
  if (!Array.isArray(saved)) return undefined;
  return saved.filter((a): a is { address: unknown; state: unknown } => a !== null && typeof a === 'object');
}

export class Router {
  readonly services = new Map<string, Service>();
  /** Apps whose stored route could not be restored: kept (and saved back) with the reason. */
  readonly failed = new Map<string, { entry: unknown; error: string }>();
  private readonly listeners = new Map<number, Listener>();
  private readonly creating = new Map<string, Service>();

  constructor(private readonly options: RouterOptions) {}

  private readonly context: ServiceContext = {
    onEvent: (app, event) => this.options.log(`${app}: ${event.kind}: ${event.detail}`),
    log: (line) => this.options.log(line),
    save: () => void this.save(),
    resolve: (host) => (this.options.resolve ?? dnsResolver)(host),
  };

  /** The port a route's claim is served on (the bound one when 0 was asked for). */
  boundPort(port: number, proto: Proto, app: string): number {
    if (port !== 0) return port;
    return this.listeners.get(this.anyPortKey(app, proto))?.boundPort ?? 0;
  }

  // Listeners asked for on port 0 are keyed by a negative number per app and proto, so each gets its own port.
  private anyPortKey(app: string, proto: Proto): number {
    let hash = 0;
    for (const ch of `${app}/${proto}`) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
    return -1 - (Math.abs(hash) % 1_000_000_000);
  }

  private listenerKey(claim: Claim, app: string): number {
    return claim.port === 0 ? this.anyPortKey(app, claim.proto) : claim.port;
  }

  private routes(): AppRoute[] {
    return [...this.services.values()].map((s) => s.route);
  }

  // ---- Requests -------------------------------------------------------------------------------------------------

  private lookup(key: number, proto: 'http' | 'https', host: string): Service | null {
    let wildcard: Service | null = null;
    let fallback: Service | null = null;
    for (const service of this.services.values()) {
      if (!service.active && !service.route.paused) continue;
      const served = claims(service.route).some((c) => c.proto === proto && this.listenerKey(c, service.name) === key);
      if (!served) continue;
      if (service.route.hosts.length === 0) fallback = service;
      const match = hostMatches(service.route.hosts, host);
      if (match === 'exact') return service;
      if (match === 'wildcard') wildcard = service;
    }
    return wildcard ?? fallback;
  }

  /** Set once close() has begun: every answer from then on tells its client to close the connection. */
  private closing = false;

  private readonly handlers = {
    request: (key: number, proto: 'http' | 'https', req: IncomingMessage, res: ServerResponse): void => {
      if (this.closing) res.setHeader('connection', 'close');
      const host = hostName(req.headers.host);
      const service = this.lookup(key, proto, host);
      if (!service) return send(res, 'not-found');
      const tls = service.route.tls;
      if (proto === 'http' && tls?.redirect) {
        const port = this.boundPort(tls.port, 'https', service.name);
        const location = `https://${host}${port === 443 ? '' : `:${port}`}${req.url ?? '/'}`;
        res.writeHead(301, { location, 'content-length': '0' });
        res.end();
        return;
      }
      const accessLog = this.options.accessLog;
      if (accessLog) {
        const started = performance.now();
        res.once('close', () => {
          accessLog(
            JSON.stringify({
              at: new Date().toISOString(),
              app: service.name,
              client: clientAddress(req.socket),
              method: req.method,
              host,
              path: req.url,
              status: res.headersSent ? res.statusCode : 0,
              ms: Math.round((performance.now() - started) * 10) / 10,
              completed: res.writableFinished,
            }),
          );
        });
      }
      void service.handle(req, res, { proto, trustForwarded: service.route.trustForwarded });
    },
    upgrade: (key: number, proto: 'http' | 'https', req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const service = this.lookup(key, proto, hostName(req.headers.host));
      if (!service) {
        socket.end(rawPage('not-found'));
        return;
      }
      void service.handleUpgrade(req, socket, head, { proto, trustForwarded: service.route.trustForwarded });
    },
    connection: (key: number, socket: Socket): void => {
      const service = [...this.services.values()].find(
        (s) => s.route.kind === 'tcp' && this.listenerKey(claims(s.route)[0]!, s.name) === key,
      );
      if (!service) return void socket.destroy();
      service.handleTcp(socket, pipeTcp);
    },
    secureContext: (key: number, servername: string): SecureContext | null => {
      const service = this.lookup(key, 'https', servername.toLowerCase());
      return service?.tls?.context ?? null;
    },
  };

  // ---- Listeners ------------------------------------------------------------------------------------------------

  /** Open the listeners `route` needs that are not open yet. */
  private async openListeners(route: AppRoute): Promise<void> {
    for (const claim of claims(route)) {
      const key = this.listenerKey(claim, route.app);
      const open = this.listeners.get(key);
      if (open) {
        if (open.proto !== claim.proto) throw new DeployError(`port ${claim.port} is already open as ${open.proto}`);
        continue;
      }
      try {
        const { socketsDir, listenHost } = this.options;
        const listener = await Listener.open(
          socketsDir === undefined ? { host: listenHost } : { socketsDir },
          claim.port,
          claim.proto,
          {
            request: (_p, proto, req, res) => this.handlers.request(key, proto, req, res),
            upgrade: (_p, proto, req, socket, head) => this.handlers.upgrade(key, proto, req, socket, head),
            connection: (_p, socket) => this.handlers.connection(key, socket),
            secureContext: (_p, name) => this.handlers.secureContext(key, name),
          },
          this.options.log,
        );
        this.listeners.set(key, listener);
        this.options.log(`listening on ${listener.where} (${claim.proto})`);
      } catch (err) {
        throw new DeployError(`cannot listen on port ${claim.port} (${claim.proto}): ${(err as Error).message}`);
      }
    }
  }

  /** Close listeners no route needs any more; point each HTTPS port's default certificate at a serving app. */
  private async syncListeners(): Promise<void> {
    const wanted = new Set<number>();
    const pending = [...this.creating.values()].map((s) => s.route);
    for (const route of [...this.routes(), ...pending]) {
      for (const claim of claims(route)) wanted.add(this.listenerKey(claim, route.app));
    }
    for (const [key, listener] of this.listeners) {
      if (wanted.has(key)) {
        if (listener.proto === 'https') {
          const owners = [...this.services.values()].filter((s) =>
            claims(s.route).some((c) => c.proto === 'https' && this.listenerKey(c, s.name) === key),
          );
          const owner = owners.find((s) => s.route.hosts.length === 0) ?? owners[0];
          listener.setDefaultCertificate(owner?.tls ?? null);
        }
        continue;
      }
      this.listeners.delete(key);
      this.options.log(`closing ${listener.where} (${listener.proto})`);
      void listener.close();
    }
  }

  // ---- Verbs ----------------------------------------------------------------------------------------------------

  async deploy(route: AppRoute, { waitDrain = false }: { waitDrain?: boolean } = {}): Promise<DeployResult> {
    const existing = this.services.get(route.app) ?? this.creating.get(route.app);
    const service = existing ?? new Service({ ...route, paused: null }, this.context);
    if (!existing) this.creating.set(route.app, service);
    // A route still at its gate is overtaken by this one (its sender died mid-deploy; see Service.gating).
    service.gating?.control.abort();
    const gate = new AbortController();
    const overtaken = () => new DeployError(`${route.app}: ${route.target} was overtaken by a newer route of the app`);
    let outcome: Awaited<ReturnType<typeof deployTarget>>;
    try {
      outcome = await service.serial(async () => {
        if (gate.signal.aborted) throw overtaken();
        const conflict = routeConflict(this.routes(), route);
        if (conflict) throw new DeployError(`${route.app}: ${conflict}`);
        const tls = route.tls ? this.loadTlsOrThrow(route) : null;
        await this.openListeners(route);
        service.gating = { target: route.target, control: gate };
        try {
          return await deployTarget(
            service,
            route,
            {
              beforeSwap: () => {
                if (gate.signal.aborted) throw overtaken();
                const late = routeConflict(this.routes(), route);
                if (late) throw new DeployError(`${route.app}: ${late}`);
                service.tls = tls;
                this.creating.delete(route.app);
                this.services.set(route.app, service);
                this.failed.delete(route.app);
              },
              save: () => this.save(),
            },
            { signal: gate.signal },
          );
        } catch (err) {
          throw gate.signal.aborted ? overtaken() : err;
        } finally {
          if (service.gating?.control === gate) service.gating = null;
        }
      });
    } finally {
      if (this.creating.get(route.app) === service) this.creating.delete(route.app);
      await this.syncListeners();
    }
    // Waited for outside the app's queue: a rollback during the drain must not wait for it.
    if (waitDrain && outcome.drained) return { ...outcome.result, drained: await outcome.drained };
    return outcome.result;
  }

  private loadTlsOrThrow(route: AppRoute): LoadedTls {
    try {
      return loadTls(route.tls!.certFile, route.tls!.keyFile);
    } catch (err) {
      throw new DeployError(`${route.app}: ${(err as Error).message}`);
    }
  }

  private service(app: string): Service {
    const service = this.services.get(app);
    if (!service) {
      const failed = this.failed.get(app);
      throw new DeployError(failed ? `${app} is not served: ${failed.error}` : `no app named ${app}`);
    }
    return service;
  }

  async rollback(app: string): Promise<{ app: string; target: string }> {
    const service = this.service(app);
    return service.serial(async () => ({
      app,
      target: await swapBack(service, 'rollback asked for', 'rolled-back', {
        beforeSwap: () => {},
        save: () => this.save(),
      }),
    }));
  }

  async pause(app: string, holdMs: number): Promise<Record<string, unknown>> {
    const service = this.service(app);
    return service.serial(async () => {
      service.pause(holdMs);
      await this.save();
      return { app, paused: service.route.paused };
    });
  }

  async resume(app: string): Promise<Record<string, unknown>> {
    const service = this.service(app);
    return service.serial(async () => {
      service.resume();
      await this.save();
      return { app, paused: null };
    });
  }

  async remove(app: string): Promise<Record<string, unknown>> {
    // A route of the app still at its gate is cancelled (its sender died; see Service.gating).
    const pending = this.creating.get(app);
    this.services.get(app)?.gating?.control.abort();
    if (pending && !this.services.has(app)) {
      pending.gating?.control.abort();
      await pending.serial(async () => undefined);
      if (!this.services.has(app)) return { app, removed: true };
    }
    if (!this.services.has(app) && this.failed.delete(app)) {
      await this.save();
      return { app, removed: true };
    }
    const service = this.service(app);
    return service.serial(async () => {
      this.services.delete(app);
      await this.save();
      await this.syncListeners();
      await stopService(service);
      return { app, removed: true };
    });
  }

  status(app: string | null): Record<string, unknown> {
    const describe = (s: Service): Record<string, unknown> => {
      const tls = s.tls;
      return {
        ...s.status(),
        listening: claims(s.route).map((c) => ({ proto: c.proto, port: this.boundPort(c.port, c.proto, s.name) })),
        ...(tls ? { certificateValidTo: tls.validTo } : {}),
      };
    };
    if (app !== null) {
      const service = this.services.get(app);
      if (service) return describe(service);
      const failed = this.failed.get(app);
      if (failed) return { app, state: 'failed', error: failed.error };
      throw new DeployError(`no app named ${app}`);
    }
    return {
      apps: [...this.services.values()].map(describe),
      failed: [...this.failed].map(([name, f]) => ({ app: name, state: 'failed', error: f.error })),
      // First routes of apps still at their gate: their ports are claimed already (a relay must keep them).
      pending: [...this.creating.values()].map((s) => ({
        app: s.name,
        port: s.route.port,
        tls: s.route.tls ? { port: s.route.tls.port } : null,
      })),
      ...(this.saveError ? { saveError: this.saveError } : {}),
    };
  }

  // ---- State ----------------------------------------------------------------------------------------------------

  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  /** The last failed write of the state file (shown by status until a write succeeds). */
  saveError: string | null = null;

  /**
   * Write the state file: a temporary file, flushed, renamed over the old one (a crash leaves one or the other).
   * Asynchronous (an fsync must not stall requests), one write at a time; calls made while a write runs share the
   * next one, which takes the state as it is when it starts. Resolves once written; never rejects.
   */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.writing.then(async () => {
      this.queued = null;
      try {
        await this.writeState();
        this.saveError = null;
      } catch (err) {
        this.saveError = `cannot write ${this.options.stateFile}: ${(err as Error).message}`;
        this.options.log(this.saveError);
      }
    });
    this.queued = next;
    this.writing = next;
    return next;
  }

  private async writeState(): Promise<void> {
    const state: StateFile = {
      version: 1,
      apps: [...[...this.services.values()].map((s) => s.route), ...[...this.failed.values()].map((f) => f.entry)],
      addresses: Object.fromEntries(
        [...this.services.values()].map((s) => [
          s.name,
          (s.active?.addresses() ?? []).map(({ address, state }) => ({ address, state })),
        ]),
      ),
    };
    await writeFileAtomic(this.options.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  /**
   * Read the state file back, app by app: a route that is invalid, conflicts, has unusable TLS material or cannot
   * listen is kept out (and in status, with its reason); every other one is served again at once.
   */
  async restore(): Promise<{ restored: string[]; failed: string[] }> {
    const state = readStateFile(this.options.stateFile, this.options.log, (parsed) => {
      const file = parsed as Partial<StateFile> | null;
      if (file?.version !== 1 || !Array.isArray(file.apps)) throw new Error('not a version 1 state file');
      return file as StateFile;
    });
    if (!state) return { restored: [], failed: [] };
    const restored: string[] = [];
    const failed: string[] = [];
    for (const [i, entry] of state.apps.entries()) {
      const name =
        entry && typeof entry === 'object' && typeof (entry as { app?: unknown }).app === 'string'
          ? (entry as { app: string }).app
          : `#${i}`;
      try {
        const route = parseRoute(entry, `state file, app ${name}`, { stored: true });
        if (this.services.has(route.app)) throw new OptionError(`app ${route.app} is listed twice`);
        const conflict = routeConflict(this.routes(), route);
        if (conflict) throw new OptionError(conflict);
        const tls = route.tls ? loadTls(route.tls.certFile, route.tls.keyFile) : null;
        await this.openListeners(route);
        const service = new Service(route, this.context);
        const release = service.release(route.target);
        // It was serving: no gate. A container's address serves at once, as before; of a set of tasks, those that
        // were healthy (all, when an older door wrote the file), the others once they pass their checks.
        const saved = savedAddresses(state, route.app);
        const healthy = new Set(saved?.filter((a) => a.state === 'healthy').map((a) => a.address));
        await release.restore((address) => saved === undefined || !release.continuous || healthy.has(address));
        release.serving = true;
        if (release.continuous) release.watch(null);
        service.active = release;
        service.record('restored', `${route.target} from the state file`);
        service.tls = tls;
        this.services.set(route.app, service);
        restored.push(route.app);
      } catch (err) {
        this.failed.set(name, { entry, error: (err as Error).message });
        this.options.log(`not restored: ${name}: ${(err as Error).message}`);
        failed.push(name);
      }
    }
    await this.syncListeners();
    return { restored, failed };
  }

  /** Stop serving: close the listeners, drain every app (bounded by its drain times). */
  async close({ drain = true }: { drain?: boolean } = {}): Promise<void> {
    // Routes stay until the listeners have closed: a request that comes on a connection still open is served (and
    // told to close), never answered 404 by a router that has already forgotten its apps.
    this.closing = true;
    const listeners = [...this.listeners.values()];
    const closed = Promise.all(listeners.map((l) => l.close(drain ? 5_000 : 0)));
    if (drain) await closed;
    this.listeners.clear();
    const services = [...this.services.values()];
    this.services.clear();
    await Promise.all(
      services.map(async (s) => {
        if (drain) await stopService(s);
        else {
          for (const t of [s.active, s.previous?.target, ...s.retiring]) await t?.close();
          s.releaseHeld();
        }
      }),
    );
    for (const l of listeners) l.closeAll();
    await closed;
    // The last write of the state file (an address that changed as the apps closed) ends before close does.
    await this.writing;
  }
}
