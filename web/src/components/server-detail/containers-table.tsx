import type { ContainerUsage } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { formatBytes } from "@/lib/chart-series";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

/** The containers of the newest sample: state, CPU and memory. */
export function ContainersTable({ containers }: { containers: readonly ContainerUsage[] }) {
  if (containers.length === 0) {
    return (
      <p
        className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-ink-muted"
        data-testid="containers-empty"
      >
        No containers in the newest sample. Without Docker on the host, or before the first instance is
        created, this stays empty.
      </p>
    );
  }
  const sorted = [...containers].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <div className="overflow-x-auto rounded-lg border border-line bg-surface">
      <table className="w-full text-sm" data-testid="containers-table">
        <thead className="border-b border-line bg-surface-muted">
          <tr>
            <th scope="col" className={HEAD}>
              Container
            </th>
            <th scope="col" className={HEAD}>
              State
            </th>
            <th scope="col" className={`${HEAD} text-right`}>
              CPU
            </th>
            <th scope="col" className={`${HEAD} text-right`}>
              Memory
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-line">
          {sorted.map((container) => (
            <tr key={container.id}>
              <th scope="row" className="px-3 py-2 text-left font-medium">
                {container.name || container.id.slice(0, 12)}
                <span className="block font-mono text-xs font-normal text-ink-muted">
                  {container.id.slice(0, 12)}
                </span>
              </th>
              <td className="px-3 py-2">{container.state}</td>
              <td className="px-3 py-2 text-right tabular-nums">{container.cpuPercent.toFixed(1)} %</td>
              <td className="px-3 py-2 text-right tabular-nums">
                {formatBytes(Number(container.memoryBytes))}
                {container.memoryLimitBytes > 0n ? (
                  <span className="text-ink-muted"> / {formatBytes(Number(container.memoryLimitBytes))}</span>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
