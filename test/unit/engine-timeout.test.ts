import { describe, expect, it } from 'vitest';
import { DEFAULT_IDLE_MS, EngineTimeout, idleFromEnv } from '../../src/adapters/docker/api.js';

describe('DEPLOY_ENGINE_TIMEOUT', () => {
  it('reads seconds, milliseconds and minutes, and falls back to the default', () => {
    expect(idleFromEnv({})).toBe(DEFAULT_IDLE_MS);
    expect(idleFromEnv({ DEPLOY_ENGINE_TIMEOUT: '45s' })).toBe(45_000);
    expect(idleFromEnv({ DEPLOY_ENGINE_TIMEOUT: '1500ms' })).toBe(1_500);
    expect(idleFromEnv({ DEPLOY_ENGINE_TIMEOUT: '2m' })).toBe(120_000);
    expect(idleFromEnv({ DEPLOY_ENGINE_TIMEOUT: '12' })).toBe(12_000);
    expect(idleFromEnv({ DEPLOY_ENGINE_TIMEOUT: 'soon' })).toBe(DEFAULT_IDLE_MS);
  });

  it('times out with a code that reads as an unreachable engine, and says how to wait longer', () => {
    const e = new EngineTimeout('GET /_ping', 10_000);
    expect(e.code).toBe('ETIMEDOUT');
    expect(e.message).toBe('no answer to GET /_ping within 10s; set DEPLOY_ENGINE_TIMEOUT (e.g. 60s) to wait longer');
  });
});
