import type { DeploymentPatch, Store } from '../adapters/store/store.js';
import { machineId } from '../adapters/machine.js';
import { newDeploymentId } from '../core/ids.js';
import { runtimeKindOf } from '../core/runtime-choice.js';
import { IN_PROGRESS, type DeployConfig, type Deployment, type SourceInfo } from '../core/types.js';
import type { Context } from '../context.js';

/**
 * Keeps a deployment's record true as work goes on: every change is written at once, with an event in
 * its timeline, so a crash leaves the store saying how far the work got.
 */
export class Tracker {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    readonly deployment: Deployment,
  ) {}

  get id(): string {
    return this.deployment.id;
  }

  update(patch: DeploymentPatch, event?: { type: string; message: string }): void {
    // Once it has finished, no process answers for it. A deployment that passed its gate is still the process's
    // until the one it replaces is retired (finishedAt): a death in between is found and the retiring finished.
    const finished =
      patch.finishedAt !== undefined ||
      (patch.status !== undefined && !IN_PROGRESS.includes(patch.status) && patch.status !== 'running');
    if (finished) patch = { ...patch, worker: null };
    this.store.updateDeployment(this.deployment.id, patch);
    Object.assign(this.deployment, patch);
    // The store keeps the workload equal to the id written as containerId, whatever the runtime (core/workload.ts).
    if ('containerId' in patch && !('workload' in patch)) this.deployment.workload = this.deployment.containerId;
    if (event) this.store.addEvent(this.deployment.id, this.now(), event.type, event.message);
  }

  event(type: string, message: string): void {
    this.store.addEvent(this.deployment.id, this.now(), type, message);
  }
}

/** What a new deployment's record is made from; everything else starts empty. */
export interface RecordStart {
  app: string;
  kind: Deployment['kind'];
  parentId: string | null;
  source: SourceInfo;
  /** A reused image: its tag, its id, and its digest (images.ts imageDigest). */
  image: { ref: string; id: string; digest: string } | null;
  endpoint: string;
  config: DeployConfig;
  /** The one-off settings of the command line, kept so that a redeploy ships them again. */
  overrides?: Deployment['overrides'];
  actor: string;
}

/**
 * Records a new deployment, queued, with the next version number, and returns its tracker. The record names
 * the process working on it, so that its death is noticed (see recovery.ts).
 */
export function startRecord(ctx: Context, start: RecordStart): Tracker {
  const store = ctx.store();
  const s = start.source;
  const d = store.createDeployment({
    id: newDeploymentId(ctx.random),
    app: start.app,
    kind: start.kind,
    parentId: start.parentId,
    status: 'queued',
    source: s.source,
    subdir: s.subdir,
    ref: s.ref,
    commit: s.commit,
    commitSubject: s.commitSubject,
    commitAuthor: s.commitAuthor,
    commitTime: s.commitTime,
    dirty: s.dirty,
    image: start.image?.ref ?? null,
    imageId: start.image?.id ?? null,
    imageDigest: start.image?.digest ?? null,
    runtime: runtimeKindOf(start.config),
    workload: null,
    containerId: null,
    containerName: null,
    endpoint: start.endpoint,
    config: start.config,
    createdAt: ctx.now(),
    buildStartedAt: null,
    buildFinishedAt: null,
    startedAt: null,
    readyAt: null,
    finishedAt: null,
    actor: start.actor,
    origin: originOf(ctx),
    error: null,
    worker: { machine: machineId(), pid: process.pid },
    overrides: start.overrides ?? null,
  });
  return new Tracker(store, ctx.now, d);
}

/** Where a command runs from: CI, a person at a terminal, or a script. */
function originOf(ctx: Context): Deployment['origin'] {
  if (ctx.isCI) return 'ci';
  return ctx.stdin.isTTY || ctx.stderr.isTTY ? 'terminal' : 'script';
}
