import { DeployError } from '../../core/errors.js';
import type { Handler } from '../handler.js';
import type { LockReleaseOptions } from './lock.command.js';
import { endpointOfApp } from '../../services/app-endpoint.js';
import { machineId } from '../../adapters/machine.js';
import { describeHolder, forceRelease, readLock, stalenessHere } from '../../services/lock.js';
import { askYes } from '../../ui/confirm.js';

export const status: Handler<object> = async (ctx, [app], _o) => {
  const r = ctx.reporter;
  if (!app) throw new DeployError('usage', 'Which app? deploy lock status APP');
  const engine = await ctx.engine(endpointOfApp(ctx, app));
  const held = await readLock(engine, app);
  if (r.json) {
    r.result({
      app,
      endpoint: engine.endpoint.url,
      held: held !== null,
      ...(held ? { holder: held.holder, heartbeat: new Date(held.heartbeat).toISOString() } : {}),
    });
    return;
  }
  if (!held) {
    r.print(`${app} is not locked on ${engine.endpoint.url}.`);
    return;
  }
  const stale = stalenessHere(held, ctx.now());
  r.print(
    `${app} is locked on ${engine.endpoint.url} by ${describeHolder(held.holder, ctx.now())}; last heartbeat ${Math.round((ctx.now() - held.heartbeat) / 1000)}s ago${stale ? ` (stale: ${stale}; the next deploy takes it over)` : ''}.`,
  );
};

export const release: Handler<LockReleaseOptions> = async (ctx, [app], o) => {
  const r = ctx.reporter;
  if (!app) throw new DeployError('usage', 'Which app? deploy lock release APP');
  const engine = await ctx.engine(endpointOfApp(ctx, app));
  const held = await readLock(engine, app);
  if (!held) {
    r.info(`${app} is not locked on ${engine.endpoint.url}; nothing to release.`);
    if (r.json) r.result({ app, released: false });
    return;
  }
  // A holder whose process runs on this machine and still beats is provably at work: removing its lock would let
  // a second deploy run beside it. Only --force does that.
  const alive = held.holder.machine === machineId() && stalenessHere(held, ctx.now()) === null;
  if (alive && !o.force) {
    throw new DeployError(
      'lock_held',
      `${app} is locked by ${describeHolder(held.holder, ctx.now())}, and that process is alive on this machine.`,
      {
        hint: `Wait for it to finish (or stop it). To remove its lock anyway: deploy lock release ${app} --force`,
        details: { holder: held.holder, heartbeat: new Date(held.heartbeat).toISOString() },
      },
    );
  }
  if (o.dryRun) {
    if (r.json) r.result({ app, released: false, dryRun: true, holder: held.holder });
    else
      r.print(
        `Would release the lock of ${app} held by ${describeHolder(held.holder, ctx.now())}. Dry run: nothing was changed.`,
      );
    return;
  }
  await askYes(
    ctx,
    `Release the lock of ${app} held by ${describeHolder(held.holder, ctx.now())}?`,
    `Releasing the lock of ${app} (held by ${describeHolder(held.holder, ctx.now())})`,
    {
      yes: Boolean(o.yes),
      hint: 'Pass --yes if you are sure its holder is stuck.',
      cancelled: 'Cancelled; the lock is still held.',
    },
  );
  await forceRelease(engine, app);
  if (r.json) r.result({ app, released: true, holder: held.holder });
  else r.print(`Released the lock of ${app} (it was held by ${describeHolder(held.holder, ctx.now())}).`);
};
