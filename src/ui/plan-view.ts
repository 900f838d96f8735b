import { listedSettings } from '../core/setting-table.js';
import type { ActionPlan, PlannedGate } from '../core/action-plan.js';
import { durationInProse } from '../core/duration.js';
import { formatPort } from '../core/ports.js';
import { SECRET_MASK } from '../core/record-view.js';
import { describeVolumes } from '../core/volumes.js';
import type { Colors } from './colors.js';
import { DEFAULT_SOCKET } from '../core/endpoint-choice.js';
import { hangingWrap, quotedSubject, refAndCommit, oneLine } from './text.js';

function imageLine(p: ActionPlan): string {
  const img = p.image;
  if (img.how === 'reuse') return `${img.ref} — reused from ${img.from}, no build`;
  if (img.how === 'build')
    return `built from the commit ${img.noCache ? 'without the layer cache' : 'with the layer cache'} (${img.reason})`;
  return `${img.ref ?? img.imageId ?? '-'}`;
}

/** The one check that will decide, in words. */
export function gateLine(g: PlannedGate): string {
  const within = `within ${durationInProse(g.timeoutMs)}`;
  const check =
    g.mode === 'healthcheck'
      ? g.command
        ? `the health command \`${g.command}\` must pass ${within}`
        : `the image's HEALTHCHECK must report healthy ${within}`
      : g.mode === 'http'
        ? `GET ${g.url ?? ''} must answer 2xx/3xx ${within}`
        : g.mode === 'door'
          ? `the front door must see ${g.url ? `GET ${g.url} answer 2xx twice` : 'its port accept connections'} ${within}; only then does traffic move`
          : `the container must keep running for ${durationInProse(g.settleMs)}`;
  return g.note ? `${check} (${g.note})` : check;
}

/**
 * The configuration about to be shipped, as a person checks it before saying yes; on a terminal `width` columns
 * wide, a long value wraps under itself rather than under the labels.
 */
export function renderPlan(p: ActionPlan, c: Colors, width = Infinity): string {
  const s = p.source;
  const label = (text: string) => c.dim(text.padEnd(10));
  const lines: string[] = [c.bold(p.title)];
  lines.push(`  ${label('endpoint')}${p.endpoint === DEFAULT_SOCKET ? `local (${p.endpoint})` : p.endpoint}`);
  const when = s.commitTime ? new Date(s.commitTime).toISOString().slice(0, 16).replace('T', ' ') : '';
  lines.push(
    `  ${label('commit')}${s.commit.slice(0, 12)} ${quotedSubject(s.commitSubject, 200)}${s.dirty ? c.yellow(' (dirty)') : ''}`,
  );
  const ref = refAndCommit(s.ref, s.commit).includes('@') ? ` · ${s.ref}` : '';
  lines.push(`  ${label('')}${s.commitAuthor}${when ? ` · ${when} UTC` : ''}${ref}`);
  if (p.current) {
    const range = p.commitRange
      ? ` · goes ${p.commitRange.includes('→') ? `from ${p.commitRange}` : `on ${p.commitRange}`}`
      : '';
    lines.push(`  ${label('serving')}v${p.current.version} (${p.current.id}, ${p.current.status})${range}`);
  } else if (p.action !== 'stop') {
    lines.push(`  ${label('serving')}${c.dim('nothing yet')}`);
  }
  if (p.action === 'deploy' || p.action === 'redeploy' || p.action === 'rollback')
    lines.push(`  ${label('image')}${imageLine(p)}`);
  else if (p.target?.image) lines.push(`  ${label('image')}${p.target.image}`);
  const env = Object.entries(p.config.env).sort(([a], [b]) => (a < b ? -1 : 1));
  if (env.length === 0) lines.push(`  ${label('env')}${c.dim('none')}`);
  env.forEach(([k, v], i) =>
    lines.push(
      `  ${label(i === 0 ? 'env' : '')}${k}=${v.secret ? `${SECRET_MASK} ${c.dim('(secret)')}` : oneLine(v.value)}`,
    ),
  );
  lines.push(`  ${label('ports')}${p.config.ports.map(formatPort).join(', ') || c.dim('none')}`);
  if (p.action === 'deploy' || p.action === 'redeploy' || p.action === 'rollback') {
    // Known for an image that exists (reused); a build's VOLUMEs are known once it is built, and get a kept volume each.
    const volumes = describeVolumes(p.app, p.config.volumes ?? [], p.imageInfo?.volumes ?? null);
    if (volumes.length === 0) lines.push(`  ${label('volumes')}${c.dim('none')}`);
    volumes.forEach((v, i) => lines.push(`  ${label(i === 0 ? 'volumes' : '')}${v}`));
  }
  lines.push(`  ${label('restart')}${p.config.restart}`);
  listedSettings(p.config).forEach((o, i) =>
    lines.push(`  ${label(i === 0 ? 'options' : '')}${o.name} ${oneLine(o.value)}`),
  );
  if (p.gate) lines.push(`  ${label('health')}${gateLine(p.gate)}`);
  lines.push(`  ${label('then')}${p.serving}`);
  if (p.changesAgainst !== null) {
    if (p.changes.length === 0) {
      lines.push(`  ${label('changes')}${c.dim(`none ${p.changesAgainst.replace(/:$/, '')}`)}`);
    } else {
      lines.push(`  ${label('changes')}${c.dim(p.changesAgainst)}`);
      for (const ch of p.changes) {
        lines.push(
          `  ${label('')}${ch.key}: ${ch.from === null ? c.dim('(unset)') : ch.from} → ${ch.to === null ? c.dim('(unset)') : c.bold(ch.to)}`,
        );
      }
    }
  }
  for (const w of p.warnings) lines.push(`  ${label('note')}${c.yellow(w)}`);
  return lines.flatMap((l, i) => (i === 0 ? [l] : hangingWrap(l, 12, width))).join('\n');
}
