import type { DeploymentPatch, Store } from '../adapters/store/store.js';
import { IN_PROGRESS, type Deployment } from '../core/types.js';

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
    // Once it is no longer in progress, no process answers for it.
    if (patch.status !== undefined && !IN_PROGRESS.includes(patch.status)) patch = { ...patch, worker: null };
    this.store.updateDeployment(this.deployment.id, patch);
    Object.assign(this.deployment, patch);
    if (event) this.store.addEvent(this.deployment.id, this.now(), event.type, event.message);
  }

  event(type: string, message: string): void {
    this.store.addEvent(this.deployment.id, this.now(), type, message);
  }
}
