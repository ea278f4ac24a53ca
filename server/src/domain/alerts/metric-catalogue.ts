/**
 * The stored metrics a user rule may watch: each is computed from a server's newest raw sample
 * (metric_samples). Percentages are 0-100; rates per second.
 */
export interface SampleValues {
  readonly cpu_percent: number;
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
  readonly cpu_cores: number;
  readonly memory_total: number;
  readonly memory_used: number;
  readonly memory_available: number;
  readonly swap_total: number;
  readonly swap_used: number;
  readonly disk_used_percent: number;
  readonly disk_read_bps: number;
  readonly disk_write_bps: number;
  readonly net_rx_bps: number;
  readonly net_tx_bps: number;
  readonly tcp_connections: number;
  readonly containers_running: number | null;
  readonly containers_restarting: number | null;
}

interface MetricSpec {
  readonly description: string;
  readonly unit: string;
  readonly value: (sample: SampleValues) => number | null;
}

const share = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);

export const metricCatalogue = {
  cpu_percent: { description: "CPU used", unit: "%", value: (s) => s.cpu_percent },
  load1_per_core: {
    description: "1-minute load per core",
    unit: "",
    value: (s) => s.load1 / Math.max(1, s.cpu_cores),
  },
  load5_per_core: {
    description: "5-minute load per core",
    unit: "",
    value: (s) => s.load5 / Math.max(1, s.cpu_cores),
  },
  memory_used_percent: {
    description: "memory used",
    unit: "%",
    value: (s) => share(s.memory_total - s.memory_available, s.memory_total),
  },
  swap_used_percent: { description: "swap used", unit: "%", value: (s) => share(s.swap_used, s.swap_total) },
  disk_used_percent: {
    description: "fullest filesystem used",
    unit: "%",
    value: (s) => s.disk_used_percent,
  },
  disk_read_bps: { description: "disk reads", unit: "B/s", value: (s) => s.disk_read_bps },
  disk_write_bps: { description: "disk writes", unit: "B/s", value: (s) => s.disk_write_bps },
  net_rx_bps: { description: "network received", unit: "B/s", value: (s) => s.net_rx_bps },
  net_tx_bps: { description: "network sent", unit: "B/s", value: (s) => s.net_tx_bps },
  tcp_connections: { description: "TCP connections", unit: "", value: (s) => s.tcp_connections },
  containers_running: {
    description: "running containers",
    unit: "",
    value: (s) => s.containers_running,
  },
  containers_restarting: {
    description: "restarting containers",
    unit: "",
    value: (s) => s.containers_restarting,
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof metricCatalogue;

export const metricNames = Object.keys(metricCatalogue) as MetricName[];

export function isMetricName(value: string): value is MetricName {
  return Object.hasOwn(metricCatalogue, value);
}

/** A value rounded for people: two decimals at most. */
export function formatValue(value: number, unit: string): string {
  const rounded = Math.round(value * 100) / 100;
  return unit === "%" ? `${rounded}%` : unit ? `${rounded} ${unit}` : String(rounded);
}
