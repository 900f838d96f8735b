/**
 * A record as a test hands it to Store.createDeployment: makeDeployment's complete record without the fields the
 * store fills itself (its version, its later marks, the histories it reads from the app's other records).
 */
import type { NewDeployment } from '../../src/adapters/store/deployments.js';
import type { Deployment } from '../../src/core/types.js';
import { makeDeployment } from './unit.js';

export function newDeployment(overrides: Partial<Deployment> = {}): NewDeployment {
  const {
    version: _v,
    supersededBy: _s,
    rolledBack: _r,
    exitCode: _e,
    exitedAt: _x,
    checkedAt: _c,
    rolledBackFrom: _f,
    servedBefore: _b,
    ...fresh
  } = makeDeployment(overrides);
  return fresh;
}
