import { formatAge, formatDuration } from '../../core/duration.js';
import { DeployError } from '../../core/errors.js';
import { publicRecord, type PublicRecord } from '../../core/record-view.js';
import type { DeploymentRow } from '../../adapters/store/store.js';
import { STATUSES, type Deployment, type Status } from '../../core/types.js';
import type { Handler } from '../handler.js';
import type { LsOptions } from './ls.command.js';
import { since as sinceTime, wholeNumber } from '../parse.js';
import { paintStatus, type Colors } from '../../ui/colors.js';
import { plainTable, tableWidth, terminalTable } from '../../ui/table.js';
import { truncate, wrapText, oneLine } from '../../ui/text.js';
import { engineLabel } from '../../core/endpoint-choice.js';

/** Like heroku releases and vercel ls: the newest few, whatever the history holds; --all for everything. */
const DEFAULT_LIMIT = 20;
/** What a terminal that does not say its width is taken to have. */
const DEFAULT_COLUMNS = 80;

function parseStatuses(raw: string[] | undefined): Status[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase());
  return list.map((s) => {
    const known = STATUSES.find((status) => status === s);
    if (known === undefined)
      throw new DeployError('usage', `Unknown status ${JSON.stringify(s)}.`, {
        hint: `Statuses: ${STATUSES.join(', ')}.`,
      });
    return known;
  });
}

function durationOf(d: DeploymentRow): string {
  // Served, but never started here: a record `deploy sync` rebuilt from an image; how long it took is not known.
  if (d.readyAt !== null && d.startedAt === null) return '-';
  const end = d.readyAt ?? d.finishedAt;
  return end === null ? '-' : formatDuration(end - d.createdAt);
}

/** What made the deployment: "deploy", "redeploy of v7", "rollback to v3" (the parent's version, when this store has it). */
export function kindLabel(d: Pick<DeploymentRow, 'kind' | 'parentVersion'>): string {
  if (d.kind === 'deploy' || d.parentVersion === null) return d.kind;
  return d.kind === 'rollback' ? `rollback to v${d.parentVersion}` : `redeploy of v${d.parentVersion}`;
}

/** The status, and whether a rollback replaced it: a release that was rolled back away from. */
function statusLabel(d: DeploymentRow, c: Colors, compact: boolean): string {
  if (!d.rolledBack) return paintStatus(c, d.status);
  return compact ? c.yellow('rolled back') : `${paintStatus(c, d.status)} ${c.yellow('(rolled back)')}`;
}

/** Every column ls can show, in order; a layout picks some of them. */
export const HEADERS = [
  'ID',
  'VER',
  'APP',
  'STATUS',
  'KIND',
  'COMMIT',
  'IMAGE',
  'AGE',
  'DURATION',
  'ENDPOINT',
] as const;
type Header = (typeof HEADERS)[number];

interface Layout {
  drop: readonly Header[];
  /** Characters of the commit subject after the short SHA (0: the SHA alone). */
  subject: number;
  /** The status in one word ("rolled back" for a superseded release that was rolled back). */
  compact?: boolean;
}

export function row(
  d: DeploymentRow,
  now: number,
  c: Colors,
  layout: Pick<Layout, 'subject' | 'compact'> = { subject: 40 },
): string[] {
  const subject = layout.subject > 0 ? ` ${truncate(oneLine(d.commitSubject), layout.subject)}` : '';
  return [
    d.id,
    `v${d.version}`,
    d.app,
    statusLabel(d, c, layout.compact ?? false),
    kindLabel(d),
    `${d.commit.slice(0, 7)}${subject}${d.dirty ? ' (dirty)' : ''}`,
    d.image?.replace(/^deploy\//, '') ?? '-',
    formatAge(d.createdAt, now),
    durationOf(d),
    engineLabel(d.endpoint),
  ];
}

/**
 * Layouts from the widest to the narrowest: shorter commit subjects first, then without the endpoint and
 * image (inspect shows them) and with "rolled back" for the status of a release rolled back from, then
 * without the duration, the SHA without a subject, and at last one short line per deployment (id, version,
 * status, age) rather than lines that wrap.
 */
const LAYOUTS: Layout[] = [
  ...[40, 24, 12].map((subject) => ({ drop: [], subject })),
  ...[40, 24, 12].map((subject) => ({ drop: ['ENDPOINT'] as Header[], subject })),
  ...[40, 24, 12].map((subject) => ({ drop: ['ENDPOINT', 'IMAGE'] as Header[], subject, compact: true })),
  ...[24, 12, 0].map((subject) => ({ drop: ['ENDPOINT', 'IMAGE', 'DURATION'] as Header[], subject, compact: true })),
  { drop: ['ENDPOINT', 'IMAGE', 'DURATION', 'COMMIT'], subject: 0, compact: true },
  { drop: ['ENDPOINT', 'IMAGE', 'DURATION', 'COMMIT', 'KIND'], subject: 0, compact: true },
  { drop: ['ENDPOINT', 'IMAGE', 'DURATION', 'COMMIT', 'KIND', 'APP'], subject: 0, compact: true },
];

/** Fits the table to the terminal: the first layout whose widest line fits, else the narrowest one. */
export async function fittedTable(list: DeploymentRow[], now: number, c: Colors, columns: number): Promise<string> {
  let chosen: { headers: string[]; rows: string[][] } = { headers: [], rows: [] };
  for (const layout of LAYOUTS) {
    const keep = HEADERS.map((h, i) => [h, i] as const).filter(([h]) => !layout.drop.includes(h));
    const rows = list.map((d) => {
      const full = row(d, now, c, layout);
      return keep.map(([, i]) => full[i] ?? '');
    });
    chosen = { headers: keep.map(([h]) => h), rows };
    if (tableWidth(chosen.headers, rows) <= columns) break;
  }
  return terminalTable(chosen.headers, chosen.rows, c);
}

/** The statuses the summary counts (the store counts these alone). */
const SUMMARY_STATUSES: readonly Status[] = ['running', 'stopped', 'exited', 'failed', 'interrupted'];

/** "12 shown of 40 · 1 running · 0 stopped · 3 failed": the seeds' counts, under the table. */
function summary(shown: number, total: number, counts: Partial<Record<Status, number>>): string {
  const failed = (counts.failed ?? 0) + (counts.interrupted ?? 0);
  // An app whose container died unasked is said apart: it is not serving, and nobody stopped it.
  const exited = counts.exited ? ` · ${counts.exited} exited` : '';
  return `${shown} shown of ${total} · ${counts.running ?? 0} running · ${counts.stopped ?? 0} stopped${exited} · ${failed} failed`;
}

function* publicRecords(list: Iterable<Deployment>): Generator<PublicRecord> {
  for (const d of list) yield publicRecord(d);
}

export const handler: Handler<LsOptions> = async (ctx, _args, o) => {
  await (await import('../../services/reconcile.js')).reconcile(ctx, { app: o.app });
  const r = ctx.reporter;
  let statuses = parseStatuses(o.status);
  if (o.failed) statuses = [...new Set([...(statuses ?? []), 'failed' as const, 'interrupted' as const])];
  const since = sinceTime(o.since, ctx.now());
  const onTerminal = Boolean(ctx.stdout.isTTY) && !r.json;
  if (o.all && o.limit !== undefined)
    throw new DeployError('usage', '--all and --limit both say how many to show; give one of them.');
  const limit = o.all ? undefined : (wholeNumber(o.limit, '--limit', 1) ?? DEFAULT_LIMIT);
  const store = ctx.store();
  const filter = { app: o.app, statuses, since };
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
  const columns = (ctx.stdout as { columns?: number }).columns || DEFAULT_COLUMNS;
  if (onTerminal) {
    r.print(await fittedTable(list, now, r.colors, columns));
  } else {
    // Every column, in the order scripts have cut since before KIND existed: KIND comes last.
    const order = [...HEADERS.filter((h) => h !== 'KIND'), 'KIND' as const].map((h) => HEADERS.indexOf(h));
    r.print(
      plainTable(
        order.map((i) => HEADERS[i] as string),
        list.map((d) => {
          const cells = row(d, now, r.colors);
          return order.map((i) => cells[i] ?? '');
        }),
      ),
    );
  }
  const total = list.length < (limit ?? Infinity) ? list.length : store.count(filter);
  const line = summary(list.length, total, store.statusCounts({ app: filter.app, since, statuses: SUMMARY_STATUSES }));
  // Under the table for a person; on stderr otherwise, so scripts that cut columns see rows only.
  if (onTerminal)
    r.print(
      wrapText(`${line}${total > list.length ? ' · --limit N or --all shows more' : ''}`, columns)
        .map(r.colors.dim)
        .join('\n'),
    );
  else r.info(line);
};
