import { readFile } from "node:fs/promises";
import path from "node:path";

/** Physical memory and swap, in bytes. */
export interface MemoryReading {
  readonly totalBytes: bigint;
  readonly usedBytes: bigint;
  readonly availableBytes: bigint;
  readonly activeBytes: bigint;
  readonly swapTotalBytes: bigint;
  readonly swapUsedBytes: bigint;
}

export interface MemoryCollector {
  collect(): Promise<MemoryReading>;
}

/** Parses /proc/meminfo into bytes per key (the kernel writes kB). */
export function parseMeminfo(text: string): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const match = /^([^:]+):\s+(\d+)(\s+kB)?/.exec(line);
    if (match?.[1] && match[2]) values.set(match[1], BigInt(match[2]) * (match[3] ? 1024n : 1n));
  }
  return values;
}

export function createMemoryCollector(options: { procRoot?: string } = {}): MemoryCollector {
  const file = path.join(options.procRoot ?? "/proc", "meminfo");
  return {
    async collect() {
      const info = parseMeminfo(await readFile(file, "utf8"));
      const total = info.get("MemTotal") ?? 0n;
      // MemAvailable exists since Linux 3.14; older kernels get the classic estimate.
      const available =
        info.get("MemAvailable") ??
        (info.get("MemFree") ?? 0n) + (info.get("Buffers") ?? 0n) + (info.get("Cached") ?? 0n);
      const swapTotal = info.get("SwapTotal") ?? 0n;
      const swapFree = info.get("SwapFree") ?? 0n;
      return {
        totalBytes: total,
        usedBytes: total > available ? total - available : 0n,
        availableBytes: available,
        activeBytes: info.get("Active") ?? 0n,
        swapTotalBytes: swapTotal,
        swapUsedBytes: swapTotal > swapFree ? swapTotal - swapFree : 0n,
      };
    },
  };
}
