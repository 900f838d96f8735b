import { readFileSync } from 'node:fs';
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
