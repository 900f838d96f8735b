import { runtimeFor } from '../adapters/runtime/runtime-for.js';
import { DeployError } from '../core/errors.js';
import { decodeKeptLines, type LogLine } from '../core/logs.js';
import { redactValues } from '../core/redact.js';
import type { Deployment } from '../core/types.js';
import type { Context } from '../context.js';
import { engineFor } from './engines.js';
import { secretValues } from './keep-logs.js';

export interface LogsOptions {
  tail: number | 'all';
  since: number | undefined;
  follow: boolean;
}

export type LogSource = 'container' | 'kept' | 'build';

/**
 * A deployment's logs: the live container's when it still exists, else the copy kept in the store when
 * its container went away (superseded, failed). Lines go to onLine; returns where they came from.
 */
export async function readLogs(
  ctx: Context,
  d: Deployment,
  o: LogsOptions,
  print: (line: LogLine) => void,
): Promise<{ source: LogSource; truncated: boolean; savedAt: number | null }> {
  // An app that prints its own secrets does not get them shown: every line, live or kept, is masked.
  const secrets = secretValues(ctx.store(), d);
  const onLine = (l: LogLine) => print(secrets.length > 0 ? { ...l, message: redactValues(l.message, secrets) } : l);
  if (d.containerId) {
    const engine = await engineFor(ctx, d.endpoint);
    const state = await runtimeFor(engine, d).inspect(d.containerId);
    if (state) {
      if (o.follow) {
        await runtimeFor(engine, d).followLogs(d.containerId, { tail: o.tail, since: o.since }, onLine, ctx.signal);
      } else {
        for (const line of await runtimeFor(engine, d).logs(d.containerId, { tail: o.tail, since: o.since }))
          onLine(line);
      }
      return { source: 'container', truncated: false, savedAt: null };
    }
  }
  const kept = ctx.store().getLog(d.id, 'runtime');
  if (!kept) {
    throw new DeployError(
      'not_found',
      `No logs of ${d.app} v${d.version} (${d.id}): ${d.containerId ? 'its container is gone and' : 'it never ran a container, and'} no copy was kept.`,
      {
        hint: d.buildStartedAt ? `Its build output: deploy logs ${d.id} --build` : undefined,
      },
    );
  }
  let lines = decodeKeptLines(kept.content);
  if (o.since !== undefined) lines = lines.filter((l) => l.time === null || l.time >= (o.since as number));
  if (o.tail !== 'all') lines = lines.slice(-o.tail);
  lines.forEach(onLine);
  return { source: 'kept', truncated: kept.truncated, savedAt: kept.savedAt };
}

/** The build output kept with the record, for any deployment that built, successful or failed. */
export function buildLog(ctx: Context, d: Deployment): { text: string; truncated: boolean } {
  const kept = ctx.store().getLog(d.id, 'build');
  if (!kept) {
    const why =
      d.buildStartedAt === null
        ? d.kind === 'deploy'
          ? 'it did not get as far as a build'
          : `it reused an earlier image (${d.image ?? '-'}), with no build`
        : 'none was kept';
    throw new DeployError('not_found', `No build output for ${d.app} v${d.version} (${d.id}): ${why}.`, {
      hint: d.parentId ? `The image's own build: deploy logs ${d.parentId} --build` : undefined,
    });
  }
  return { text: redactValues(kept.content.toString('utf8'), secretValues(ctx.store(), d)), truncated: kept.truncated };
}
