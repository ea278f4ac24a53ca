"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { useMemo } from "react";
import { agentCheckTitle, type HealthState, serverHealth } from "@/lib/server-health";

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

/** An agent check's state as the panel draws it ("unknown": the agent could not tell). */
const checkState = (state: string): HealthState =>
  state === "ok" || state === "warning" || state === "critical" || state === "unreachable"
    ? state
    : "pending";

const time = (value: Parameters<typeof timestampDate>[0] | undefined) =>
  value ? timestampDate(value).toLocaleString() : "";

function Dot({ state }: { readonly state: HealthState }) {
  return <span className={`mt-1.5 inline-block size-2 shrink-0 rounded-full ${DOT[state]}`} aria-hidden />;
}

/**
 * The server's health: each built-in check (agent, disks, memory, swap, load, containers, clock,
 * certificate, backups) and user rule, from its open alerts; then the checks the agent runs on the
 * host (Docker, sshd, inodes) with their recent state changes. Read again every 10 seconds.
 * Hidden for people who may not read alerts.
 */
export function ServerHealth({ serverId }: { readonly serverId: string }) {
  const alerts = useQuery(AlertService.method.listAlerts, { limit: 1000 }, { refetchInterval: 10_000 });
  const checks = useQuery(
    AlertService.method.listServerChecks,
    { serverId, historyLimit: 20 },
    { refetchInterval: 10_000 },
  );
  const rows = useMemo(() => serverHealth(alerts.data?.alerts ?? [], serverId), [alerts.data, serverId]);
  if (!alerts.data) return null;
  const hostChecks = checks.data?.checks ?? [];
  const changes = checks.data?.changes ?? [];
  return (
    <section className="space-y-2" aria-labelledby="health-heading" data-testid="server-health">
      <h2 id="health-heading" className="text-lg font-semibold">
        Health
      </h2>
      <ul className="divide-y divide-line rounded-lg border border-line bg-surface text-sm">
        {rows.map((row) => (
          <li key={row.check} className="flex items-start gap-3 px-3 py-2" data-testid="health-row">
            <Dot state={row.state} />
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
      {hostChecks.length > 0 ? (
        <>
          <h3 className="pt-2 text-sm font-semibold">Checked by the agent on the host</h3>
          <ul
            className="divide-y divide-line rounded-lg border border-line bg-surface text-sm"
            data-testid="agent-checks"
          >
            {hostChecks.map((check) => {
              const state = checkState(check.state);
              return (
                <li
                  key={`${check.key}:${check.subject}`}
                  className="flex items-start gap-3 px-3 py-2"
                  data-testid="agent-check-row"
                >
                  <Dot state={state} />
                  <span className="w-40 shrink-0 font-medium">
                    {agentCheckTitle(check.key, check.subject)}
                  </span>
                  <span className="min-w-0">
                    <span data-testid="agent-check-state">
                      {check.state === "unknown" ? "Unknown" : LABEL[state]}
                    </span>
                    <span className="text-xs text-ink-muted"> since {time(check.since)}</span>
                    <span className="block text-xs text-ink-muted">{check.message}</span>
                    {check.action ? (
                      <span className="block text-xs text-ink-muted">{check.action}</span>
                    ) : null}
                  </span>
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
      {changes.length > 0 ? (
        <details className="rounded-lg border border-line bg-surface text-sm" data-testid="check-history">
          <summary className="cursor-pointer px-3 py-2 font-medium">
            Check history ({changes.length} recent changes)
          </summary>
          <ul className="divide-y divide-line">
            {changes.map((change) => (
              <li
                key={`${change.key}:${change.subject}:${time(change.at)}:${change.toState}`}
                className="flex gap-3 px-3 py-1.5 text-xs"
              >
                <span className="w-40 shrink-0 text-ink-muted">{time(change.at)}</span>
                <span className="w-40 shrink-0 font-medium">
                  {agentCheckTitle(change.key, change.subject)}
                </span>
                <span>
                  {change.fromState ? `${change.fromState} → ` : ""}
                  {change.toState}
                  <span className="block text-ink-muted">{change.message}</span>
                </span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}
