"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import { useMemo, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

const OUTCOME: Record<string, string> = {
  delivered: "bg-success/10 text-success",
  failed: "bg-danger/10 text-danger",
};

/**
 * The notification outbox's delivery log (AlertService/ListDeliveries): every attempt, newest
 * first, with its channel, outcome, error and time; filtered by channel. Read again every 10 s.
 */
export function DeliveriesPage() {
  const [channelId, setChannelId] = useState("");
  const channels = useQuery(AlertService.method.listChannels, {});
  const deliveries = useQuery(
    AlertService.method.listDeliveries,
    { channelId, limit: 200 },
    { refetchInterval: 10_000 },
  );
  const names = useMemo(
    () => new Map((channels.data?.channels ?? []).map((channel) => [channel.id, channel.name])),
    [channels.data],
  );
  const refetch = () => void deliveries.refetch();
  return (
    <div className="space-y-4">
      <p className="text-ink-muted">
        Every attempt to send a notification: a failed one is retried with backoff (5 s, doubling, at most an
        hour) and never holds up the other channels.
      </p>
      <label className="block max-w-xs text-sm font-medium">
        Channel
        <select
          className="mt-1 block w-full rounded-md border border-line bg-surface px-2 py-1.5"
          value={channelId}
          onChange={(e) => setChannelId(e.target.value)}
          data-testid="delivery-channel"
        >
          <option value="">All channels</option>
          {(channels.data?.channels ?? []).map((channel) => (
            <option key={channel.id} value={channel.id}>
              {channel.name}
            </option>
          ))}
        </select>
      </label>
      {deliveries.error ? (
        <ListError
          error={deliveries.error}
          permission="alerts.manage"
          retrying={deliveries.isFetching}
          onRetry={refetch}
          testId="deliveries-error"
        />
      ) : !deliveries.data ? (
        <ListSkeleton label="Loading the delivery log…" testId="deliveries-loading" />
      ) : deliveries.data.deliveries.length === 0 ? (
        <p className="text-ink-muted" data-testid="deliveries-empty">
          Nothing sent yet.
        </p>
      ) : (
        <div className="overflow-x-auto rounded-lg border border-line bg-surface">
          <table className="w-full text-sm" data-testid="delivery-log">
            <thead>
              <tr className="border-b border-line">
                <th className={HEAD}>When</th>
                <th className={HEAD}>Channel</th>
                <th className={HEAD}>Outcome</th>
                <th className={HEAD}>Message</th>
                <th className={HEAD}>Error</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {deliveries.data.deliveries.map((delivery) => (
                <tr key={String(delivery.id)} data-testid="delivery-row">
                  <td className="px-3 py-2 whitespace-nowrap text-ink-muted">
                    {delivery.at ? timestampDate(delivery.at).toLocaleString() : ""}
                  </td>
                  <td className="px-3 py-2">{names.get(delivery.channelId) ?? delivery.channelId}</td>
                  <td className="px-3 py-2 whitespace-nowrap">
                    <span
                      className={`rounded px-2 py-0.5 text-xs ${OUTCOME[delivery.outcome] ?? "bg-warning/10 text-warning"}`}
                      data-testid="delivery-outcome"
                    >
                      {delivery.outcome}
                    </span>{" "}
                    <span className="text-xs text-ink-muted">
                      attempt {delivery.attempt}, {delivery.durationMs} ms
                    </span>
                  </td>
                  <td className="px-3 py-2">{delivery.summary}</td>
                  <td className="px-3 py-2 text-danger">{delivery.error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
