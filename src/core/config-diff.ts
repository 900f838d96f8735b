import { SECRET_MASK } from './record-view.js';
import { completeConfig, keyOf, readSetting, SETTINGS } from './setting-table.js';
import type { DeployConfig } from './types.js';

export interface ConfigChange {
  key: string;
  from: string | null;
  to: string | null;
}

function flat(config: DeployConfig): Map<string, string> {
  const c = completeConfig(config);
  const m = new Map<string, string>();
  for (const d of SETTINGS) {
    if (d.notInSnapshot) continue;
    const v = readSetting(c, d);
    if (d.map) for (const [k, text] of Object.entries(v as Record<string, string>)) m.set(`${d.name}.${k}`, text);
    else m.set(keyOf(d), d.show(v));
  }
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
