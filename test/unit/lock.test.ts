import { describe, expect, it } from 'vitest';
import { LEASE_MS, staleness, type HeldLock } from '../../src/services/lock.js';

const held = (over: Partial<HeldLock['holder']> = {}, heartbeat = 1_000_000): HeldLock => ({
  containerId: 'c',
  heartbeat,
  holder: {
    who: 'ci@runner',
    host: 'runner',
    machine: 'm-1',
    pid: 4242,
    since: 900_000,
    purpose: 'deploy of main@abc1234',
    ...over,
  },
});

describe('staleness of a held lock', () => {
  const now = 1_000_000 + 5_000;
  it('is live while its holder on this machine runs and its heartbeat is fresh', () => {
    expect(staleness(held(), now, { machine: 'm-1', alive: () => true })).toBeNull();
  });

  it('is stale when its process on this machine is gone', () => {
    expect(staleness(held(), now, { machine: 'm-1', alive: () => false })).toBe(
      'its process 4242 on this machine is gone',
    );
  });

  it('does not judge the process of another machine, only its heartbeat', () => {
    expect(staleness(held({ machine: 'm-2' }), now, { machine: 'm-1', alive: () => false })).toBeNull();
    expect(staleness(held({ machine: 'm-2' }), 1_000_000 + LEASE_MS + 1, { machine: 'm-1', alive: () => true })).toBe(
      'no heartbeat for 45s',
    );
  });
});

describe('staleness of a holder in another PID namespace (a deploy run in a container)', () => {
  const now = 1_000_000 + 5_000;
  const here = (namespaceAlive: boolean) => ({
    machine: 'm-1',
    alive: () => true,
    pidns: 'pid:[4026531836]',
    namespaceAlive: () => namespaceAlive,
  });
  it('is stale once that namespace has no process left, whatever pid 1 means here', () => {
    expect(staleness(held({ pid: 1, pidns: 'pid:[4026532999]' }), now, here(false))).toBe(
      'its PID namespace on this machine (a container, pid 1 there) is gone',
    );
  });
  it('is live while the namespace runs, even when its pid is not a process here', () => {
    expect(
      staleness(held({ pid: 1, pidns: 'pid:[4026532999]' }), now, { ...here(true), alive: () => false }),
    ).toBeNull();
  });
});
