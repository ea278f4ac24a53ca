"use client";

import { useQuery } from "@connectrpc/connect-query";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { useMemo } from "react";
import { type HealthState, serverHealth } from "@/lib/server-health";

const DOT: Record<HealthState, string> = {
  ok: "bg-success",
  pending: "bg-warning/50",
  warning: "bg-warning",
  critical: "bg-danger",
  unreachable: "bg-ink-muted",
};

const LABEL: Record<HealthState, string> = {
  ok: "OK",
  pending: "Pending",
  warning: "Warning",
  critical: "Critical",
  unreachable: "Unreachable (host offline)",
};

/**
 * The server's health: each built-in check (agent, disks, memory, swap, load, containers, clock,
 * certificate) and user rule, from its open alerts, read again every 10 seconds. Hidden for
 * people who may not read alerts.
 */
export function ServerHealth({ serverId }: { readonly serverId: string }) {
  const alerts = useQuery(AlertService.method.listAlerts, { limit: 1000 }, { refetchInterval: 10_000 });
  const rows = useMemo(() => serverHealth(alerts.data?.alerts ?? [], serverId), [alerts.data, serverId]);
  if (!alerts.data) return null;
  return (
    <section className="space-y-2" aria-labelledby="health-heading" data-testid="server-health">
      <h2 id="health-heading" className="text-lg font-semibold">
        Health
      </h2>
      <ul className="divide-y divide-line rounded-lg border border-line bg-surface text-sm">
        {rows.map((row) => (
          <li key={row.check} className="flex items-start gap-3 px-3 py-2" data-testid="health-row">
            <span
              className={`mt-1.5 inline-block size-2 shrink-0 rounded-full ${DOT[row.state]}`}
              aria-hidden
            />
            <span className="w-40 shrink-0 font-medium">{row.check}</span>
            <span className="min-w-0">
              <span data-testid="health-state">{LABEL[row.state]}</span>
              {row.summary ? <span className="block text-xs text-ink-muted">{row.summary}</span> : null}
              {row.action && row.state !== "ok" ? (
                <span className="block text-xs text-ink-muted">{row.action}</span>
              ) : null}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
