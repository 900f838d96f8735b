import { runtimeFor } from '../adapters/runtime/runtime-for.js';
import type { Engine } from '../adapters/docker/engine/engine.js';
import type { Store } from '../adapters/store/store.js';
import { encodeKeptLines, type LogLine } from '../core/logs.js';
import { redactValues } from '../core/redact.js';
import type { Deployment } from '../core/types.js';

/** Lines asked of the engine before the byte bound applies; bounds the transfer for chatty apps. */
const KEEP_TAIL_LINES = 20_000;

/**
 * Copies the last stretch of a container's logs into the store, so `deploy logs` still answers after the
 * container is removed; the app's secret values are masked in the copy (and in the lines returned). Never fails
 * the caller: losing a log copy must not fail a deploy.
 */
export async function keepLogs(engine: Engine, store: Store, d: Deployment, now: number): Promise<LogLine[]> {
  if (!d.containerId) return [];
  try {
    const secrets = secretValues(store, d);
    const lines = (await runtimeFor(engine, d).logs(d.containerId, { tail: KEEP_TAIL_LINES })).map((l) => ({
      ...l,
      message: redactValues(l.message, secrets),
    }));
    const { content, truncated } = encodeKeptLines(lines);
    // At the line cap, earlier lines were left on the engine: the copy is truncated either way.
    store.saveLog(d.id, 'runtime', content, truncated || lines.length >= KEEP_TAIL_LINES, now);
    return lines;
  } catch {
    return [];
  }
}

/** The secret values a deployment's output must never show: its own, and the app's stored ones. */
export function secretValues(store: Store, d: Deployment): string[] {
  const own = Object.values(d.config.env)
    .filter((v) => v.secret)
    .map((v) => v.value);
  const stored = store
    .appConfig(d.app)
    .filter((r) => r.kind === 'env' && r.secret)
    .map((r) => r.value);
  return [...new Set([...own, ...stored])].filter((v) => v.length > 0);
}
