import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ratePerSecond } from "./rate.js";

/** I/O rates of one block device since the previous call. */
export interface BlockDeviceReading {
  readonly device: string;
  readonly readBytesPerSecond: number;
  readonly writeBytesPerSecond: number;
  readonly readsPerSecond: number;
  readonly writesPerSecond: number;
}

export interface DiskIoCollector {
  collect(): Promise<BlockDeviceReading[]>;
}

interface DiskCounters {
  readonly reads: number;
  readonly readSectors: number;
  readonly writes: number;
  readonly writeSectors: number;
}

/** /proc/diskstats always counts 512-byte sectors, whatever the device's real sector size. */
const sectorBytes = 512;
const ignoredDevices = /^(loop|ram|zram)\d/;

/** Parses /proc/diskstats (see the kernel's Documentation/admin-guide/iostats.rst). */
export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const devices = new Map<string, DiskCounters>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const name = fields[2];
    if (!name || fields.length < 10 || ignoredDevices.test(name)) continue;
    devices.set(name, {
      reads: Number(fields[3]),
      readSectors: Number(fields[5]),
      writes: Number(fields[7]),
      writeSectors: Number(fields[9]),
    });
  }
  return devices;
}

/**
 * Block device read/write rates from /proc/diskstats deltas. The first call only records
 * the counters and returns no devices: a rate needs two readings.
 */
export function createDiskIoCollector(
  options: { procRoot?: string; now?: () => number } = {},
): DiskIoCollector {
  const file = path.join(options.procRoot ?? "/proc", "diskstats");
  const now = options.now ?? (() => performance.now());
  let previous: { at: number; devices: Map<string, DiskCounters> } | undefined;
  return {
    async collect() {
      const current = { at: now(), devices: parseDiskstats(await readFile(file, "utf8")) };
      const before = previous;
      previous = current;
      if (!before) return [];
      const seconds = (current.at - before.at) / 1000;
      const readings: BlockDeviceReading[] = [];
      for (const [device, counters] of current.devices) {
        const old = before.devices.get(device);
        if (!old) continue;
        readings.push({
          device,
          readBytesPerSecond: ratePerSecond(counters.readSectors, old.readSectors, seconds) * sectorBytes,
          writeBytesPerSecond: ratePerSecond(counters.writeSectors, old.writeSectors, seconds) * sectorBytes,
          readsPerSecond: ratePerSecond(counters.reads, old.reads, seconds),
          writesPerSecond: ratePerSecond(counters.writes, old.writes, seconds),
        });
      }
      return readings;
    },
  };
}
