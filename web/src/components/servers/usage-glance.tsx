import type { MetricPoint } from "@ocore/proto/gen/ocore/api/v1/metrics_service_pb.js";

function Meter({ label, percent }: { label: string; percent: number }) {
  const value = Math.max(0, Math.min(100, percent));
  const tone = value >= 90 ? "bg-danger" : value >= 75 ? "bg-warning" : "bg-accent";
  return (
    <div className="flex items-center gap-1.5" title={`${label} ${value.toFixed(0)} %`}>
      <span className="w-9 text-xs text-ink-muted">{label}</span>
      <meter min={0} max={100} value={value} aria-label={label} className="sr-only" />
      <span aria-hidden="true" className="h-1.5 w-14 overflow-hidden rounded-full bg-surface-muted">
        <span className={`block h-full rounded-full ${tone}`} style={{ width: `${value}%` }} />
      </span>
      <span className="w-9 text-right text-xs tabular-nums">{value.toFixed(0)} %</span>
    </div>
  );
}

/** CPU, memory and the fullest disk of a server's newest sample, at a glance. */
export function UsageGlance({ latest }: { latest: MetricPoint | undefined }) {
  if (!latest) return <span className="text-xs text-ink-muted">No samples yet</span>;
  const memory =
    latest.memoryTotalBytes > 0n
      ? (Number(latest.memoryUsedBytes) / Number(latest.memoryTotalBytes)) * 100
      : 0;
  return (
    <div className="space-y-0.5" data-testid="usage-glance">
      <Meter label="CPU" percent={latest.cpuUsagePercent} />
      <Meter label="Mem" percent={memory} />
      <Meter label="Disk" percent={latest.diskUsedPercent} />
    </div>
  );
}
