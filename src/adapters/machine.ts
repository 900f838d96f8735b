import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

let cached: string | null = null;

/** This machine, as /etc/machine-id says (host names repeat across CI runners and containers). */
export function machineId(): string {
  if (cached === null) {
    try {
      cached = readFileSync('/etc/machine-id', 'utf8').trim() || hostname();
    } catch {
      cached = hostname();
    }
  }
  return cached;
}

/** Is a process of this machine still running? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID namespace this process runs in ("pid:[4026531836]"), or null where /proc does not say. */
export function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

/**
 * Does any process of this PID namespace still run? A deploy run in a container is PID 1 (or some small number)
 * in its own namespace, which means nothing out here; its namespace outlives it only while its container runs.
 * When /proc cannot be read it says yes: a holder is never judged gone without proof.
 */
export function pidNamespaceAlive(ns: string): boolean {
  let unreadable = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const e of entries) {
    // PID 1 here is the init of the namespace this /proc shows, never a process of a namespace inside it.
    if (!/^\d+$/.test(e) || e === '1') continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/pid`) === ns) return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unreadable = true;
    }
  }
  return unreadable;
}
