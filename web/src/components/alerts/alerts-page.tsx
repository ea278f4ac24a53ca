"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation } from "@connectrpc/connect-query";
import { type Alert, AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import Link from "next/link";
import { useMemo, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { countByState, describeState, sortAlerts } from "@/lib/alerts";
import { formatRelativeTime } from "@/lib/relative-time";
import { useLiveAlerts } from "./use-live-alerts";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

const BADGE: Record<string, string> = {
  firing: "bg-danger/10 text-danger",
  pending: "bg-warning/10 text-warning",
  unreachable: "bg-surface-muted text-ink-muted",
  resolved: "bg-success/10 text-success",
};

/** Acknowledge: the alert is not repeated (its resolution still is). Needs alerts.acknowledge (operators and up). */
function AckButton({ alert }: { alert: Alert }) {
  const ack = useMutation(AlertService.method.acknowledgeAlert);
  if (alert.acknowledgedBy) {
    return (
      <span className="mt-1 block text-xs text-ink-muted" data-testid="alert-acked">
        acknowledged by {alert.acknowledgedBy}
      </span>
    );
  }
  if (alert.state !== "firing") return null;
  return (
    <div className="mt-1">
      <Button
        className="px-2 py-0.5 text-xs"
        aria-disabled={ack.isPending}
        onClick={() => ack.mutate({ id: alert.id, comment: "" })}
        data-testid="alert-ack"
      >
        Acknowledge
      </Button>
      {ack.error ? <ActionError error={ack.error} action="acknowledge the alert" /> : null}
    </div>
  );
}

/**
 * The alerts of the servers the caller may see, live (AlertService/WatchAlerts): firing first,
 * each with its value, since when, what to do, whether a silence covers it, and who is on it.
 */
export function AlertsPage() {
  const [includeResolved, setIncludeResolved] = useState(false);
  const live = useLiveAlerts(includeResolved);
  const sorted = useMemo(() => sortAlerts(live.alerts ?? []), [live.alerts]);
  const counts = countByState(sorted);
  const alerts = {
    error: live.error,
    data: live.alerts ? { alerts: live.alerts } : undefined,
    isFetching: live.reconnecting,
  };
  const refetch = live.retry;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-4 text-sm">
        <p className="text-ink-muted" data-testid="alert-counts">
          {counts.firing ?? 0} firing · {counts.pending ?? 0} pending · {counts.unreachable ?? 0} unreachable
        </p>
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            checked={includeResolved}
            onChange={(event) => setIncludeResolved(event.target.checked)}
            data-testid="include-resolved"
          />
          Show resolved
        </label>
        <span
          className="text-xs text-ink-muted"
          data-testid="alerts-live"
          data-state={live.error ? "error" : live.alerts ? "live" : "connecting"}
        >
          {live.error ? "reconnecting…" : live.alerts ? "● live" : "connecting…"}
        </span>
      </div>
      {alerts.error ? (
        <ListError
          error={alerts.error}
          permission="alerts.read"
          retrying={alerts.isFetching}
          onRetry={refetch}
          testId="alerts-error"
        />
      ) : !alerts.data ? (
        <ListSkeleton label="Loading alerts…" testId="alerts-loading" />
      ) : sorted.length === 0 ? (
        <p
          className="rounded-lg border border-dashed border-line bg-surface p-6 text-center text-sm text-ink-muted"
          data-testid="alerts-empty"
        >
          Nothing is wrong right now. oCore watches every server's agent and disks and sends notifications
          through the channels an administrator set up.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line bg-surface">
          <table className="w-full text-sm" data-testid="alert-table">
            <thead className="border-b border-line bg-surface-muted">
              <tr>
                <th scope="col" className={HEAD}>
                  Alert
                </th>
                <th scope="col" className={`${HEAD} hidden sm:table-cell`}>
                  Server
                </th>
                <th scope="col" className={HEAD}>
                  State
                </th>
                <th scope="col" className={`${HEAD} hidden md:table-cell`}>
                  What to do
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {sorted.map((alert) => {
                const since = alert.firingSince ?? alert.pendingSince;
                return (
                  <tr key={alert.id} data-testid="alert-row" className="align-top">
                    <th scope="row" className="px-3 py-2.5 text-left font-medium">
                      {alert.ruleName}
                      {alert.severity === "critical" ? (
                        <span className="ml-2 text-xs font-semibold text-danger uppercase">critical</span>
                      ) : (
                        <span className="ml-2 text-xs text-warning uppercase">warning</span>
                      )}
                      <span className="block text-xs font-normal text-ink-muted">{alert.summary}</span>
                    </th>
                    <td className="hidden px-3 py-2.5 sm:table-cell">
                      <Link href={`/servers/${alert.serverId}`} className="text-accent hover:underline">
                        {alert.serverName}
                      </Link>
                    </td>
                    <td className="px-3 py-2.5">
                      <span
                        className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${BADGE[alert.state] ?? ""}`}
                        title={describeState(alert.state)}
                      >
                        {alert.state}
                      </span>
                      {alert.silenced ? (
                        <span
                          className="ml-1 inline-block rounded bg-surface-muted px-2 py-0.5 text-xs text-ink-muted"
                          data-testid="alert-silenced"
                        >
                          silenced
                        </span>
                      ) : null}
                      {since ? (
                        <span className="mt-1 block text-xs text-ink-muted">
                          since {formatRelativeTime(timestampDate(since), new Date())}
                        </span>
                      ) : null}
                      <AckButton alert={alert} />
                    </td>
                    <td className="hidden max-w-96 px-3 py-2.5 text-xs text-ink-muted md:table-cell">
                      {alert.state === "resolved" ? "—" : alert.action}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
