import { readFile } from "node:fs/promises";
import path from "node:path";

/** Processor usage since the previous call and the load averages. */
export interface CpuReading {
  readonly usagePercent: number;
  readonly perCorePercent: number[];
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly cores: number;
}

export interface CpuCollector {
  collect(): Promise<CpuReading>;
}

interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** Parses the `cpu` and `cpuN` lines of /proc/stat into busy and total jiffies. */
export function parseProcStat(text: string): { total: CpuTimes; cores: CpuTimes[] } {
  let total: CpuTimes = { busy: 0, total: 0 };
  const cores: CpuTimes[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const [label = "", ...fields] = line.trim().split(/\s+/);
    // user nice system idle iowait irq softirq steal; guest time is already counted in user.
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] =
      fields.map(Number);
    const all = user + nice + system + idle + iowait + irq + softirq + steal;
    const times = { busy: all - idle - iowait, total: all };
    if (label === "cpu") total = times;
    else cores[Number(label.slice(3))] = times;
  }
  return { total, cores: Array.from(cores, (core) => core ?? { busy: 0, total: 0 }) };
}

function percent(now: CpuTimes, before: CpuTimes | undefined): number {
  const total = now.total - (before?.total ?? 0);
  const busy = now.busy - (before?.busy ?? 0);
  if (total <= 0 || busy < 0) return 0;
  return Math.min(100, (busy / total) * 100);
}

/**
 * Reads /proc/stat and /proc/loadavg. Usage covers the time since the previous `collect()`;
 * the first call covers the time since boot.
 */
export function createCpuCollector(options: { procRoot?: string } = {}): CpuCollector {
  const procRoot = options.procRoot ?? "/proc";
  let previous: ReturnType<typeof parseProcStat> | undefined;
  return {
    async collect() {
      const [statText, loadText] = await Promise.all([
        readFile(path.join(procRoot, "stat"), "utf8"),
        readFile(path.join(procRoot, "loadavg"), "utf8"),
      ]);
      const now = parseProcStat(statText);
      const before = previous;
      previous = now;
      const [load1 = 0, load5 = 0, load15 = 0] = loadText.trim().split(/\s+/).slice(0, 3).map(Number);
      return {
        usagePercent: percent(now.total, before?.total),
        perCorePercent: now.cores.map((core, index) => percent(core, before?.cores[index])),
        load1,
        load5,
        load15,
        cores: now.cores.length,
      };
    },
  };
}
