import type { LivenessEvent, Runtime } from '../adapters/runtime/runtime.js';
import { stopGraceSeconds } from '../core/container-spec.js';
import { DeployError } from '../core/errors.js';
import { redactValues } from '../core/redact.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { CONNECTION_LOST } from '../adapters/docker/events.js';
import { probe } from '../adapters/http-probe.js';
import { durationInProse } from '../core/duration.js';
import { engineHost, isLoopback } from '../core/endpoint-choice.js';
import { formatPort } from '../core/ports.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { HEALTH_COMMAND } from '../core/container-spec.js';
import type { DeployConfig } from '../core/types.js';
import { unpulledImage } from '../core/tasks.js';
import { ImageNotOnNodes } from '../adapters/runtime/services.js';

/** door: the front door's own check gates the release (its route step); here the container need only have started. */
export type GateMode = 'healthcheck' | 'http' | 'settle' | 'door';

export interface HealthGate {
  mode: GateMode;
  /** For http: the URL probed. */
  url: string | null;
  /** Why this mode was chosen, for a warning when the configured check could not be used. */
  note: string | null;
  /** What is waited for, in words (the step's text while it waits). */
  waitingFor: string;
}

/**
 * Which check decides that a deployment is healthy: the image's HEALTHCHECK, else an HTTP GET of the configured
 * path on the published port, else the container must keep running. The HTTP check runs from this machine, so
 * it needs the port reachable from here: a port published on a remote engine's loopback is not, and the settle
 * check stands in (with a note saying so).
 */
export function chooseGate(
  config: DeployConfig,
  imageHasHealthcheck: boolean,
  engineUrl: string,
  imageIntervalMs: number | null = null,
): HealthGate {
  const hc = config.healthCheck;
  // healthCheck.command replaces the image's HEALTHCHECK ("none" turns it off): the container's check is the one that runs.
  const command = hc.command ?? null;
  if (command !== null && command !== 'none') {
    return {
      mode: 'healthcheck',
      url: null,
      note: null,
      waitingFor: `the health command to pass (it runs every ${durationInProse(HEALTH_COMMAND.intervalMs)})`,
    };
  }
  if (imageHasHealthcheck && command !== 'none') {
    // docker runs the first check one interval after the start: with its default 30 s, the wait is not a hang.
    const every =
      imageIntervalMs !== null
        ? ` (it runs every ${durationInProse(imageIntervalMs)}; the first result comes after one interval)`
        : '';
    return { mode: 'healthcheck', url: null, note: null, waitingFor: `the image's HEALTHCHECK${every}` };
  }
  if (routedByFrontDoor(config)) {
    // The door checks it from inside the engine's network (HTTP path, else a TCP connect): this works on any engine.
    const check = hc.path !== null ? `GET ${hc.path} to answer twice` : 'its port to accept connections';
    return { mode: 'door', url: null, note: null, waitingFor: `the front door to see ${check}` };
  }
  const settle = {
    mode: 'settle' as const,
    url: null,
    waitingFor: `it to keep running for ${durationInProse(hc.settleMs)}`,
  };
  if (hc.path !== null) {
    const tcp = config.ports.filter((p) => p.protocol === 'tcp');
    const mapping = hc.port === null ? tcp[0] : tcp.find((p) => p.containerPort === hc.port);
    if (!mapping) {
      return {
        ...settle,
        note: `the HTTP health check needs a published port${hc.port === null ? '' : ` for container port ${hc.port}`}; checked that the container keeps running instead`,
      };
    }
    const engine = engineHost(engineUrl);
    const wildcard = mapping.hostIp === '' || mapping.hostIp === '0.0.0.0' || mapping.hostIp === '::';
    if (!wildcard && isLoopback(mapping.hostIp) && !engine.local) {
      return {
        ...settle,
        note: `port ${formatPort(mapping)} is published on the loopback of ${engine.host}, which this machine cannot reach; checked that the container keeps running instead (give the app a HEALTHCHECK to have it checked there)`,
      };
    }
    const host = wildcard ? engine.host : mapping.hostIp;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const url = `http://${hostPart}:${mapping.hostPort}${hc.path}`;
    return { mode: 'http', url, note: null, waitingFor: `${url} to answer` };
  }
  return { ...settle, note: null };
}

export type GateResult =
  | { ok: true; detail: string }
  | {
      ok: false;
      reason: string;
      engineLost?: boolean;
      /** Nodes that refused a task of a Swarm service for its image during the wait (the failure then is that). */
      refused?: ImageNotOnNodes;
    };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits until the container passes its gate, dies, or the timeout ends. Lifecycle comes from the engine's
 * event stream (no polling for exits or HEALTHCHECK results); only the HTTP check polls, because only
 * the app can answer it.
 */
export async function waitHealthy(
  runtime: Runtime,
  containerId: string,
  config: DeployConfig,
  gate: HealthGate,
  events: { subscribe(fn: (e: LivenessEvent) => void): void },
  signal: AbortSignal,
): Promise<GateResult> {
  const hc = config.healthCheck;
  const started = Date.now();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  // Ctrl-C may have come before the gate began (while the old deployment was being stopped).
  if (signal.aborted) return { ok: false, reason: 'interrupted' };
  signal.addEventListener('abort', onAbort, { once: true });

  let failure: string | null = null;
  let engineLost = false;
  let healthy = false;
  let refused: ImageNotOnNodes | undefined;
  events.subscribe((e) => {
    if (e.action === 'image_refused' && e.refused) {
      refused ??= ImageNotOnNodes.of(e.refused);
      failure ??= `node ${e.refused.node} could not get the image ${e.refused.image}`;
      stop.abort();
    } else if (e.action === CONNECTION_LOST) {
      engineLost = true;
      failure ??= 'the connection to the engine was lost';
      stop.abort();
    } else if (e.action === 'die' || e.action === 'oom') {
      failure ??=
        e.action === 'oom' ? 'the container ran out of memory' : `the container exited with code ${e.exitCode ?? '?'}`;
      stop.abort();
    } else if (e.action.startsWith('health_status')) {
      if (e.action.endsWith('unhealthy')) {
        failure ??= "the image's HEALTHCHECK reported unhealthy";
        stop.abort();
      } else if (e.action.endsWith('healthy')) {
        healthy = true;
        stop.abort();
      }
    }
  });

  try {
    // The container may have died or turned healthy before the watch began.
    const first = await runtime.inspect(containerId);
    if (!first) return { ok: false, reason: 'the container disappeared' };
    if (!first.running && !first.restarting)
      return {
        ok: false,
        reason: `the container exited with code ${first.exitCode}${first.error ? ` (${first.error})` : ''}`,
      };
    if (gate.mode === 'healthcheck' && first.health === 'healthy') healthy = true;
    // Started and running: the front door's check (the route step) decides, watching for its death meanwhile.
    if (gate.mode === 'door') return { ok: true, detail: 'started' };

    const deadline = started + hc.timeoutMs;
    if (gate.mode === 'healthcheck') {
      if (!healthy && !failure) await sleep(hc.timeoutMs, stop.signal);
      if (failure) return { ok: false, reason: failure, engineLost, ...(refused ? { refused } : {}) };
      if (healthy) return { ok: true, detail: `HEALTHCHECK healthy after ${durationInProse(Date.now() - started)}` };
      return {
        ok: false,
        reason: signal.aborted
          ? 'interrupted'
          : `the image's HEALTHCHECK did not report healthy within ${durationInProse(hc.timeoutMs)}`,
      };
    }

    if (gate.mode === 'http' && gate.url) {
      let last = 'no answer yet';
      let attempts = 0;
      while (!stop.signal.aborted && Date.now() < deadline) {
        attempts++;
        const r = await probe(gate.url, Math.min(5_000, Math.max(500, deadline - Date.now())));
        if (failure) break;
        if (r.status !== null && r.status >= 200 && r.status < 400) {
          return {
            ok: true,
            detail: `GET ${gate.url} answered ${r.status} after ${durationInProse(Date.now() - started)}`,
          };
        }
        last = r.status !== null ? `HTTP ${r.status}` : (r.error ?? 'no answer');
        await sleep(hc.intervalMs, stop.signal);
      }
      if (failure) return { ok: false, reason: failure, engineLost, ...(refused ? { refused } : {}) };
      if (signal.aborted) return { ok: false, reason: 'interrupted' };
      return {
        ok: false,
        reason: `GET ${gate.url} did not succeed within ${durationInProse(hc.timeoutMs)} (${attempts === 1 ? '1 try' : `${attempts} tries`}; last: ${last})`,
      };
    }

    await sleep(hc.settleMs, stop.signal);
    if (failure) return { ok: false, reason: failure, engineLost, ...(refused ? { refused } : {}) };
    if (signal.aborted) return { ok: false, reason: 'interrupted' };
    const after = await runtime.inspect(containerId);
    if (!after?.running || after.restarting)
      return { ok: false, reason: `the container is not running (${after?.status ?? 'gone'})` };
    if (after.restartCount > first.restartCount)
      return { ok: false, reason: 'the container restarted while it was being watched' };
    return { ok: true, detail: `still running after ${durationInProse(hc.settleMs)}` };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Nodes that could not get a release's image (a Swarm service's): start_failed, naming them and the image. */
export function imageNotOnNodes(
  who: string,
  error: ImageNotOnNodes,
  registry: string | null,
  secrets: readonly string[] = [],
): DeployError {
  const { message, hint } = unpulledImage(who, error.image, error.nodes, registry);
  return new DeployError('start_failed', redactValues(message, secrets), {
    hint,
    details: { nodes: error.nodes.map((n) => n.node), image: error.image },
  });
}

export interface StartGatedOptions {
  /** Restart it in place (deploy restart) rather than start it. */
  restart?: boolean;
  /** Values masked in whatever the failure says (the app may print its secrets). */
  secrets: readonly string[];
  /** Called once it has started, before the wait. */
  onStarted?: () => void;
}

/**
 * The one way a deployment's workload is started and judged — by a release, `deploy start` and `deploy restart`:
 * start it with its liveness watched, then wait for its gate. A failure is a DeployError that says which
 * (could not start, with the port-in-use hint; engine lost; interrupted; failed its gate, secrets masked).
 * Returns what the gate saw.
 */
export async function startGated(
  ctx: Context,
  runtime: Runtime,
  d: Deployment,
  id: string,
  gate: HealthGate,
  o: StartGatedOptions,
): Promise<string> {
  const who = `${d.app} v${d.version} (${d.id})`;
  const listeners: Array<(e: LivenessEvent) => void> = [];
  const watch = await runtime.watch(id, (e) => listeners.forEach((fn) => fn(e)));
  try {
    try {
      if (o.restart) await runtime.restart(id, stopGraceSeconds(d.config));
      else await runtime.start(id);
    } catch (error) {
      if (error instanceof DeployError) throw error;
      if (error instanceof ImageNotOnNodes) throw imageNotOnNodes(who, error, d.config.registry, o.secrets);
      const reason = redactValues((error as Error).message.replace(/^(re)?start container: /, ''), o.secrets);
      throw new DeployError('start_failed', `${who} could not start: ${reason}`, {
        hint: /port is already allocated|address already in use/i.test(reason)
          ? 'Another program holds that host port: free it, or publish on another one with --port.'
          : `See its output: deploy logs ${d.id}`,
      });
    }
    o.onStarted?.();
    // Behind the front door, the wait is its route step's (services/release.ts).
    if (gate.mode !== 'door') ctx.reporter.step(`Waiting for ${gate.waitingFor}`);
    const result = await waitHealthy(
      runtime,
      id,
      d.config,
      gate,
      { subscribe: (fn) => listeners.push(fn) },
      ctx.signal,
    );
    if (!result.ok && result.engineLost) {
      throw new DeployError(
        'docker_unreachable',
        `Lost the connection to the Docker Engine at ${runtime.endpoint} while ${who} was starting`,
        {
          hint: 'Check the engine, then run the command again. The previous deployment is on that engine too: check it serves once the engine is back.',
        },
      );
    }
    if (!result.ok && result.refused) throw imageNotOnNodes(who, result.refused, d.config.registry, o.secrets);
    if (!result.ok && ctx.signal.aborted) {
      throw new DeployError('interrupted', `${who} was interrupted before it became healthy`, {
        hint: 'Run the command again when ready.',
      });
    }
    if (!result.ok) {
      throw new DeployError(
        'health_failed',
        `${who} failed its health check: ${redactValues(result.reason, o.secrets)}`,
        { hint: `See its output: deploy logs ${d.id}` },
      );
    }
    if (gate.mode !== 'door') ctx.reporter.done(`Healthy: ${result.detail}`);
    return result.detail;
  } finally {
    watch.close();
  }
}
