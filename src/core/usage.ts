/**
 * What a release uses now (`deploy stats --now`): the CPU, memory and network of each of its containers, or of
 * each running task of its Swarm service, as `docker stats --no-stream` computes them from one sample of the
 * engine's stats. Pure: services/usage.ts gathers the samples.
 */

/** The parts of the engine's stats answer (GET /containers/{id}/stats?stream=false) used here. */
export interface UsageSample {
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** One container's use, as shown. */
export interface Usage {
  /** Percent of one CPU (200: two CPUs busy), as docker stats shows it. */
  cpuPercent: number;
  /** Memory in use less the page cache that can be dropped (docker stats' MEM USAGE). */
  memoryBytes: number;
  /** The container's memory limit (the machine's memory when it has none). */
  memoryLimitBytes: number;
  /** Bytes received and sent on all its networks since it started. */
  netInBytes: number;
  netOutBytes: number;
}

/** One row: a container, or a task of a service (on its node); `usage` null with `note` when it cannot be read. */
export interface UsageRow {
  app: string;
  version: number;
  deployment: string;
  /** The container's name, or the task as `docker service ps` names it with its node: SERVICE.SLOT@NODE. */
  name: string;
  /** The task's node (its hostname); null for a container. */
  node: string | null;
  usage: Usage | null;
  note: string | null;
}

/** One sample's figures, as the docker CLI computes them (cgroup v1 and v2 alike). */
export function usageOf(s: UsageSample): Usage {
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  // No earlier reading (a container just started): no interval to measure over, as docker stats shows 0 %.
  const cpuPercent =
    pre.system_cpu_usage !== undefined && cpuDelta > 0 && systemDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  const mem = s.memory_stats ?? {};
  // The cache the kernel can drop is not the app's: cgroup v1 calls it total_inactive_file, v2 inactive_file.
  const stats = mem.stats ?? {};
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const used = mem.usage ?? 0;
  let netIn = 0;
  let netOut = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netIn += n.rx_bytes ?? 0;
    netOut += n.tx_bytes ?? 0;
  }
  return {
    cpuPercent,
    memoryBytes: cache < used ? used - cache : used,
    memoryLimitBytes: mem.limit ?? 0,
    netInBytes: netIn,
    netOutBytes: netOut,
  };
}

/** The row name of a task: SERVICE.SLOT@NODE (SERVICE@NODE for a task without a slot). */
export function taskRowName(service: string, slot: number | null, node: string): string {
  return `${service}${slot === null ? '' : `.${slot}`}@${node}`;
}

/** What a row says for a task on a node this tool cannot reach. */
export function unreachableNote(node: string): string {
  return `on node ${node}: give its endpoint in \`nodes\` to see its figures`;
}

/** Bytes as docker stats writes them: B, kB, MB, GB in powers of 1000 for the network; KiB, MiB, GiB for memory. */
export function formatBytes(n: number, binary: boolean): string {
  const base = binary ? 1024 : 1000;
  const units = binary ? ['B', 'KiB', 'MiB', 'GiB', 'TiB'] : ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : 1)}${units[i]}`;
}
