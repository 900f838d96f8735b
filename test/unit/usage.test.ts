import { describe, expect, it } from 'vitest';
import { formatBytes, taskRowName, unreachableNote, usageOf, type UsageRow } from '../../src/core/usage.js';
import { makeColors } from '../../src/ui/colors.js';
import { renderUsage } from '../../src/ui/usage-view.js';

describe('usageOf: one stats sample as docker stats shows it', () => {
  it('CPU over the sampled interval times the CPUs, memory less the inactive page cache, network summed', () => {
    const u = usageOf({
      cpu_stats: { cpu_usage: { total_usage: 3_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
      memory_stats: { usage: 50 * 1024 * 1024, limit: 1024 * 1024 * 1024, stats: { inactive_file: 10 * 1024 * 1024 } },
      networks: { eth0: { rx_bytes: 1000, tx_bytes: 200 }, eth1: { rx_bytes: 500, tx_bytes: 50 } },
    });
    expect(u).toEqual({
      cpuPercent: 40,
      memoryBytes: 40 * 1024 * 1024,
      memoryLimitBytes: 1024 * 1024 * 1024,
      netInBytes: 1500,
      netOutBytes: 250,
    });
  });

  it('cgroup v1 names the cache total_inactive_file; no previous reading is 0 % CPU', () => {
    const u = usageOf({
      cpu_stats: { cpu_usage: { total_usage: 5, percpu_usage: [1, 2, 2] }, system_cpu_usage: 100 },
      memory_stats: { usage: 300, stats: { total_inactive_file: 100 } },
    });
    expect(u).toMatchObject({ cpuPercent: 0, memoryBytes: 200, netInBytes: 0, netOutBytes: 0 });
  });
});

describe('the rows for a person', () => {
  const row = (name: string, over: Partial<UsageRow>): UsageRow => ({
    app: 'web',
    version: 3,
    deployment: 'k7m2x9qa',
    name,
    node: null,
    usage: null,
    note: null,
    ...over,
  });

  it('names a task SERVICE.SLOT@NODE, and says how to see a task on a node out of reach', () => {
    expect(taskRowName('web-v3-k7m2x9qa', 2, 'worker-1')).toBe('web-v3-k7m2x9qa.2@worker-1');
    expect(unreachableNote('worker-2')).toBe('on node worker-2: give its endpoint in `nodes` to see its figures');
    expect(formatBytes(1536, true)).toBe('1.50KiB');
    expect(formatBytes(12_345_678, false)).toBe('12.3MB');
  });

  it('fits 80 columns, the long names cut in their middle, the note under its row', () => {
    const usage = {
      cpuPercent: 1.5,
      memoryBytes: 20 * 1024 * 1024,
      memoryLimitBytes: 0,
      netInBytes: 1200,
      netOutBytes: 900,
    };
    const text = renderUsage(
      [
        row(`a-very-long-application-name-indeed-v3-k7m2x9qa.1@manager-node-one`, { node: 'manager-node-one', usage }),
        row('web-v3-k7m2x9qa.2@worker-2', { node: 'worker-2', note: unreachableNote('worker-2') }),
      ],
      makeColors(false),
      80,
    );
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^NAME +CPU % +MEM USAGE +NET I\/O$/);
    expect(lines[1]).toMatch(/^a-very-long-application.*….*manager-node-one +1\.50% +20\.0MiB +1\.20kB \/ 900B$/);
    expect(lines[2]).toMatch(/^web-v3-k7m2x9qa\.2@worker-2 +- +- +-$/);
    expect(lines[3]).toBe('  on node worker-2: give its endpoint in `nodes` to see its figures');
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
  });
});
