import type { Engine } from '../../adapters/docker/engine/engine.js';
import type { Context } from '../../context.js';
import type { Handler } from '../handler.js';
import type { ProxyChangeOptions, ProxyLogsOptions } from './proxy.command.js';
import { lineCount } from '../parse.js';
import { endpointOfApp } from '../../services/app-endpoint.js';
import {
  doorContainer,
  doorStatus,
  findStaleRoutes,
  pruneRoutes,
  restartDoor,
  upgradeDoor,
} from '../../services/front-door-admin.js';
import { askYes } from '../../ui/confirm.js';
import { sanitize } from '../../ui/sanitize.js';
import { terminalTable } from '../../ui/table.js';
import { durationInProse } from '../../core/duration.js';

function bindingText(b: { hostIp: string; hostPort: number }): string {
  return `${b.hostIp === '' ? '*' : b.hostIp}:${b.hostPort}`;
}

export const status: Handler<object> = async (ctx) => {
  const r = ctx.reporter;
  const engine = await ctx.engine(endpointOfApp(ctx, undefined));
  const view = await doorStatus(ctx, engine);
  if (r.json) {
    r.result(view);
    return;
  }
  if (!view.container) {
    r.print(`No front door on ${view.endpoint}: the first deploy of an app with a published port starts it.`);
    return;
  }
  if (!view.running) {
    r.print(`The front door on ${view.endpoint} is not running. Start it again with: deploy proxy restart`);
    return;
  }
  r.print(
    `Front door on ${view.endpoint} (program v${view.version ?? '?'}): up ${durationInProse(view.uptimeMs ?? 0)}, ${view.mode === 'relay' ? 'listening (relay) on' : 'publishing'} ${view.bindings.map(bindingText).join(', ') || 'nothing'}`,
  );
  if (view.apps.length === 0) {
    r.print('No app is routed through it.');
  } else {
    const rows = view.apps.map((a) => [
      a.app,
      a.state,
      // A release this store does not know: its address, without the app's name it repeats (APP-ID:PORT).
      a.routesTo
        ? `v${a.routesTo.version} ${a.routesTo.id}`
        : a.address?.startsWith(`${a.app}-`)
          ? `${a.address.slice(a.app.length + 1)} (not in this store)`
          : (a.address ?? '-'),
      a.kept ? `${a.kept.id ?? a.kept.address} until ${a.kept.until.slice(11, 19)}` : '-',
      a.current || !a.routesTo ? '' : r.colors.yellow('not the current release'),
    ]);
    r.print(await terminalTable(['APP', 'STATE', 'ROUTED TO', 'KEPT', ''], rows, r.colors));
  }
  for (const f of view.failed) r.warn(`The door could not restore ${f.app}: ${f.error}`);
};

export const logs: Handler<ProxyLogsOptions> = async (ctx, _args, o) => {
  const engine = await ctx.engine(endpointOfApp(ctx, undefined));
  const id = await doorContainer(engine);
  const tail = lineCount(o.tail, '--tail');
  const print = (l: { message: string; stream: string; time: number | null }) => {
    if (ctx.reporter.json) ctx.reporter.jsonLine({ stream: l.stream, message: l.message });
    else (l.stream === 'stderr' ? ctx.stderr : ctx.stdout).write(`${sanitize(l.message)}\n`);
  };
  if (o.follow) {
    await engine.logs.follow(id, { tail }, print, ctx.signal);
    return;
  }
  for (const line of await engine.logs.read(id, { tail })) print(line);
};

/** The engine whose door a change acts on, once the user said yes (or --yes did). */
async function confirmed(ctx: Context, o: ProxyChangeOptions, verb: string, cost: string): Promise<Engine> {
  const engine = await ctx.engine(endpointOfApp(ctx, undefined));
  await askYes(ctx, `${verb} the front door on ${engine.endpoint.url}?`, `${verb} of the front door`, {
    yes: Boolean(o.yes),
    hint: `Pass --yes to go ahead. ${cost}`,
    cancelled: 'Cancelled; nothing was changed.',
  });
  return engine;
}

export const restart: Handler<ProxyChangeOptions> = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const engine = await confirmed(
    ctx,
    o,
    'Restart',
    'A new door takes over before the old one drains (a door that publishes its own ports: a second or two without an answer).',
  );
  r.step(`Restarting the front door on ${engine.endpoint.url}`);
  const done = await restartDoor(ctx, engine);
  r.done(
    `Restarted in ${durationInProse(done.tookMs)}${done.gapless ? ' with no gap' : ''}; routes sent again: ${done.apps.join(', ') || 'none'}`,
  );
  if (r.json)
    r.result({
      endpoint: engine.endpoint.url,
      restarted: true,
      gapless: done.gapless,
      tookMs: done.tookMs,
      apps: done.apps,
    });
};

const DONE = {
  create: 'was created',
  start: 'was started',
  keep: 'was kept',
  recreate: 'was made again',
  replace: 'was replaced',
};

export const upgrade: Handler<ProxyChangeOptions> = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const engine = await confirmed(
    ctx,
    o,
    'Upgrade',
    'A new door takes over before the old one drains (a door that publishes its own ports: a few seconds without an answer).',
  );
  r.step(`Making sure the front door on ${engine.endpoint.url} runs this version`);
  const { door, apps } = await upgradeDoor(ctx, engine);
  const what =
    door.action === 'keep'
      ? 'already runs this version'
      : door.handover
        ? `replaced (${door.why ?? ''}); handover took ${durationInProse(door.handover.totalMs)}${door.handover.gapless ? ', with no gap' : ''}`
        : `${DONE[door.action]}${door.why ? ` (${door.why})` : ''}`;
  r.done(`The front door ${what}; routes sent again: ${apps.join(', ') || 'none'}`);
  if (r.json)
    r.result({
      endpoint: engine.endpoint.url,
      action: door.action,
      why: door.why,
      image: door.image.ref,
      handover: door.handover,
      apps,
    });
};

export const prune: Handler<ProxyChangeOptions> = async (ctx, _args, o) => {
  const r = ctx.reporter;
  const engine = await ctx.engine(endpointOfApp(ctx, undefined));
  const stale = await findStaleRoutes(engine);
  if (stale.length === 0) {
    if (r.json) r.result({ endpoint: engine.endpoint.url, removed: [], released: [] });
    else r.print(`Every route of the front door on ${engine.endpoint.url} has its release on the engine.`);
    return;
  }
  r.info(`Routes of the front door on ${engine.endpoint.url} whose release is gone:`);
  for (const s of stale) r.info(`  ${s.app}${s.address ? ` → ${s.address}` : ''}: ${s.why}`);
  await askYes(ctx, `Remove ${stale.length === 1 ? 'this route' : `these ${stale.length} routes`}?`, 'Pruning routes', {
    yes: Boolean(o.yes),
    hint: 'Pass --yes to remove them. An app deployed again later gets its route back.',
    cancelled: 'Cancelled; nothing was changed.',
  });
  const { removed, released } = await pruneRoutes(engine, stale);
  r.done(
    `Removed ${removed.length} route${removed.length === 1 ? '' : 's'} (${removed.map((s) => s.app).join(', ') || 'none'})${released.length > 0 ? `; ports let go of: ${released.map(bindingText).join(', ')}` : ''}`,
  );
  if (r.json) r.result({ endpoint: engine.endpoint.url, removed, released });
};
