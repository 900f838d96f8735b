import type { Deployment, Status } from './types.js';

/** What the engine shows of a deployment's container: its state word and, once it has ended, how. */
export interface SeenContainer {
  /** created, running, paused, restarting, removing, exited or dead. */
  state: string;
  exitCode: number | null;
  /** When it last ended, if the engine said (an inspection does; a listing does not). */
  finishedAt?: number | null;
}

export interface Observation {
  status: Status;
  exitCode: number | null;
  exitedAt: number | null;
  /** In words, for the record's timeline. */
  why: string;
}

/** Is the container up (a paused one still holds its ports and its process)? */
export function containerUp(c: SeenContainer): boolean {
  return c.state === 'running' || c.state === 'paused';
}

/**
 * What a served deployment's record must say, given what its engine shows of its container (null: the engine
 * has no container of it). Null when the record is right as it is.
 *
 * - A container that runs is `running`, whatever the record said (a restart policy or `docker start` brought it
 *   back).
 * - One that is not running — exited, dead, restarting (between the crashes of a crash loop), never started,
 *   or gone — is `exited` with its exit code and time, unless the record says `stopped`: that was on purpose
 *   (`deploy stop`), and the container being down is what was asked for.
 */
export function observe(
  recorded: Pick<Deployment, 'status' | 'exitCode' | 'exitedAt'>,
  container: SeenContainer | null,
  now: number,
): Observation | null {
  if (recorded.status !== 'running' && recorded.status !== 'stopped' && recorded.status !== 'exited') return null;
  if (container && containerUp(container)) {
    if (recorded.status === 'running') return null;
    return {
      status: 'running',
      exitCode: null,
      exitedAt: null,
      why: `its container runs again (${recorded.status === 'stopped' ? 'started outside deploy' : 'a restart policy or docker start'})`,
    };
  }
  if (recorded.status === 'stopped') return null;
  const code = container ? container.exitCode : null;
  if (recorded.status === 'exited' && (code === null || code === recorded.exitCode)) return null;
  const how = !container
    ? 'its container is gone from the engine (removed outside deploy)'
    : container.state === 'restarting'
      ? `its container keeps exiting${code === null ? '' : ` (code ${code})`}; the engine is restarting it`
      : `its container ${container.state === 'created' ? 'is not started' : 'exited'}${code === null ? '' : ` with code ${code}`}${code === 137 ? ' (killed)' : code === 143 ? ' (terminated)' : ''}, not stopped by deploy`;
  return { status: 'exited', exitCode: code, exitedAt: container?.finishedAt ?? recorded.exitedAt ?? now, why: how };
}

/** What a read-only command does about an app's current deployment, given what its engine shows. */
export type CurrentCheck =
  /** The listing says it is down: the time it exited takes an inspection (asked only when the state changed). */
  | { kind: 'inspect' }
  /** The record changes (written unless a deployment of the app moved in the meantime). */
  | { kind: 'record'; observation: Observation }
  /** The record is right, and was last checked long enough ago that the check is written. */
  | { kind: 'mark-checked' }
  | { kind: 'nothing' };

/**
 * Compares an app's current deployment with its container as the engine's listing shows it (null: none), and, once
 * asked for, as an inspection shows it (undefined: not asked; null: it could not say). The record's "checked at" is
 * written only every `checkedEveryMs` when nothing changed.
 */
export function checkCurrent(
  recorded: Pick<Deployment, 'status' | 'exitCode' | 'exitedAt' | 'checkedAt'>,
  listed: SeenContainer | null,
  inspected: SeenContainer | null | undefined,
  now: number,
  checkedEveryMs: number,
): CurrentCheck {
  let observation = observe(recorded, listed, now);
  if (observation?.status === 'exited' && listed) {
    if (inspected === undefined) return { kind: 'inspect' };
    if (inspected) observation = observe(recorded, inspected, now);
  }
  if (observation) return { kind: 'record', observation };
  return recorded.checkedAt === null || now - recorded.checkedAt > checkedEveryMs
    ? { kind: 'mark-checked' }
    : { kind: 'nothing' };
}

/** The container's state as `deploy status` shows it: "running", "exited (137)", "restarting (1)", "gone". */
export function describeContainer(c: SeenContainer | null): string {
  if (!c) return 'gone';
  if (c.state === 'exited' || c.state === 'restarting' || c.state === 'dead')
    return c.exitCode === null ? c.state : `${c.state} (${c.exitCode})`;
  return c.state;
}
