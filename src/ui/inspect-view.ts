import { listedSettings } from '../core/setting-table.js';
import { durationInProse, formatDuration } from '../core/duration.js';
import { routedByFrontDoor } from '../core/front-door.js';
import { formatPort } from '../core/ports.js';
import { SECRET_MASK } from '../core/record-view.js';
import { urlsOf } from '../core/urls.js';
import { describeVolumes } from '../core/volumes.js';
import type { Inspection } from '../services/inspect.js';
import { paintStatus, type Colors } from './colors.js';
import { sanitize } from './sanitize.js';
import { renderTasks, taskSummary } from './tasks-view.js';
import { hangingWrap, quoted, oneLine } from './text.js';

const iso = (ms: number | null) =>
  ms === null
    ? '-'
    : new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');

/** Everything about one deployment, for a person. */
export function renderInspection(i: Inspection, c: Colors, now = Date.now()): string {
  const d = i.deployment;
  const out: string[] = [];
  const row = (label: string, value: string) => out.push(`  ${c.dim(label.padEnd(12))}${value}`);
  const head = (title: string) => out.push('', c.bold(title));

  out.push(
    `${c.bold(`${d.app} v${d.version}`)} ${c.dim(d.id)}  ${paintStatus(c, d.status)}  ${d.kind}${d.parentId ? ` of ${d.parentId}` : ''}`,
  );
  if (d.error) out.push(`  ${c.red('error')}       ${sanitize(d.error.message)} ${c.dim(`(${d.error.code})`)}`);
  if (d.status === 'exited')
    row(
      'exited',
      `${d.exitCode === null ? 'its container was removed outside deploy' : `code ${d.exitCode}`} · ${iso(d.exitedAt)} ${c.dim(`(start it again: deploy start ${d.app})`)}`,
    );
  row('by', `${d.actor} from ${d.origin}`);

  head('Source');
  row('repository', `${d.source}${d.subdir ? ` (${d.subdir}/)` : ''}`);
  row('ref', d.ref);
  row('commit', `${d.commit} ${quoted(d.commitSubject)}${d.dirty ? c.yellow(' + uncommitted changes') : ''}`);
  row('author', `${d.commitAuthor}${d.commitTime ? ` · ${iso(d.commitTime)}` : ''}`);

  head('Image and container');
  row('image', d.image ?? '-');
  row('image id', d.imageId ?? '-');
  if (i.image.registry) row('registry', i.image.registry);
  // As the records say (inspect reads only the store): the engines whose records ran this very image.
  i.image.engines.forEach((e, n) =>
    row(n === 0 ? 'image on' : '', `${e.endpoint} ${c.dim(`(v${e.versions.join(', v')})`)}`),
  );
  row(
    'container',
    d.containerName ? `${d.containerName}${d.containerId ? ` (${d.containerId.slice(0, 12)})` : ' (removed)'}` : '-',
  );
  row('endpoint', d.endpoint);
  // Where a person opens it, however its traffic comes (as the record says: deploy status asks the door now).
  row(
    'traffic',
    routedByFrontDoor(d.config)
      ? `through the front door${d.status === 'superseded' && d.containerId ? ' (kept running for a bake window)' : ''}`
      : d.config.ports.length > 0
        ? 'published by its container'
        : c.dim('none published'),
  );
  urlsOf(d).forEach((url, n) => row(n === 0 ? 'url' : '', url));

  if (i.tasks) {
    head('Tasks');
    if (i.tasks.error !== null) out.push(`  ${c.dim(`the manager did not answer: ${sanitize(i.tasks.error)}`)}`);
    else out.push(...hangingWrap(`  ${taskSummary(i.tasks.counts, c)}`, 2, 80), ...renderTasks(i.tasks.tasks, c, now));
  }

  head('Configuration');
  const env = Object.entries(d.config.env).sort(([a], [b]) => (a < b ? -1 : 1));
  if (env.length === 0) row('env', c.dim('none'));
  env.forEach(([k, v], n) =>
    row(n === 0 ? 'env' : '', `${k}=${v.secret ? `${SECRET_MASK} ${c.dim('(secret)')}` : oneLine(v.value)}`),
  );
  row('ports', d.config.ports.map(formatPort).join(', ') || c.dim('none'));
  const hc = d.config.healthCheck;
  const check =
    hc.command && hc.command !== 'none'
      ? `\`${hc.command}\``
      : hc.path
        ? `GET ${hc.path}${hc.port ? ` on ${hc.port}` : ''}`
        : `${hc.command === 'none' ? 'no HEALTHCHECK' : 'HEALTHCHECK'}, else running for ${durationInProse(hc.settleMs)}`;
  row('health', `${check}, timeout ${durationInProse(hc.timeoutMs)}`);
  const volumes = describeVolumes(d.app, d.config.volumes ?? [], null);
  if (volumes.length === 0) row('volumes', c.dim('none'));
  volumes.forEach((v, n) => row(n === 0 ? 'volumes' : '', v));
  row('', c.dim(`+ a kept volume deploy-${d.app}-PATH for each VOLUME of the image not mapped here`));
  row('restart', d.config.restart);
  listedSettings(d.config).forEach((o, n) => row(n === 0 ? 'options' : '', `${o.name} ${oneLine(o.value)}`));
  row(
    'build',
    `${d.config.dockerfile} in ${d.config.context}${d.config.noCache ? ', no cache' : ''}${d.config.pull ? ', pull' : ''}${Object.keys(d.config.buildArgs).length ? `, args ${Object.keys(d.config.buildArgs).join(' ')}` : ''}`,
  );

  head('Timeline');
  const t0 = d.createdAt;
  for (const e of i.events)
    out.push(`  ${c.dim(`+${formatDuration(e.at - t0)}`.padStart(9))}  ${e.type.padEnd(11)} ${sanitize(e.message)}`);
  row('created', iso(d.createdAt));
  if (d.buildStartedAt)
    row(
      'built',
      `${iso(d.buildFinishedAt)} (${d.buildFinishedAt ? durationInProse(d.buildFinishedAt - d.buildStartedAt) : 'unfinished'})`,
    );
  if (d.readyAt) row('ready', `${iso(d.readyAt)} (${durationInProse(d.readyAt - d.createdAt)} after created)`);

  if (i.parents.length > 0) {
    head('Parents');
    for (const p of i.parents) out.push(`  ${p.id}  v${p.version}  ${p.kind}  ${p.status}  ${p.commit.slice(0, 7)}`);
  }
  head('Logs');
  out.push(`  ${i.logs.build ? `build: deploy logs ${d.id} --build` : 'build: none kept'}`);
  out.push(`  ${i.logs.runtime ? `runtime: deploy logs ${d.id}` : 'runtime: none kept'}`);
  return out.join('\n');
}
