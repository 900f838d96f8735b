import { durationInProse } from '../core/duration.js';
import { formatPort } from '../core/ports.js';
import type { Deployment } from '../core/types.js';
import { urlsOf } from '../core/urls.js';
import type { Context } from '../context.js';
import { paintStatus } from './colors.js';
import { quotedSubject, refAndCommit } from './text.js';

/** The few lines a person reads after a deploy, redeploy or rollback (`tookMs`: how long, when not the record's own). */
export function renderOutcome(ctx: Context, d: Deployment, tookMs?: number): string {
  const c = ctx.reporter.colors;
  // A release that was already running (a swap back) took what the command took, not its own first deploy.
  const ms = tookMs ?? (d.finishedAt !== null ? d.finishedAt - d.createdAt : null);
  const took = ms !== null ? durationInProse(ms) : '-';
  const lines = [
    `${c.bold(`${d.app} v${d.version}`)} is ${paintStatus(c, d.status)} ${c.dim(`(${d.id})`)}`,
    `  commit  ${refAndCommit(d.ref, d.commit)} ${quotedSubject(d.commitSubject)}${d.dirty ? ' (dirty)' : ''}`,
    `  image   ${d.image ?? '-'}`,
  ];
  if (d.config.ports.length > 0) lines.push(`  ports   ${d.config.ports.map(formatPort).join(', ')}`);
  for (const url of urlsOf(d)) lines.push(`  url     ${url}`);
  lines.push(`  took    ${took}`);
  return lines.join('\n');
}
