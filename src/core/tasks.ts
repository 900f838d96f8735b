/**
 * What a person sees of a Swarm service's tasks: each task with its node's hostname, how many run of how many
 * are wanted (per node too), the docker CLI's name for a task in its logs, and which failures say that a node
 * could not get the image. Pure: the runtime gathers the tasks and nodes, the services and the UI use these.
 */

/** A task as the manager lists it (the fields used here). */
export interface TaskFacts {
  id: string;
  nodeId: string;
  slot: number | null;
  state: string;
  desiredState: string;
  error: string;
  exitCode: number | null;
  stateSince: number | null;
  createdAt: number | null;
}

/** One task as status, inspect and their --json show it. */
export interface TaskView {
  /** The short id (12 characters, as `docker service ps` shows it). */
  id: string;
  slot: number | null;
  /** The hostname of its node; '' while it is not placed on one. */
  node: string;
  /** running, starting, pending, failed, rejected, shutdown, complete, ... */
  state: string;
  /** What Swarm wants of it: running (or ready), shutdown. */
  desiredState: string;
  /** Why it failed or was rejected ("No such image: ..."), or ''. */
  error: string;
  exitCode: number | null;
  /** ISO time it entered its state. */
  since: string | null;
}

/** Desired against running tasks, for the service and for each node. */
export interface TaskCounts {
  desired: number;
  running: number;
  nodes: Array<{ node: string; desired: number; running: number }>;
}

export const shortTaskId = (id: string): string => id.slice(0, 12);

/** Swarm wants it to run: a current task (a replacement waiting out the restart delay is desired "ready"). */
export const isCurrent = (t: { desiredState: string }): boolean =>
  t.desiredState === 'running' || t.desiredState === 'ready';

/**
 * The tasks as shown: the current ones by slot, then the ended ones Swarm keeps (its task history), newest first.
 * `nodes`: node id → hostname (a node gone from the swarm shows its id).
 */
export function taskViews(tasks: readonly TaskFacts[], nodes: ReadonlyMap<string, string>): TaskView[] {
  const current = tasks.filter(isCurrent).sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0) || newest(a, b));
  const ended = tasks.filter((t) => !isCurrent(t)).sort(newest);
  return [...current, ...ended].map((t) => ({
    id: shortTaskId(t.id),
    slot: t.slot,
    node: t.nodeId === '' ? '' : (nodes.get(t.nodeId) ?? shortTaskId(t.nodeId)),
    state: t.state,
    desiredState: t.desiredState,
    error: t.error,
    exitCode: t.exitCode,
    since: t.stateSince === null ? null : new Date(t.stateSince).toISOString(),
  }));
}

function newest(a: TaskFacts, b: TaskFacts): number {
  return (b.stateSince ?? b.createdAt ?? 0) - (a.stateSince ?? a.createdAt ?? 0);
}

/** How many tasks run of those wanted (`desired`: the service's replica count), overall and per node. */
export function taskCounts(views: readonly TaskView[], desired: number): TaskCounts {
  const nodes = new Map<string, { desired: number; running: number }>();
  let running = 0;
  for (const t of views) {
    if (!isCurrent(t)) continue;
    const key = t.node || '(not placed)';
    const n = nodes.get(key) ?? { desired: 0, running: 0 };
    n.desired++;
    if (t.state === 'running') {
      n.running++;
      running++;
    }
    nodes.set(key, n);
  }
  return {
    desired,
    running,
    nodes: [...nodes].map(([node, n]) => ({ node, ...n })).sort((a, b) => (a.node < b.node ? -1 : 1)),
  };
}

/** A task's name in service logs, as the docker CLI writes it: SERVICE.SLOT.SHORTID (no slot: a global service's). */
export function taskName(service: string, slot: number | null, taskId: string): string {
  return `${service}${slot === null ? '' : `.${slot}`}.${shortTaskId(taskId)}`;
}

/** The prefix of a service log line, `TASK@NODE | `, the task padded to `width` as the docker CLI aligns them. */
export function taskPrefix(task: string, node: string, width = 0): string {
  const who = `${task}@${node}`;
  return `${who.padEnd(width)} | `;
}

/** Errors with which a node refuses a task whose image it does not have and could not pull. */
const IMAGE_ERROR =
  /no such image|pull access denied|manifest unknown|manifest for .* not found|repository does not exist|failed to resolve reference|error pulling image|unauthorized: authentication required|http: server gave HTTP response to HTTPS client|image .* not found/i;

export function isImageError(error: string): boolean {
  return IMAGE_ERROR.test(error);
}

/** The nodes (each once, by hostname) whose tasks failed because they could not get the image, with what each said. */
export function imageRefusals(tasks: readonly TaskView[]): Array<{ node: string; error: string }> {
  const out = new Map<string, string>();
  for (const t of tasks) if (isImageError(t.error) && !out.has(t.node)) out.set(t.node, t.error);
  return [...out].map(([node, error]) => ({ node: node || '(not placed)', error }));
}

/**
 * The failure of a release some nodes could not get the image of: which nodes, which image, and what to do.
 * `registry`: the app's registry setting (null: the image was on the engine that built it only).
 */
export function unpulledImage(
  who: string,
  image: string,
  refusals: ReadonlyArray<{ node: string; error: string }>,
  registry: string | null,
): { message: string; hint: string } {
  const nodes = refusals.map((r) => r.node);
  const named = nodes.length === 1 ? `node ${nodes[0]}` : `nodes ${nodes.join(', ')}`;
  const said = (refusals[0]?.error ?? '').replace(/[.\s]+$/, '');
  // "No such image: IMAGE" only says it again; a pull's own refusal (denied, unknown) says why.
  const why = said === '' || /^no such image:/i.test(said) ? '' : ` (${said})`;
  const message = `${who} could not start: ${named} could not get the image ${image}${why}`;
  const hint =
    registry === null
      ? 'Set a registry so that every node can pull the image (deploy config set registry=HOST), or give ' +
        `${nodes.length === 1 ? "that node's Docker endpoint" : "those nodes' Docker endpoints"} in the app's nodes ` +
        `(deploy config set nodes=ssh://USER@HOST,...) so that the image is loaded into ${nodes.length === 1 ? 'it' : 'them'}.`
      : `Every node pulls it from ${registry}: make it reachable (and trusted) from ${nodes.length === 1 ? 'that node' : 'those nodes'}, ` +
        `or drain ${nodes.length === 1 ? 'it' : 'them'} (docker node update --availability drain ${nodes[0]}).`;
  return { message, hint };
}
