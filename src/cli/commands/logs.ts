import { DeployError } from '../../core/errors.js';
import type { LogLine } from '../../core/logs.js';
import type { Handler } from '../handler.js';
import type { LogsOptions } from './logs.command.js';
import { lineCount, since as sinceTime } from '../parse.js';
import { buildLog, readLogs } from '../../services/logs.js';
import { chosenRef } from '../../services/chosen-ref.js';
import { deploymentByRef } from '../../services/deployment-ref.js';
import { sanitize } from '../../ui/sanitize.js';
import { taskPrefix } from '../../core/tasks.js';

export const handler: Handler<LogsOptions> = async (ctx, [positional], o) => {
  const ref = await chosenRef(ctx, positional, o.app, 'logs');
  if (!o.build) await (await import('../../services/reconcile.js')).reconcile(ctx, { ref });
  const r = ctx.reporter;
  const d = deploymentByRef(ctx, ref, { allowApp: true });
  const tail = lineCount(o.tail, '--tail');
  const since = sinceTime(o.since, ctx.now());
  if (o.build) {
    if (o.follow) throw new DeployError('usage', '--build shows the kept build output; it cannot be followed.');
    const { text, truncated } = buildLog(ctx, d);
    let lines = text.replace(/\n$/, '').split('\n');
    if (tail !== 'all') lines = lines.slice(-tail);
    if (truncated) r.info(r.colors.dim('(the start of this build output was not kept: only the last 1 MiB is)'));
    if (r.json) lines.forEach((message) => r.jsonLine({ timestamp: null, stream: 'build', message }));
    else if (lines.length > 0) ctx.stdout.write(`${lines.map(sanitize).join('\n')}\n`);
    return;
  }
  const withTime = Boolean(o.timestamps);
  // A Swarm service's lines carry their task and node: prefixed as the docker CLI does, aligned on the widest.
  let width = 0;
  const print = (l: LogLine) => {
    if (r.json) {
      r.jsonLine({
        timestamp: l.time === null ? null : new Date(l.time).toISOString(),
        stream: l.stream,
        message: l.message,
        ...(l.task !== undefined ? { task: l.task, node: l.node ?? '' } : {}),
      });
      return;
    }
    const prefix = l.task !== undefined ? taskPrefix(sanitize(l.task), sanitize(l.node ?? ''), width) : '';
    const text = `${prefix}${withTime && l.time !== null ? `${new Date(l.time).toISOString()} ` : ''}${sanitize(l.message)}\n`;
    (l.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(text);
  };
  const held: LogLine[] = [];
  const result = await readLogs(ctx, d, { tail, since, follow: Boolean(o.follow) }, (l) => {
    if (l.task !== undefined) width = Math.max(width, l.task.length + 1 + (l.node ?? '').length);
    if (o.follow) print(l);
    else held.push(l);
  });
  held.forEach(print);
  if (result.source === 'kept') {
    const when = result.savedAt ? new Date(result.savedAt).toISOString().replace('T', ' ').slice(0, 19) : '';
    r.info(
      r.colors.dim(
        `(the kept copy: ${d.containerName ?? 'the container'} was removed${when ? ` at ${when} UTC` : ''}${result.truncated ? '; only its last 1 MiB was kept' : ''}${o.follow ? '; nothing more to follow' : ''})`,
      ),
    );
  }
};
