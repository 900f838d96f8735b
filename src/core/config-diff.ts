import { formatPort } from './ports.js';
import { SECRET_MASK } from './record-view.js';
import type { DeployConfig } from './types.js';
import { formatVolume } from './volumes.js';

export interface ConfigChange {
  key: string;
  from: string | null;
  to: string | null;
}

function flat(c: DeployConfig): Map<string, string> {
  const m = new Map<string, string>();
  m.set('dockerfile', c.dockerfile);
  m.set('context', c.context);
  m.set('ports', c.ports.map(formatPort).join(', ') || 'none');
  m.set('volumes', (c.volumes ?? []).map(formatVolume).join(', ') || 'none');
  m.set('restart', c.restart);
  m.set('retention', String(c.retention));
  m.set('healthCheck.path', c.healthCheck.path ?? 'none');
  m.set('healthCheck.port', c.healthCheck.port === null ? 'first published' : String(c.healthCheck.port));
  m.set('healthCheck.timeout', `${c.healthCheck.timeoutMs}ms`);
  m.set('healthCheck.interval', `${c.healthCheck.intervalMs}ms`);
  m.set('healthCheck.settle', `${c.healthCheck.settleMs}ms`);
  for (const [k, v] of Object.entries(c.buildArgs)) m.set(`buildArgs.${k}`, v);
  for (const [k, v] of Object.entries(c.env)) m.set(`env.${k}`, v.secret ? `\u0000secret:${v.value}` : v.value);
  return m;
}

/**
 * What differs between two configuration snapshots, key by key, secret values masked. A secret whose value
 * changed shows as changed without showing either value.
 */
export function diffConfig(before: DeployConfig, after: DeployConfig): ConfigChange[] {
  const a = flat(before);
  const b = flat(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const show = (v: string | undefined) => (v === undefined ? null : v.startsWith('\u0000secret:') ? SECRET_MASK : v);
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    if (a.get(key) !== b.get(key)) changes.push({ key, from: show(a.get(key)), to: show(b.get(key)) });
  }
  return changes;
}
