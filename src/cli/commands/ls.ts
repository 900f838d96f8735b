import { formatAge, formatDuration, parseSince } from '../../core/duration.js';
import { DeployError } from '../../core/errors.js';
import { publicRecord, type PublicRecord } from '../../core/record-view.js';
import type { DeploymentRow } from '../../adapters/store/store.js';
import { STATUSES, type Deployment, type Status } from '../../core/types.js';
import type { Handler } from '../../main.js';
import { paintStatus, type Colors } from '../../ui/colors.js';
import { plainTable, terminalTable, visibleLength } from '../../ui/table.js';
import { truncate } from '../../ui/text.js';
import { DEFAULT_SOCKET } from '../../core/endpoint-choice.js';

/** Like heroku releases and vercel ls: the newest few, whatever the history holds; --all for everything. */
const DEFAULT_LIMIT = 20;

function parseLimit(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new DeployError('usage', `--limit must be a whole number of at least 1, not ${JSON.stringify(raw)}.`);
  return n;
}

function parseStatuses(raw: unknown): Status[] | undefined {
  if (raw === undefined) return undefined;
  const list = (raw as string[]).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase());
  for (const s of list) {
    if (!STATUSES.includes(s as Status)) {
      throw new DeployError('usage', `Unknown status ${JSON.stringify(s)}.`, { hint: `Statuses: ${STATUSES.join(', ')}.` });
    }
  }
  return list as Status[];
}

function durationOf(d: DeploymentRow): string {
  // Served, but never started here: a record `deploy sync` rebuilt from an image; how long it took is not known.
  if (d.readyAt !== null && d.startedAt === null) return '-';
  const end = d.readyAt ?? d.finishedAt;
  return end === null ? '-' : formatDuration(end - d.createdAt);
}

/** `unix:///var/run/docker.sock` reads as "local"; remote engines as their host. */
function endpointLabel(url: string): string {
  if (url === DEFAULT_SOCKET) return 'local';
  return url.replace(/^unix:\/\//, '').replace(/^tcp:\/\//, '');
}

export function row(d: DeploymentRow, now: number, c: Colors, subjectWidth = 40): string[] {
  return [
    d.id,
    `v${d.version}`,
    d.app,
    paintStatus(c, d.status),
    `${d.commit.slice(0, 7)} ${truncate(d.commitSubject, subjectWidth)}${d.dirty ? ' (dirty)' : ''}`,
    d.image?.replace(/^deploy\//, '') ?? '-',
    formatAge(d.createdAt, now),
    durationOf(d),
    endpointLabel(d.endpoint),
  ];
}

export const HEADERS = ['ID', 'VER', 'APP', 'STATUS', 'COMMIT', 'IMAGE', 'AGE', 'DURATION', 'ENDPOINT'];

/**
 * Fits the table to the terminal: shorter commit subjects first, then without the endpoint and image
 * columns (inspect shows them), rather than letting lines wrap.
 */
async function fittedTable(list: DeploymentRow[], now: number, c: Colors, columns: number): Promise<string> {
  const drops: Array<string[]> = [[], ['ENDPOINT'], ['ENDPOINT', 'IMAGE']];
  let table = '';
  for (const drop of drops) {
    for (const subject of [40, 24, 12]) {
      const keep = HEADERS.map((h, i) => [h, i] as const).filter(([h]) => !drop.includes(h));
      const rows = list.map((d) => {
        const full = row(d, now, c, subject);
        return keep.map(([, i]) => full[i] ?? '');
      });
      table = await terminalTable(keep.map(([h]) => h), rows, c);
      const widest = Math.max(...table.split('\n').map(visibleLength));
      if (widest <= columns) return table;
    }
  }
  return table;
}

/** "12 shown of 40 · 1 running · 0 stopped · 3 failed": the seeds' counts, under the table. */
function summary(shown: number, total: number, counts: Partial<Record<Status, number>>): string {
  const failed = (counts.failed ?? 0) + (counts.interrupted ?? 0);
  return `${shown} shown of ${total} · ${counts.running ?? 0} running · ${counts.stopped ?? 0} stopped · ${failed} failed`;
}

function* publicRecords(list: Iterable<Deployment>): Generator<PublicRecord> {
  for (const d of list) yield publicRecord(d);
}

export const handler: Handler = async (ctx, _args, o) => {
  await (await import('../../services/reconcile.js')).reconcile(ctx, { app: o.app as string | undefined });
  const r = ctx.reporter;
  let statuses = parseStatuses(o.status);
  if (o.failed) statuses = [...new Set([...(statuses ?? []), 'failed' as const, 'interrupted' as const])];
  const since = o.since === undefined ? undefined : parseSince(o.since as string, ctx.now());
  const onTerminal = Boolean(ctx.stdout.isTTY) && !r.json;
  if (o.all && o.limit !== undefined) throw new DeployError('usage', '--all and --limit both say how many to show; give one of them.');
  const limit = o.all ? undefined : (parseLimit(o.limit) ?? DEFAULT_LIMIT);
  const store = ctx.store();
  const filter = { app: o.app as string | undefined, statuses, since };
  if (r.json) {
    await r.resultArray(publicRecords(store.iterate({ ...filter, limit })));
    return;
  }
  const list = store.listRows({ ...filter, limit });
  if (list.length === 0) {
    // This store may be new while the engine is not (a CI runner, another laptop): say how to read its record.
    const sync = `deploy sync${filter.app ? ` --app ${filter.app}` : ''}`;
    r.info(
      filter.app || statuses || since !== undefined
        ? `No deployments match in this store. Deployments made elsewhere show after: ${sync}`
        : `No deployments in this store yet. Ship one with: deploy deploy — or read the engine's with: ${sync}`,
    );
    return;
  }
  const now = ctx.now();
  if (onTerminal) {
    r.print(await fittedTable(list, now, r.colors, (ctx.stdout as { columns?: number }).columns ?? 120));
  } else {
    r.print(plainTable(HEADERS, list.map((d) => row(d, now, r.colors))));
  }
  const total = list.length < (limit ?? Infinity) ? list.length : store.count(filter);
  const line = summary(list.length, total, store.statusCounts({ app: filter.app, since }));
  // Under the table for a person; on stderr otherwise, so scripts that cut columns see rows only.
  if (onTerminal) r.print(r.colors.dim(`${line}${total > list.length ? ' · --limit N or --all shows more' : ''}`));
  else r.info(line);
};
