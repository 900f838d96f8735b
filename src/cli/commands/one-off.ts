import type { OneOffOptions } from '../../services/deploy.js';

/** The one-off settings of deploy's and redeploy's command line (see `oneOff` in program.ts), as the services take them. */
export function oneOffOptions(o: Record<string, unknown>): OneOffOptions {
  return {
    port: o.port as string[] | undefined,
    volume: o.volume as string[] | undefined,
    env: o.env as string[] | undefined,
    secret: o.secret as string[] | undefined,
    envFile: o.envFile as string[] | undefined,
    healthPath: o.healthPath as string | undefined,
    healthTimeout: o.healthTimeout as string | undefined,
    buildArg: o.buildArg as string[] | undefined,
    target: o.target as string | undefined,
    buildSecret: o.buildSecret as string[] | undefined,
    memory: o.memory as string | undefined,
    cpus: o.cpus as string | undefined,
    set: o.set as string[] | undefined,
  };
}
