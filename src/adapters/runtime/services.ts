import { setTimeout as wait } from 'node:timers/promises';
import { DeployError } from '../../core/errors.js';
import { isUnproven, LABEL } from '../../core/names.js';
import { parseRecordLabel } from '../../core/record-label.js';
import { placementOf } from '../../core/runtime-choice.js';
import { serviceSpec, servicesCannotCarry } from '../../core/service-spec.js';
import {
  imageRefusals,
  isCurrent,
  isImageError,
  taskCounts,
  taskName,
  taskViews,
  type TaskCounts,
  type TaskView,
} from '../../core/tasks.js';
import type { LogLine } from '../../core/logs.js';
import type { Deployment } from '../../core/types.js';
import { CONNECTION_LOST } from '../docker/events.js';
import { statusCode } from '../docker/engine/connection.js';
import type { Engine } from '../docker/engine/engine.js';
import type { RegistryAuth, ServiceInfo, ServiceLogLine, ServiceSpec, TaskInfo } from '../docker/engine/types.js';
import type { LivenessEvent, LogOptions, Runtime, WorkloadState, WorkloadSummary } from './runtime.js';

/** Task states before the end: Swarm still has (or will have) a container for it. */
const LIVE = new Set(['new', 'pending', 'assigned', 'accepted', 'ready', 'preparing', 'starting', 'running']);
/** Task states that end a task that had a container (its exit code is known), and those that end one that never ran. */
const ENDED = new Set(['complete', 'failed', 'shutdown']);
const NEVER_RAN = new Set(['rejected', 'orphaned', 'remove']);

/**
 * How many tasks a started deployment runs: the count `deploy scale` left on the service (LABEL.replicas), else its
 * record's `replicas` setting, else 1.
 */
export function wantedReplicas(info: Pick<ServiceInfo, 'labels'>): number {
  const scaled = Number(info.labels[LABEL.replicas]);
  if (Number.isInteger(scaled) && scaled >= 1) return scaled;
  const recorded = parseRecordLabel(info.labels[LABEL.record])?.config.replicas;
  return typeof recorded === 'number' && Number.isInteger(recorded) && recorded >= 1 ? recorded : 1;
}

/** What a service's tasks say about it, as the container vocabulary of WorkloadState has it. */
export function serviceState(info: ServiceInfo, tasks: readonly TaskInfo[]): WorkloadState {
  const wanted = info.replicas ?? tasks.filter((t) => t.desiredState === 'running').length;
  const running = tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');
  // A replacement waiting out Swarm's restart delay (or a start-first update's new task) is desired "ready".
  const pending = tasks.filter(
    (t) => (t.desiredState === 'running' || t.desiredState === 'ready') && t.state !== 'running' && LIVE.has(t.state),
  );
  const newestFirst = (a: TaskInfo, b: TaskInfo) => (b.stateSince ?? 0) - (a.stateSince ?? 0);
  const ended = tasks.filter((t) => ENDED.has(t.state) || NEVER_RAN.has(t.state)).sort(newestFirst);
  const last = ended[0];
  // A task that failed and was replaced in its slot: what a container counts as a restart by its policy.
  const restartCount = tasks.filter(
    (t) =>
      (t.state === 'failed' || t.state === 'rejected') &&
      tasks.some((u) => u.slot === t.slot && u.id !== t.id && (u.createdAt ?? 0) > (t.createdAt ?? 0)),
  ).length;
  const isRunning = wanted > 0 && running.length >= wanted;
  const restarting = !isRunning && wanted > 0 && pending.length > 0 && restartCount > 0;
  const lastExit = parseLastExit(info.labels[LABEL.lastExit]);
  const spec = info.spec.TaskTemplate.ContainerSpec;
  const checked = spec.Healthcheck?.Test !== undefined && spec.Healthcheck.Test[0] !== 'NONE';
  // Swarm holds a task with a health check in "starting" until it is healthy, and fails it when unhealthy.
  const health = !checked
    ? null
    : isRunning
      ? 'healthy'
      : pending.some((t) => t.state === 'starting')
        ? 'starting'
        : last && /unhealthy/.test(last.error)
          ? 'unhealthy'
          : null;
  const { [LABEL.lastExit]: _kept, ...labels } = info.labels;
  return {
    id: info.id,
    name: info.labels[LABEL.unproven] === 'true' ? `${info.name}.starting` : info.name,
    running: isRunning,
    restarting,
    status: isRunning
      ? 'running'
      : restarting
        ? 'restarting'
        : pending.length > 0
          ? 'starting'
          : last || lastExit
            ? 'exited'
            : 'created',
    exitCode: last ? (last.exitCode ?? -1) : (lastExit?.exitCode ?? 0),
    restartCount,
    health,
    labels,
    error: isRunning ? '' : (last?.error ?? ''),
    imageId: spec.Image,
    env: spec.Env ?? [],
    startedAt: running.map((t) => t.stateSince ?? 0).sort((a, b) => b - a)[0] || null,
    finishedAt: last?.stateSince ?? lastExit?.finishedAt ?? null,
  };
}

/** How the last task of a service scaled to 0 ended (Swarm deletes such tasks), kept on the service. */
function parseLastExit(text: string | undefined): { exitCode: number; finishedAt: number | null } | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as { exitCode?: unknown; finishedAt?: unknown };
    return {
      exitCode: typeof v.exitCode === 'number' ? v.exitCode : -1,
      finishedAt: typeof v.finishedAt === 'number' ? v.finishedAt : null,
    };
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ServiceRuntimeOptions {
  /** How often a watch and a wait poll the service's tasks (Swarm's events name no task). Default 250 ms. */
  pollMs?: number;
  /** How long start and restart wait for the tasks to run (or end) before they give up. Default 60 s. */
  startTimeoutMs?: number;
  /** What a stop waits beyond the grace it gives, for Swarm to carry the stop out. Default 15 s. */
  stopMarginMs?: number;
}

/**
 * A deployment as one Swarm service on a manager (the blue/green shape: a deployment is still one workload; the
 * front door can later switch between two deployments' services). Its id is the service's id. Created with 0
 * replicas; start scales it up, stop scales it to 0, restart is a forced update. Swarm's events name no task, so
 * a watch polls the tasks. What a service cannot do that a container can: be renamed (only its unproven mark is
 * dropped), keep the exit code of a task scaled away (kept here in a label), report the health of an image's own
 * HEALTHCHECK (only the spec's health command is known to the manager), carry the settings servicesCannotCarry names.
 */
export class ServiceRuntime implements Runtime {
  readonly kind = 'service' as const;
  private readonly pollMs: number;
  private readonly startTimeoutMs: number;
  private readonly stopMarginMs: number;

  constructor(
    readonly engine: Engine,
    options: ServiceRuntimeOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.startTimeoutMs = options.startTimeoutMs ?? 60_000;
    this.stopMarginMs = options.stopMarginMs ?? 15_000;
  }

  get endpoint(): string {
    return this.engine.endpoint.url;
  }

  /**
   * `auth`: the credentials every node pulls the image with (X-Registry-Auth), for an image in a private registry.
   * `holders`: without a registry, the node ids besides this manager's that hold the image (the app's `nodes` it
   * was loaded into): the tasks may run there too.
   */
  async create(
    d: Deployment,
    image: string,
    name: string,
    imageVolumes: readonly string[],
    { auth = null, holders = [] }: { auth?: RegistryAuth | null; holders?: readonly string[] } = {},
  ): Promise<string> {
    const cannot = servicesCannotCarry(d.config);
    if (cannot.length > 0)
      throw new DeployError(
        'config',
        `A Swarm service cannot carry these settings of ${d.app} yet: ${cannot.join('; ')}.`,
        {
          hint: 'Deploy it to a single engine, or leave those settings out.',
        },
      );
    // Without a registry the image is on this engine (and the holders) only: the tasks run there. With one, the
    // nodes pull it.
    const local = d.config.registry === null;
    const [nodeId, swarm] = await Promise.all([
      local ? this.engine.system.info().then((i) => i.swarm.nodeId) : null,
      local && holders.length > 0 ? this.engine.services.nodes().then((ns) => ns.map((n) => n.id)) : [],
    ]);
    const spec = serviceSpec(d, image, name, imageVolumes, placementOf(d.config, nodeId, holders, swarm));
    return (await this.engine.services.create(spec as ServiceSpec, auth)).id;
  }

  async start(id: string): Promise<void> {
    const before = await this.taskIds(id);
    await this.change(id, 'start', (spec, info) => {
      setReplicas(spec, wantedReplicas(info));
      delete spec.Labels?.[LABEL.lastExit];
    });
    await this.settle(id, before, 'start', this.startTimeoutMs);
  }

  async restart(id: string, graceSeconds: number): Promise<void> {
    const before = await this.taskIds(id);
    await this.change(id, 'restart', (spec, info) => {
      setReplicas(spec, wantedReplicas(info));
      delete spec.Labels?.[LABEL.lastExit];
      // A forced update: every task replaced, one at a time, with an unchanged spec (docker service update --force).
      spec.TaskTemplate.ForceUpdate = (spec.TaskTemplate.ForceUpdate ?? 0) + 1;
    });
    // Done when the new tasks run and the old ones have stopped (start-first: the old one serves until then).
    await this.settle(id, before, 'restart', graceSeconds * 1000 + this.startTimeoutMs, true);
  }

  /**
   * Scales it to 0 and waits until no task is left running. Swarm gives each task the grace of its spec (the
   * stop timeout of the settings, which is what callers pass); `graceSeconds` bounds the wait (plus a margin).
   */
  async stop(id: string, graceSeconds: number): Promise<void> {
    const info = await this.engine.services.inspect(id);
    if (!info) return;
    const stopping = new Set((await this.engine.services.tasks(id)).filter((t) => LIVE.has(t.state)).map((t) => t.id));
    if (info.replicas === 0 && stopping.size === 0) return;
    await this.change(id, 'stop', (spec) => setReplicas(spec, 0));
    // Swarm deletes a task scaled away soon after it ends: its exit code is caught on the way (polled often).
    const deadline = Date.now() + graceSeconds * 1000 + this.stopMarginMs;
    let lastEnded: TaskInfo | undefined;
    for (;;) {
      const tasks = await this.engine.services.tasks(id);
      for (const t of tasks)
        if (
          stopping.has(t.id) &&
          t.exitCode !== null &&
          (!lastEnded || (t.stateSince ?? 0) >= (lastEnded.stateSince ?? 0))
        )
          lastEnded = t;
      if (!tasks.some((t) => LIVE.has(t.state))) break;
      if (Date.now() >= deadline)
        throw new Error(
          `stop service: its tasks still run ${graceSeconds} s + ${this.stopMarginMs / 1000} s after it was scaled to 0 (${describe(tasks)})`,
        );
      await sleep(Math.min(50, this.pollMs));
    }
    // -1: Swarm deleted the task before a poll saw how it ended (never seen here so far).
    const exitCode = lastEnded?.exitCode ?? -1;
    await this.change(id, 'stop', (spec) => {
      spec.Labels = {
        ...spec.Labels,
        [LABEL.lastExit]: JSON.stringify({ exitCode, finishedAt: lastEnded?.stateSince ?? Date.now() }),
      };
    });
  }

  async remove(id: string): Promise<void> {
    await this.engine.services.remove(id);
  }

  /**
   * Sets how many tasks it runs (kept on the service, LABEL.replicas, so a stop and start come back to it) and,
   * unless it is stopped (0 replicas: only the count is kept), waits until that many run and no task beyond them.
   */
  async scale(id: string, replicas: number): Promise<void> {
    let stopped = false;
    await this.change(id, 'scale', (spec, info) => {
      stopped = info.replicas === 0;
      spec.Labels = { ...spec.Labels, [LABEL.replicas]: String(replicas) };
      if (!stopped) setReplicas(spec, replicas);
    });
    if (stopped) return;
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const tasks = await this.engine.services.tasks(id);
      const running = tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');
      const leaving = tasks.filter((t) => t.desiredState !== 'running' && t.state === 'running');
      const refused = tasks.find((t) => t.desiredState === 'running' && NEVER_RAN.has(t.state) && t.state !== 'remove');
      if (refused) {
        const info = await this.engine.services.inspect(id);
        if (!info) throw new Error(`scale service: the service is gone: ${id}`);
        await this.refuse('scale', info, tasks, refused);
      }
      if (running.length === replicas && leaving.length === 0) return;
      if (Date.now() >= deadline)
        throw new Error(
          `scale service: ${running.length} of ${replicas} tasks run after ${Math.round(this.startTimeoutMs / 1000)} s (${describe(tasks)})`,
        );
      await sleep(this.pollMs);
    }
  }

  /**
   * A service cannot be renamed (the engine: "renaming services is not supported"). What the container runtime's
   * rename does once a release is proven, NAME.starting → NAME, is done by dropping the unproven label; any
   * other name is refused.
   */
  async rename(id: string, name: string): Promise<void> {
    const info = await this.engine.services.inspect(id);
    if (!info) throw new Error(`rename service: no such service: ${id}`);
    const base = isUnproven(name) ? name.slice(0, -'.starting'.length) : name;
    if (base !== info.name)
      throw new Error(
        `rename service: a Swarm service cannot be renamed (${info.name} → ${name}); only its ".starting" mark can be dropped`,
      );
    const unproven = isUnproven(name);
    if ((info.labels[LABEL.unproven] === 'true') === unproven) return;
    await this.change(id, 'rename', (spec) => {
      const { [LABEL.unproven]: _dropped, ...rest } = spec.Labels ?? {};
      spec.Labels = unproven ? { ...rest, [LABEL.unproven]: 'true' } : rest;
    });
  }

  async inspect(id: string): Promise<WorkloadState | null> {
    const info = await this.engine.services.inspect(id);
    if (!info) return null;
    return serviceState(info, await this.engine.services.tasks(info.id));
  }

  async list(labels: Record<string, string | null>, signal?: AbortSignal): Promise<WorkloadSummary[]> {
    const services = await this.engine.services.list(labels);
    signal?.throwIfAborted();
    return Promise.all(
      services.map(async (info) => {
        const tasks = await this.engine.services.tasks(info.id);
        const s = serviceState(info, tasks);
        const running = tasks.filter((t) => t.desiredState === 'running' && t.state === 'running').length;
        const ended = s.status === 'exited' || s.status === 'restarting';
        return {
          id: s.id,
          name: s.name,
          state: s.status,
          // As docker service ls counts them: tasks running / tasks wanted.
          status: ended
            ? `Exited (${s.exitCode}), ${running}/${info.replicas ?? 'global'} tasks`
            : `${s.status[0]?.toUpperCase() ?? ''}${s.status.slice(1)}, ${running}/${info.replicas ?? 'global'} tasks`,
          exitCode: ended ? s.exitCode : null,
          imageId: s.imageId,
          labels: s.labels,
        };
      }),
    );
  }

  /**
   * Reports the liveness of the service's tasks from now on: start when a task runs (and health_status: healthy
   * when it has a health command: Swarm runs such a task only once healthy), die with its exit code when one ends
   * on its own (a task Swarm shut down, for an update or a scale, is not reported)
   * (health_status: unhealthy first when Swarm failed it for that), destroy when the service is gone, and
   * CONNECTION_LOST when the manager cannot be reached. Polls every pollMs.
   */
  async watch(id: string, onEvent: (event: LivenessEvent) => void): Promise<{ close(): void }> {
    const seen = new Map<string, string>();
    const info = await this.engine.services.inspect(id);
    if (!info) throw new Error(`watch service: no such service: ${id}`);
    for (const t of await this.engine.services.tasks(info.id)) seen.set(t.id, t.state);
    let closed = false;
    const poll = async () => {
      while (!closed) {
        await sleep(this.pollMs);
        if (closed) return;
        let now: ServiceInfo | null;
        let tasks: TaskInfo[];
        try {
          now = await this.engine.services.inspect(info.id);
          tasks = now ? await this.engine.services.tasks(info.id) : [];
        } catch (error) {
          if (closed) return;
          if (statusCode(error) !== undefined) continue; // the manager answered: try again
          closed = true;
          onEvent({ action: CONNECTION_LOST, exitCode: null });
          return;
        }
        if (closed) return;
        if (!now) {
          closed = true;
          onEvent({ action: 'destroy', exitCode: null });
          return;
        }
        const test = now.spec.TaskTemplate.ContainerSpec.Healthcheck?.Test;
        const checked = test !== undefined && test[0] !== 'NONE';
        for (const t of [...tasks].sort((a, b) => (a.stateSince ?? 0) - (b.stateSince ?? 0))) {
          const was = seen.get(t.id);
          if (was === t.state) continue;
          seen.set(t.id, t.state);
          const ranBefore = was === 'running';
          const endedBefore = was !== undefined && !LIVE.has(was);
          if (t.state === 'running') {
            onEvent({ action: 'start', exitCode: null });
            if (checked) onEvent({ action: 'health_status: healthy', exitCode: null });
          } else if (t.state === 'shutdown' && t.desiredState !== 'running') {
            // Shut down on Swarm's order (a forced update replaced it, a scale removed it): not a death of the
            // workload, whose other tasks (or their replacements) run on. A crash ends a task failed or complete.
            continue;
          } else if (NEVER_RAN.has(t.state) && isImageError(t.error)) {
            // A node could not get the image (a task placed anew during the gate): said first, so that a listener
            // that knows it (the health gate) reports that rather than the death that follows for the others.
            const nodes = await this.nodeNames().catch(() => new Map<string, string>());
            if (closed) return;
            onEvent({
              action: 'image_refused',
              exitCode: null,
              refused: {
                node: nodes.get(t.nodeId) ?? (t.nodeId || '(not placed)'),
                error: t.error,
                image: now.spec.TaskTemplate.ContainerSpec.Image,
              },
            });
            onEvent({ action: 'die', exitCode: null });
          } else if (!LIVE.has(t.state) && !endedBefore) {
            // Started and ended between two polls: its start is reported too.
            if (!ranBefore && t.containerId && ENDED.has(t.state)) onEvent({ action: 'start', exitCode: null });
            if (checked && /unhealthy/.test(t.error)) onEvent({ action: 'health_status: unhealthy', exitCode: null });
            onEvent({ action: 'die', exitCode: t.exitCode });
          }
        }
      }
    };
    void poll();
    return {
      close: () => {
        closed = true;
      },
    };
  }

  /** Every task's lines, each with the task that wrote it (SERVICE.SLOT.ID) and its node's hostname. */
  async logs(id: string, options: LogOptions = {}): Promise<LogLine[]> {
    const names = new TaskNames(this.engine, id);
    const lines = await this.engine.services.logs(id, options);
    return Promise.all(lines.map((l) => names.label(l)));
  }

  /**
   * Follows every task's output (tasks that start meanwhile too), each line labelled as logs() labels it, in order,
   * until the signal aborts or the service is gone (looked for every second: the manager may keep the stream open).
   */
  async followLogs(
    id: string,
    options: LogOptions,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const names = new TaskNames(this.engine, id);
    const until = new AbortController();
    const stop = () => until.abort();
    signal.addEventListener('abort', stop, { once: true });
    const looking = (async () => {
      while (!until.signal.aborted) {
        // Ended at once by Ctrl-C or the stream's end, not a second later.
        await wait(Math.max(1000, this.pollMs), undefined, { signal: until.signal }).catch(() => undefined);
        if (until.signal.aborted) return;
        if ((await this.engine.services.inspect(id).catch(() => undefined)) === null) until.abort();
      }
    })();
    let chain = Promise.resolve();
    try {
      await this.engine.services.followLogs(
        id,
        options,
        (l) => {
          chain = chain.then(async () => onLine(await names.label(l)));
        },
        until.signal,
      );
    } finally {
      until.abort();
      signal.removeEventListener('abort', stop);
      await looking;
    }
    await chain;
  }

  /**
   * The service's tasks as a person sees them (node hostnames, short ids; current ones first) and how many run of
   * those it wants, per node too; null when the service is gone.
   */
  async tasks(id: string): Promise<{ tasks: TaskView[]; counts: TaskCounts } | null> {
    const info = await this.engine.services.inspect(id);
    if (!info) return null;
    const [tasks, nodes] = await Promise.all([this.engine.services.tasks(info.id), this.nodeNames()]);
    const views = taskViews(tasks, nodes);
    return { tasks: views, counts: taskCounts(views, info.replicas ?? views.filter(isCurrent).length) };
  }

  private async nodeNames(): Promise<Map<string, string>> {
    return new Map((await this.engine.services.nodes()).map((n) => [n.id, n.hostname]));
  }

  /** The ids of the service's tasks now (so a wait can tell the tasks a change makes). */
  private async taskIds(id: string): Promise<Set<string>> {
    return new Set((await this.engine.services.tasks(id)).map((t) => t.id));
  }

  /**
   * A task the nodes refused: when it is because a node could not get the image, an ImageNotOnNodes naming the
   * nodes (and the image), else the node's own word.
   */
  private async refuse(what: string, info: ServiceInfo, tasks: TaskInfo[], refused: TaskInfo): Promise<never> {
    const views = taskViews(tasks, await this.nodeNames().catch(() => new Map<string, string>()));
    const nodes = imageRefusals(views);
    const image = info.spec.TaskTemplate.ContainerSpec.Image;
    if (nodes.length > 0)
      throw new ImageNotOnNodes(
        `${what} service: ${image} is not on ${nodes.map((n) => n.node).join(', ')}`,
        image,
        nodes,
      );
    throw new Error(`${what} service: a task was ${refused.state}: ${refused.error || refused.message}`);
  }

  /** Changes the service's spec, retried when another update came between (the engine refuses a stale version). */
  private async change(id: string, what: string, edit: (spec: ServiceSpec, info: ServiceInfo) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const info = await this.engine.services.inspect(id);
      if (!info) throw new Error(`${what} service: no such service: ${id}`);
      const spec = structuredClone(info.spec);
      edit(spec, info);
      try {
        await this.engine.services.update(info.id, info.version, spec);
        return;
      } catch (error) {
        if (attempt >= 3 || !/out of sequence/.test((error as Error).message)) throw error;
      }
    }
  }

  /**
   * Waits until the tasks a start or restart made run (as many as the service wants), or one of them ended (it
   * started and died: the watch and inspect say so), and with `oldGone` until the tasks from before have ended
   * too; a task the nodes refused (no such image, ...) is an error.
   */
  private async settle(
    id: string,
    before: Set<string>,
    what: string,
    timeoutMs: number,
    oldGone = false,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await this.engine.services.inspect(id);
      if (!info) throw new Error(`${what} service: the service is gone: ${id}`);
      const tasks = await this.engine.services.tasks(id);
      const fresh = tasks.filter((t) => !before.has(t.id));
      const oldLive = oldGone && tasks.some((t) => before.has(t.id) && LIVE.has(t.state));
      const refused = fresh.find((t) => NEVER_RAN.has(t.state) && t.state !== 'remove');
      if (refused) await this.refuse(what, info, fresh, refused);
      const running = fresh.filter((t) => t.desiredState === 'running' && t.state === 'running');
      if (!oldLive && (running.length >= (info.replicas ?? 1) || fresh.some((t) => ENDED.has(t.state)))) return;
      if (Date.now() >= deadline)
        throw new Error(
          `${what} service: its tasks did not run within ${Math.round(timeoutMs / 1000)} s (${describe(fresh)})`,
        );
      await sleep(this.pollMs);
    }
  }
}

/** A service's tasks were refused because these nodes could not get its image (no such image, pull denied). */
export class ImageNotOnNodes extends Error {
  constructor(
    message: string,
    readonly image: string,
    readonly nodes: ReadonlyArray<{ node: string; error: string }>,
  ) {
    super(message);
    this.name = 'ImageNotOnNodes';
  }

  /** The refusal a watch reported (LivenessEvent `image_refused`). */
  static of(refused: { node: string; error: string; image: string }): ImageNotOnNodes {
    return new ImageNotOnNodes(`${refused.image} is not on ${refused.node}`, refused.image, [
      { node: refused.node, error: refused.error },
    ]);
  }
}

/**
 * Names the tasks of a service's log lines as the docker CLI does (SERVICE.SLOT.ID@NODE): the service's tasks and
 * the swarm's nodes are read once, and again when a line names a task not seen yet (one started since).
 */
class TaskNames {
  private known: Promise<{ service: string; slots: Map<string, number | null>; nodes: Map<string, string> }> | null =
    null;
  private readonly missed = new Set<string>();

  constructor(
    private readonly engine: Engine,
    private readonly id: string,
  ) {}

  async label(line: ServiceLogLine): Promise<LogLine> {
    const { taskId, nodeId, ...plain } = line;
    if (!taskId) return plain;
    let k = await this.read();
    if (!k.slots.has(taskId) && !this.missed.has(taskId)) {
      this.missed.add(taskId);
      this.known = null;
      k = await this.read();
    }
    return {
      ...plain,
      task: taskName(k.service, k.slots.get(taskId) ?? null, taskId),
      node: k.nodes.get(nodeId) ?? nodeId.slice(0, 12),
    };
  }

  private read() {
    this.known ??= (async () => {
      const [info, tasks, nodes] = await Promise.all([
        this.engine.services.inspect(this.id),
        this.engine.services.tasks(this.id),
        this.engine.services.nodes(),
      ]);
      return {
        service: info?.name ?? this.id,
        slots: new Map(tasks.map((t) => [t.id, t.slot])),
        nodes: new Map(nodes.map((n) => [n.id, n.hostname])),
      };
    })().catch(() => ({ service: this.id, slots: new Map<string, number | null>(), nodes: new Map<string, string>() }));
    return this.known;
  }
}

function setReplicas(spec: ServiceSpec, replicas: number): void {
  spec.Mode = { Replicated: { Replicas: replicas } };
}

function describe(tasks: readonly TaskInfo[]): string {
  if (tasks.length === 0) return 'no task';
  return tasks.map((t) => `task ${t.id.slice(0, 12)} ${t.state}${t.error ? `: ${t.error}` : ''}`).join('; ');
}
