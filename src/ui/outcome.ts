import { durationInProse } from '../core/duration.js';
import { formatPort } from '../core/ports.js';
import type { Deployment } from '../core/types.js';
import { urlsOf } from '../core/urls.js';
import type { Context } from '../context.js';
import { paintStatus } from './colors.js';
import { quotedSubject, refAndCommit } from './text.js';

/** The few lines a person reads after a deploy, redeploy or rollback. */
export function renderOutcome(ctx: Context, d: Deployment): string {
  const c = ctx.reporter.colors;
  const took = d.finishedAt !== null ? durationInProse(d.finishedAt - d.createdAt) : '-';
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
