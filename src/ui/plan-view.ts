import type { ActionPlan } from '../core/action-plan.js';
import { formatDuration } from '../core/duration.js';
import { formatPort } from '../core/ports.js';
import { SECRET_MASK } from '../core/record-view.js';
import type { Colors } from './colors.js';
import { DEFAULT_SOCKET } from '../core/endpoint-choice.js';

function imageLine(p: ActionPlan): string {
  const img = p.image;
  if (img.how === 'reuse') return `${img.ref} — reused from ${img.from}, no build`;
  if (img.how === 'build') return `built from the commit ${img.noCache ? 'without the layer cache' : 'with the layer cache'} (${img.reason})`;
  return `${img.ref ?? img.imageId ?? '-'}`;
}

function healthLine(p: ActionPlan): string {
  const hc = p.config.healthCheck;
  const within = `within ${formatDuration(hc.timeoutMs)}`;
  if (hc.path !== null) return `the image's HEALTHCHECK if it has one, else GET ${hc.path}${hc.port ? ` on port ${hc.port}` : ''} ${within}`;
  return `the image's HEALTHCHECK if it has one, else running for ${formatDuration(hc.settleMs)}`;
}

/** The configuration about to be shipped, as a person checks it before saying yes. */
export function renderPlan(p: ActionPlan, c: Colors): string {
  const t = p.target;
  const label = (s: string) => c.dim(s.padEnd(10));
  const lines: string[] = [c.bold(p.title)];
  lines.push(`  ${label('endpoint')}${p.endpoint === DEFAULT_SOCKET ? `local (${p.endpoint})` : p.endpoint}`);
  const when = t.commitTime ? new Date(t.commitTime).toISOString().slice(0, 16).replace('T', ' ') : '';
  lines.push(`  ${label('commit')}${t.commit.slice(0, 12)} ${JSON.stringify(t.commitSubject)}${t.dirty ? c.yellow(' (dirty)') : ''}`);
  lines.push(`  ${label('')}${t.commitAuthor}${when ? ` · ${when} UTC` : ''} · ${t.ref}`);
  if (p.action === 'redeploy' || p.action === 'rollback') lines.push(`  ${label('image')}${imageLine(p)}`);
  else if (t.image) lines.push(`  ${label('image')}${t.image}`);
  const env = Object.entries(p.config.env).sort(([a], [b]) => (a < b ? -1 : 1));
  if (env.length === 0) lines.push(`  ${label('env')}${c.dim('none')}`);
  env.forEach(([k, v], i) => lines.push(`  ${label(i === 0 ? 'env' : '')}${k}=${v.secret ? `${SECRET_MASK} ${c.dim('(secret)')}` : v.value}`));
  lines.push(`  ${label('ports')}${p.config.ports.map(formatPort).join(', ') || c.dim('none')}`);
  lines.push(`  ${label('health')}${healthLine(p)}`);
  lines.push(`  ${label('now')}${p.serving}`);
  if (p.changes.length > 0) {
    lines.push(`  ${label('changes')}${c.dim(p.changesAgainst ?? '')}`);
    for (const ch of p.changes) {
      lines.push(`  ${label('')}${ch.key}: ${ch.from === null ? c.dim('(unset)') : ch.from} → ${ch.to === null ? c.dim('(unset)') : c.bold(ch.to)}`);
    }
  }
  return lines.join('\n');
}
