import type { metricSamples, SampleDetail } from "../../platform/db/schema/metrics.js";

/** One host sample as the domain sees it (the gateway converts and validates the wire form). */
export interface MetricSampleInput {
  readonly sequence: number;
  readonly collectedAt: Date;
  readonly cpu: {
    readonly usagePercent: number;
    readonly perCorePercent: readonly number[];
    readonly load1: number;
    readonly load5: number;
    readonly load15: number;
    readonly cores: number;
  };
  readonly memory: {
    readonly totalBytes: number;
    readonly usedBytes: number;
    readonly availableBytes: number;
    readonly activeBytes: number;
    readonly swapTotalBytes: number;
    readonly swapUsedBytes: number;
  };
  readonly filesystems: ReadonlyArray<{
    readonly mount: string;
    readonly device: string;
    readonly fsType: string;
    readonly totalBytes: number;
    readonly usedBytes: number;
    readonly availableBytes: number;
  }>;
  readonly blockDevices: ReadonlyArray<{
    readonly device: string;
    readonly readBytesPerSecond: number;
    readonly writeBytesPerSecond: number;
    readonly readsPerSecond: number;
    readonly writesPerSecond: number;
  }>;
  readonly networkInterfaces: ReadonlyArray<{
    readonly name: string;
    readonly rxBytesPerSecond: number;
    readonly txBytesPerSecond: number;
  }>;
  readonly tcpConnections: number;
  readonly docker:
    | {
        readonly running: number;
        readonly paused: number;
        readonly stopped: number;
        readonly restarting: number;
        readonly containers: ReadonlyArray<{
          readonly id: string;
          readonly name: string;
          readonly state: string;
          readonly cpuPercent: number;
          readonly memoryBytes: number;
          readonly memoryLimitBytes: number;
        }>;
      }
    | undefined;
}

export type MetricSampleRow = typeof metricSamples.$inferInsert;

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** The stored row: host-level values typed, per-device values in the compact detail. */
export function toSampleRow(serverId: string, sample: MetricSampleInput, receivedAt: Date): MetricSampleRow {
  const detail: SampleDetail = {
    cores: sample.cpu.perCorePercent.map(round2),
    fs: sample.filesystems.map((f) => [
      f.mount,
      f.device,
      f.fsType,
      f.totalBytes,
      f.usedBytes,
      f.availableBytes,
    ]),
    disks: sample.blockDevices.map((d) => [
      d.device,
      round2(d.readBytesPerSecond),
      round2(d.writeBytesPerSecond),
      round2(d.readsPerSecond),
      round2(d.writesPerSecond),
    ]),
    nics: sample.networkInterfaces.map((n) => [
      n.name,
      round2(n.rxBytesPerSecond),
      round2(n.txBytesPerSecond),
    ]),
    containers: (sample.docker?.containers ?? []).map((c) => [
      c.id,
      c.name,
      c.state,
      round2(c.cpuPercent),
      c.memoryBytes,
      c.memoryLimitBytes,
    ]),
  };
  const usedShares = sample.filesystems.map((f) =>
    f.totalBytes > 0 ? (100 * f.usedBytes) / f.totalBytes : 0,
  );
  return {
    serverId,
    sequence: sample.sequence,
    collectedAt: sample.collectedAt,
    receivedAt,
    cpuPercent: sample.cpu.usagePercent,
    load1: sample.cpu.load1,
    load5: sample.cpu.load5,
    load15: sample.cpu.load15,
    cpuCores: sample.cpu.cores,
    memoryTotal: sample.memory.totalBytes,
    memoryUsed: sample.memory.usedBytes,
    memoryAvailable: sample.memory.availableBytes,
    memoryActive: sample.memory.activeBytes,
    swapTotal: sample.memory.swapTotalBytes,
    swapUsed: sample.memory.swapUsedBytes,
    diskUsedPercent: usedShares.length > 0 ? Math.max(...usedShares) : 0,
    diskReadBps: sum(sample.blockDevices.map((d) => d.readBytesPerSecond)),
    diskWriteBps: sum(sample.blockDevices.map((d) => d.writeBytesPerSecond)),
    netRxBps: sum(sample.networkInterfaces.map((n) => n.rxBytesPerSecond)),
    netTxBps: sum(sample.networkInterfaces.map((n) => n.txBytesPerSecond)),
    tcpConnections: sample.tcpConnections,
    containersRunning: sample.docker?.running ?? null,
    containersPaused: sample.docker?.paused ?? null,
    containersStopped: sample.docker?.stopped ?? null,
    containersRestarting: sample.docker?.restarting ?? null,
    detail,
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A host's usage at a glance (percent), as the fleet list sorts by it. */
export interface UsageSummary {
  readonly collectedAt: Date;
  readonly cpuPercent: number;
  readonly memoryPercent: number | null;
  readonly diskPercent: number | null;
}

/** The usage of the newest of these samples. */
export function newestUsage(samples: readonly MetricSampleInput[]): UsageSummary | undefined {
  let newest: MetricSampleInput | undefined;
  for (const sample of samples) {
    if (!newest || sample.collectedAt > newest.collectedAt) newest = sample;
  }
  if (!newest) return undefined;
  const shares = newest.filesystems.map((f) => (f.totalBytes > 0 ? (100 * f.usedBytes) / f.totalBytes : 0));
  return {
    collectedAt: newest.collectedAt,
    cpuPercent: newest.cpu.usagePercent,
    memoryPercent:
      newest.memory.totalBytes > 0 ? (100 * newest.memory.usedBytes) / newest.memory.totalBytes : null,
    diskPercent: shares.length > 0 ? Math.max(...shares) : null,
  };
}
