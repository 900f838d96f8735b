import { engineLabel } from '../../core/endpoint-choice.js';
import { formatDuration } from '../../core/duration.js';
import { DeployError } from '../../core/errors.js';
import { assertAppName } from '../../core/ids.js';
import type { Handler } from '../handler.js';
import type { StatusOptions } from './status.command.js';
import { appStatuses, type AppStatus } from '../../services/status.js';
import type { Colors } from '../../ui/colors.js';
import { plainTable, tableWidth, terminalTable } from '../../ui/table.js';
import { renderTasks, taskSummary } from '../../ui/tasks-view.js';
import { hangingWrap } from '../../ui/text.js';

const HEADERS = ['APP', 'DEPLOYMENT', 'STATE', 'HEALTH', 'UPTIME', 'RESTARTS', 'URL', 'ENGINE'];

function paintState(c: Colors, s: AppStatus): string {
  if (!s.container) return c.dim(s.status ? `${s.status} (as recorded)` : 'no deployment');
  const state = s.container.state;
  if (state === 'running' && s.frontDoor?.routed === false) return c.red('running, not routed');
  if (state === 'running' && s.frontDoor?.state === 'paused') return c.magenta('running, paused');
  if (state === 'running') return c.green(state);
  if (state.startsWith('exited') && s.status === 'stopped') return c.magenta(`stopped, ${state}`);
  return c.red(state);
}

function paintHealth(c: Colors, health: string): string {
  if (health === 'healthy') return c.green(health);
  if (health === 'unhealthy') return c.red(health);
  if (health === 'starting') return c.yellow(health);
  return c.dim(health);
}

function row(s: AppStatus, c: Colors): string[] {
  const k = s.container;
  return [
    s.app,
    s.deployment ? `v${s.deployment.version} ${s.deployment.id}` : '-',
    paintState(c, s),
    k ? paintHealth(c, k.health) : '-',
    k?.uptimeMs != null ? formatDuration(k.uptimeMs) : '-',
    k ? String(k.restarts) : '-',
    s.url ?? (s.ports.join(', ') || '-'),
    engineLabel(s.endpoint),
  ];
}

/** Under the table, each Swarm app's tasks: desired against running (per node), and each task's node and state. */
function printTasks(ctx: Parameters<Handler<StatusOptions>>[0], list: readonly AppStatus[], columns: number): void {
  const r = ctx.reporter;
  const width = Math.min(columns, 80);
  for (const s of list) {
    if (!s.tasks || !s.replicas || !s.deployment) continue;
    const head = `${r.colors.bold(`${s.app} v${s.deployment.version}`)}: ${taskSummary(s.replicas, r.colors)}`;
    r.print(['', ...hangingWrap(head, 2, width), ...renderTasks(s.tasks, r.colors, ctx.now(), '  ', width)].join('\n'));
  }
}

/** `deploy status [APP]`: the live view (heroku ps, fly status, docker ps) of what each app runs. */
export const handler: Handler<StatusOptions> = async (ctx, [positional], o) => {
  const r = ctx.reporter;
  const flag = o.app;
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new DeployError('usage', `Two apps given: ${positional} and --app ${flag}.`, {
      hint: 'Give the app once: deploy status APP',
    });
  }
  const app = positional ?? flag;
  if (app !== undefined) assertAppName(app, positional !== undefined ? 'the APP argument' : '--app');
  const list = await appStatuses(ctx, app);
  if (r.json) {
    r.result(list);
    return;
  }
  if (list.length === 0) {
    r.info(
      "No app has a current deployment in this store. Ship one with: deploy deploy — or read the engine's with: deploy sync --all",
    );
    return;
  }
  const rows = list.map((s) => row(s, r.colors));
  // Said on stderr, beside the table: what keeps an app from being served although its container runs.
  for (const s of list) {
    if (s.frontDoor?.problem && s.deployment)
      r.warn(
        `${s.app}: v${s.deployment.version} runs, but ${s.frontDoor.problem}. Send every route again: deploy proxy upgrade`,
      );
  }
  if (!ctx.stdout.isTTY) {
    r.print(plainTable(HEADERS, rows));
    printTasks(ctx, list, 80);
    return;
  }
  // Fitted to the terminal rather than wrapped: the engine, restarts, health and uptime give way, in that order.
  const columns = (ctx.stdout as { columns?: number }).columns ?? 80;
  const drops = [
    [],
    ['ENGINE'],
    ['ENGINE', 'RESTARTS'],
    ['ENGINE', 'RESTARTS', 'HEALTH'],
    ['ENGINE', 'RESTARTS', 'HEALTH', 'UPTIME'],
  ];
  for (const [n, drop] of drops.entries()) {
    const keep = HEADERS.map((h, i) => [h, i] as const).filter(([h]) => !drop.includes(h));
    const cells = rows.map((cols) => keep.map(([, i]) => cols[i] ?? ''));
    if (
      tableWidth(
        keep.map(([h]) => h),
        cells,
      ) <= columns ||
      n === drops.length - 1
    ) {
      const right = keep.findIndex(([h]) => h === 'RESTARTS');
      r.print(
        await terminalTable(
          keep.map(([h]) => h),
          cells,
          r.colors,
          right >= 0 ? [right] : [],
        ),
      );
      printTasks(ctx, list, columns);
      return;
    }
  }
};
