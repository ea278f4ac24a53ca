import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import type { DevicePoint } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import type { MetricPoint } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";

/** How a chart's values are formatted on its axis and in its legend. */
export type ChartUnit = "percent" | "bytes" | "bytesPerSecond" | "number";

/** One chart's data, aligned the way uPlot wants it: x (Unix seconds) first, then one array per series. */
export interface ChartData {
  readonly labels: readonly string[];
  readonly columns: readonly [readonly number[], ...(readonly (number | null)[])[]];
}

/** How many per-core lines a chart shows: the busiest cores, so a hot core is never hidden. */
export const TOP_CORES = 8;

const seconds = (point: { time?: Timestamp }) =>
  point.time ? timestampDate(point.time).getTime() / 1000 : 0;

function aligned(xs: number[], labels: string[], ys: (number | null)[][]): ChartData {
  return { labels, columns: [xs, ...ys] };
}

/** Charts of host-level series (GetSeries): total CPU (average and peak) and load averages. */
export function hostCharts(points: readonly MetricPoint[]) {
  const xs = points.map(seconds);
  return {
    cpu: aligned(
      xs,
      ["Average", "Peak"],
      [points.map((p) => p.cpuUsagePercent), points.map((p) => p.cpuUsagePercentMax)],
    ),
    load: aligned(
      xs,
      ["1 min", "5 min", "15 min"],
      [points.map((p) => p.load1), points.map((p) => p.load5), points.map((p) => p.load15)],
    ),
  };
}

/**
 * One line per key (mount, device, interface, container) across the points; a key missing from
 * a point leaves a gap. Keys are ordered by `rank` (largest first) and cut to `limit`.
 */
function keyed<T>(
  points: readonly DevicePoint[],
  items: (point: DevicePoint) => readonly T[],
  key: (item: T) => string,
  value: (item: T) => number,
  options: { limit?: number; label?: (key: string) => string } = {},
): ChartData {
  const xs = points.map(seconds);
  const byKey = new Map<string, (number | null)[]>();
  points.forEach((point, index) => {
    for (const item of items(point)) {
      const name = key(item);
      let line = byKey.get(name);
      if (!line) {
        line = new Array<number | null>(points.length).fill(null);
        byKey.set(name, line);
      }
      line[index] = value(item);
    }
  });
  const average = (line: readonly (number | null)[]) => {
    const values = line.filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  };
  const ranked = [...byKey].sort(([a, x], [b, y]) => average(y) - average(x) || a.localeCompare(b));
  const kept = options.limit === undefined ? ranked : ranked.slice(0, options.limit);
  return aligned(
    xs,
    kept.map(([name]) => options.label?.(name) ?? name),
    kept.map(([, line]) => line),
  );
}

/** Charts of per-device series (GetDeviceSeries). */
export function deviceCharts(points: readonly DevicePoint[]) {
  const xs = points.map(seconds);
  const cores = keyed(
    points,
    (p) => p.coreUsagePercent.map((usage, index) => ({ index, usage })),
    (core) => String(core.index),
    (core) => core.usage,
    { limit: TOP_CORES, label: (index) => `CPU ${index}` },
  );
  return {
    cores,
    memory: aligned(
      xs,
      ["Used", "Active", "Swap used"],
      [
        points.map((p) => Number(p.memoryUsedBytes)),
        points.map((p) => Number(p.memoryActiveBytes)),
        points.map((p) => Number(p.swapUsedBytes)),
      ],
    ),
    filesystems: keyed(
      points,
      (p) => p.filesystems,
      (fs) => fs.mount,
      (fs) => (fs.totalBytes > 0n ? (Number(fs.usedBytes) / Number(fs.totalBytes)) * 100 : 0),
    ),
    diskIo: keyed(
      points,
      (p) =>
        p.disks.flatMap((d) => [
          { name: `${d.device} read`, rate: d.readBytesPerSecond },
          { name: `${d.device} write`, rate: d.writeBytesPerSecond },
        ]),
      (d) => d.name,
      (d) => d.rate,
    ),
    network: keyed(
      points,
      (p) =>
        p.nics.flatMap((n) => [
          { name: `${n.name} in`, rate: n.rxBytesPerSecond },
          { name: `${n.name} out`, rate: n.txBytesPerSecond },
        ]),
      (n) => n.name,
      (n) => n.rate,
    ),
    containerCpu: keyed(
      points,
      (p) => p.containers,
      (c) => c.name || c.id.slice(0, 12),
      (c) => c.cpuPercent,
    ),
    containerMemory: keyed(
      points,
      (p) => p.containers,
      (c) => c.name || c.id.slice(0, 12),
      (c) => Number(c.memoryBytes),
    ),
  };
}

/** True when a chart has at least one point with a value to draw. */
export function hasValues(data: ChartData): boolean {
  return data.columns[0].length > 0 && data.columns.slice(1).some((line) => line.some((v) => v !== null));
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Formats a byte count with a binary unit ("1.5 GiB"). */
export function formatBytes(value: number): string {
  let amount = Math.abs(value);
  let unit = 0;
  while (amount >= 1024 && unit < BYTE_UNITS.length - 1) {
    amount /= 1024;
    unit++;
  }
  const digits = amount >= 100 || unit === 0 ? 0 : amount >= 10 ? 1 : 2;
  return `${value < 0 ? "-" : ""}${amount.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** Formats a value for a chart of the given unit. */
export function formatValue(value: number | null | undefined, unit: ChartUnit): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  switch (unit) {
    case "percent":
      return `${value.toFixed(value >= 10 ? 0 : 1)} %`;
    case "bytes":
      return formatBytes(value);
    case "bytesPerSecond":
      return `${formatBytes(value)}/s`;
    default:
      return value >= 100 ? value.toFixed(0) : value.toFixed(2);
  }
}
