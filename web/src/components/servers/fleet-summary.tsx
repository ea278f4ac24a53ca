"use client";

import { useQuery } from "@connectrpc/connect-query";
import { type FleetServerUsage, FleetService } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import Link from "next/link";
import { describeServerStatus, SERVER_STATUSES } from "@/lib/server-status";

const REFRESH_INTERVAL_MS = 15_000;

function Ranking({
  title,
  servers,
  testId,
  unit = "%",
}: {
  title: string;
  servers: readonly FleetServerUsage[];
  testId: string;
  unit?: string;
}) {
  return (
    <div className="space-y-1" data-testid={testId}>
      <h3 className="text-sm font-medium">{title}</h3>
      {servers.length === 0 ? (
        <p className="text-sm text-ink-muted">None.</p>
      ) : (
        <ol className="space-y-0.5 text-sm">
          {servers.map((server) => (
            <li key={server.id} className="flex justify-between gap-2">
              <Link href={`/servers/${server.id}`} className="truncate text-accent hover:underline">
                {server.name}
              </Link>
              <span className="shrink-0 text-ink-muted">
                {unit ? `${server.percent.toFixed(0)} ${unit}` : server.statusMessage || server.status}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/**
 * The fleet at a glance on the overview: one GetFleetSummary call (aggregate queries on the
 * server), so it costs the same for 10 servers and 100,000.
 */
export function FleetSummaryCard() {
  const summary = useQuery(
    FleetService.method.getFleetSummary,
    { top: 5 },
    // Fresh on every visit (the cached summary of the last visit is shown meanwhile), then every 15 s.
    { refetchInterval: REFRESH_INTERVAL_MS, refetchOnMount: "always" },
  );
  if (!summary.data) return null;
  const data = summary.data;
  return (
    <section aria-labelledby="fleet-summary-heading" className="space-y-4" data-testid="fleet-summary">
      <h2 id="fleet-summary-heading" className="text-lg font-semibold">
        Fleet: {data.total} {data.total === 1 ? "server" : "servers"}
      </h2>
      <ul className="flex flex-wrap gap-2 text-sm" data-testid="fleet-summary-statuses">
        {SERVER_STATUSES.filter((status) => (data.statusCounts[status] ?? 0) > 0).map((status) => (
          <li key={status}>
            <Link
              href={`/servers?status=${status}`}
              className="rounded-md border border-line bg-surface px-2 py-1 hover:border-accent"
            >
              {describeServerStatus(status).label}: {data.statusCounts[status]}
            </Link>
          </li>
        ))}
      </ul>
      {data.tags.length > 0 ? (
        <p className="text-sm text-ink-muted" data-testid="fleet-summary-tags">
          Most common tags: {data.tags.map((tag) => `${tag.key}=${tag.value} (${tag.count})`).join(", ")}
        </p>
      ) : null}
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Ranking title="Busiest CPU" servers={data.busiestCpu} testId="fleet-summary-cpu" />
        <Ranking title="Most memory used" servers={data.busiestMemory} testId="fleet-summary-memory" />
        <Ranking title="Fullest disk" servers={data.busiestDisk} testId="fleet-summary-disk" />
        <Ranking title="Failed, latest first" servers={data.failed} testId="fleet-summary-failed" unit="" />
      </div>
    </section>
  );
}
