import { readFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ratePerSecond } from "./rate.js";

/** Traffic rates of one network interface since the previous call. */
export interface NetworkInterfaceReading {
  readonly name: string;
  readonly rxBytesPerSecond: number;
  readonly txBytesPerSecond: number;
}

export interface NetworkCollector {
  collect(): Promise<NetworkInterfaceReading[]>;
}

/**
 * Loopback is not traffic, and Docker's veth pairs repeat, one per container, what the bridge
 * (docker0, br-…) already carries.
 */
const ignoredInterfaces = /^(lo|veth.*)$/;

/** Parses /proc/net/dev into received and transmitted byte counters per interface. */
export function parseNetDev(text: string): Map<string, { rx: number; tx: number }> {
  const interfaces = new Map<string, { rx: number; tx: number }>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (ignoredInterfaces.test(name)) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes …
    interfaces.set(name, { rx: fields[0] ?? 0, tx: fields[8] ?? 0 });
  }
  return interfaces;
}

/** Per-NIC receive/transmit rates from /proc/net/dev deltas; the first call returns none. */
export function createNetworkCollector(
  options: { procRoot?: string; now?: () => number } = {},
): NetworkCollector {
  const file = path.join(options.procRoot ?? "/proc", "net", "dev");
  const now = options.now ?? (() => performance.now());
  let previous: { at: number; interfaces: ReturnType<typeof parseNetDev> } | undefined;
  return {
    async collect() {
      const current = { at: now(), interfaces: parseNetDev(await readFile(file, "utf8")) };
      const before = previous;
      previous = current;
      if (!before) return [];
      const seconds = (current.at - before.at) / 1000;
      const readings: NetworkInterfaceReading[] = [];
      for (const [name, counters] of current.interfaces) {
        const old = before.interfaces.get(name);
        if (!old) continue;
        readings.push({
          name,
          rxBytesPerSecond: ratePerSecond(counters.rx, old.rx, seconds),
          txBytesPerSecond: ratePerSecond(counters.tx, old.tx, seconds),
        });
      }
      return readings;
    },
  };
}
