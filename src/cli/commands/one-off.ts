import type { OneOffOptions } from '../../services/deploy.js';
import type { OneOffFlags } from '../option-groups.js';

/** The one-off settings of deploy's and redeploy's command line (`oneOff` in option-groups.ts), as the services take them. */
export function oneOffOptions(o: OneOffFlags): OneOffOptions {
  return {
    port: o.port,
    volume: o.volume,
    env: o.env,
    secret: o.secret,
    envFile: o.envFile,
    healthPath: o.healthPath,
    healthTimeout: o.healthTimeout,
    buildArg: o.buildArg,
    target: o.target,
    buildSecret: o.buildSecret,
    proxy: o.proxy,
    domain: o.domain,
    runtime: o.runtime,
    replicas: o.replicas,
    memory: o.memory,
    cpus: o.cpus,
    set: o.set,
  };
}
