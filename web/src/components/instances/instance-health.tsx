"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { INSTANCE_CHECK_NAMES, instanceChecks } from "@/lib/server-health";

const DOT: Record<string, string> = {
  ok: "bg-success",
  warning: "bg-warning",
  critical: "bg-danger",
  unreachable: "bg-ink-muted",
};

const LABEL: Record<string, string> = {
  ok: "OK",
  warning: "Warning",
  critical: "Critical",
  unknown: "Unknown",
  unreachable: "Unreachable (host offline)",
};

/**
 * The checks the agent runs on this instance (containers, web health, real-time port), from the
 * server's check results, read again every 10 seconds. Shown once there are results (an instance
 * stopped on purpose or still being created has none); hidden for people who may not read alerts.
 */
export function InstanceHealth({ serverId, name }: { readonly serverId: string; readonly name: string }) {
  const query = useQuery(
    AlertService.method.listServerChecks,
    { serverId, historyLimit: 1 },
    { refetchInterval: 10_000, retry: false },
  );
  const checks = instanceChecks(query.data?.checks ?? [], name);
  if (checks.length === 0) return null;
  return (
    <section className="space-y-2" aria-labelledby="instance-health-heading" data-testid="instance-health">
      <h2 id="instance-health-heading" className="text-lg font-semibold">
        Health
      </h2>
      <ul className="divide-y divide-line rounded-lg border border-line bg-surface text-sm">
        {checks.map((check) => (
          <li key={check.key} className="flex items-start gap-3 px-3 py-2" data-testid="instance-check-row">
            <span
              className={`mt-1.5 inline-block size-2 shrink-0 rounded-full ${DOT[check.state] ?? "bg-warning/50"}`}
              aria-hidden
            />
            <span className="w-40 shrink-0 font-medium">{INSTANCE_CHECK_NAMES[check.key] ?? check.key}</span>
            <span className="min-w-0">
              <span data-testid="instance-check-state">{LABEL[check.state] ?? check.state}</span>
              {check.since ? (
                <span className="text-xs text-ink-muted">
                  {" "}
                  since {timestampDate(check.since).toLocaleString()}
                </span>
              ) : null}
              <span className="block text-xs text-ink-muted" data-testid="instance-check-message">
                {check.message}
              </span>
              {check.action ? <span className="block text-xs text-ink-muted">{check.action}</span> : null}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
