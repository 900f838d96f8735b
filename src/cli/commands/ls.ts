import { formatAge, formatDuration } from '../../core/duration.js';
import { DeployError } from '../../core/errors.js';
import { publicRecord } from '../../core/record-view.js';
import { STATUSES, type Deployment, type Status } from '../../core/types.js';
import type { Handler } from '../../main.js';
import { paintStatus, type Colors } from '../../ui/colors.js';
import { plainTable, terminalTable } from '../../ui/table.js';

const TERMINAL_LIMIT = 20;

function parseLimit(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new DeployError('usage', `--limit must be a whole number of at least 1, not ${JSON.stringify(raw)}.`);
  return n;
}

export function parseStatuses(raw: unknown): Status[] | undefined {
  if (raw === undefined) return undefined;
  const list = (raw as string[]).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase());
  for (const s of list) {
    if (!STATUSES.includes(s as Status)) {
      throw new DeployError('usage', `Unknown status ${JSON.stringify(s)}.`, { hint: `Statuses: ${STATUSES.join(', ')}.` });
    }
  }
  return list as Status[];
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function durationOf(d: Deployment): string {
  const end = d.readyAt ?? d.finishedAt;
  return end === null ? '-' : formatDuration(end - d.createdAt);
}

export function row(d: Deployment, now: number, c: Colors): string[] {
  return [
    d.id,
    `v${d.version}`,
    d.app,
    paintStatus(c, d.status),
    `${d.commit.slice(0, 7)} ${truncate(d.commitSubject, 40)}${d.dirty ? ' (dirty)' : ''}`,
    d.image ?? '-',
    formatAge(d.createdAt, now),
    durationOf(d),
    d.endpoint,
  ];
}

export const HEADERS = ['ID', 'VER', 'APP', 'STATUS', 'COMMIT', 'IMAGE', 'AGE', 'DURATION', 'ENDPOINT'];

export const handler: Handler = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const statuses = parseStatuses(o.status);
  const onTerminal = Boolean(ctx.stdout.isTTY) && !r.json;
  const limit = parseLimit(o.limit) ?? (onTerminal ? TERMINAL_LIMIT : undefined);
  const store = ctx.store();
  const filter = { app: o.app as string | undefined, statuses };
  const list = store.list({ ...filter, limit });
  if (r.json) {
    r.result(list.map(publicRecord));
    return;
  }
  if (list.length === 0) {
    r.info(filter.app || statuses ? 'No deployments match.' : 'No deployments yet. Ship one with: deploy deploy');
    return;
  }
  const now = ctx.now();
  const rows = list.map((d) => row(d, now, r.colors));
  r.print(onTerminal ? await terminalTable(HEADERS, rows, r.colors) : plainTable(HEADERS, rows));
  if (onTerminal && limit !== undefined && list.length === limit) {
    const total = store.count(filter);
    if (total > list.length) r.info(r.colors.dim(`${list.length} shown of ${total}; --limit N shows more.`));
  }
};
