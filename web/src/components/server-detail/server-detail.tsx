"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useMemo, useRef } from "react";
import { LiveIndicator } from "@/components/servers/live-indicator";
import { ServerStatusBadge } from "@/components/servers/server-status-badge";
import { useLiveFleet } from "@/components/servers/use-live-fleet";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { formatStatusReason } from "@/lib/server-status";
import { parseTimeRange, type TimeRange, timeRangeSearch } from "@/lib/time-range";
import { ProvisioningPanel } from "./provisioning-panel";
import { RangePicker } from "./range-picker";
import { RemoveServer } from "./remove-server";
import { ServerAccess } from "./server-access";
import { ServerCharts } from "./server-charts";
import { ServerFacts } from "./server-facts";
import { ServerHealth } from "./server-health";

function DetailSkeleton() {
  return (
    <div role="status" aria-busy="true" data-testid="server-loading" className="space-y-4">
      <span className="sr-only">Loading the server…</span>
      <div
        aria-hidden="true"
        className="h-8 w-1/3 animate-pulse rounded bg-surface-muted motion-reduce:animate-none"
      />
      <div
        aria-hidden="true"
        className="h-32 animate-pulse rounded-lg bg-surface-muted motion-reduce:animate-none"
      />
    </div>
  );
}

/** One server: live status and facts, then its charts for the range in the URL. */
export function ServerDetail({ id }: { id: string }) {
  const router = useRouter();
  const params = useSearchParams();
  const { range, problem } = useMemo(() => parseTimeRange(params), [params]);
  const serverIds = useMemo(() => [id], [id]);
  const live = useLiveFleet({ serverIds });
  const entry = live.fleet?.get(id);
  const server = entry?.server;
  const liveAt = entry?.latest?.time ? timestampDate(entry.latest.time) : undefined;
  // Remembered so that a server removed while on screen says so instead of "not found".
  const seenName = useRef<string>(undefined);
  if (server) seenName.current = server.name;

  const setRange = (next: TimeRange) =>
    router.replace(`/servers/${id}${timeRangeSearch(next)}`, { scroll: false });

  const back = (
    <Link href="/servers" className="rounded-sm text-sm text-accent hover:underline">
      ← All servers
    </Link>
  );

  if (!live.fleet) {
    if (live.error) {
      return (
        <div className="space-y-4">
          {back}
          <ApiErrorAlert
            error={live.error}
            retrying={live.reconnecting}
            onRetry={live.retry}
            staleData={false}
            testId="server-error"
            retryTestId="server-retry"
          />
        </div>
      );
    }
    return <DetailSkeleton />;
  }
  if (!server && seenName.current) {
    return (
      <div className="space-y-4" data-testid="server-removed">
        {back}
        <h1 className="text-2xl font-semibold tracking-tight">{seenName.current} was removed</h1>
        <p className="text-ink-muted">
          Its agent, metrics and records are gone. Add it again from the list of servers if needed.
        </p>
      </div>
    );
  }
  if (!server) {
    return (
      <div className="space-y-4" data-testid="server-not-found">
        {back}
        <h1 className="text-2xl font-semibold tracking-tight">Server not found</h1>
        <p className="text-ink-muted">
          No server with this id exists, it was removed, or your roles do not let you see it. Pick one from
          the list of servers, or ask an administrator for access.
        </p>
      </div>
    );
  }

  return (
    <div className="space-y-6">
      <header className="space-y-2">
        {back}
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight" data-testid="server-title">
            {server.name}
          </h1>
          <ServerStatusBadge status={server.status} />
          <LiveIndicator live={!live.error} />
          <div className="ml-auto">
            <RemoveServer id={server.id} name={server.name} status={server.status} />
          </div>
        </div>
        {server.statusReason || server.statusMessage ? (
          <p
            className={`text-sm ${server.status === "failed" ? "text-danger" : "text-ink-muted"}`}
            data-testid="server-status-message"
          >
            {server.statusReason ? (
              <span className="font-medium">{formatStatusReason(server.statusReason)}: </span>
            ) : null}
            {server.statusMessage}
          </p>
        ) : null}
      </header>
      {server.provisioning && (server.provisioning.state !== "succeeded" || server.status !== "active") ? (
        <ProvisioningPanel
          server={server}
          changeKey={JSON.stringify([
            server.status,
            server.statusMessage,
            server.provisioning,
            server.pendingHostKeyFingerprint,
          ])}
        />
      ) : null}
      <ServerFacts server={server} now={live.receivedAt} />
      <ServerAccess server={server} />
      <ServerHealth serverId={id} />
      <section className="space-y-4" aria-labelledby="charts-heading">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="charts-heading" className="text-lg font-semibold">
            Metrics
          </h2>
          <RangePicker key={timeRangeSearch(range)} range={range} onChange={setRange} />
        </div>
        {problem ? (
          <p role="alert" className="text-sm text-danger" data-testid="range-problem">
            {problem} Showing the last hour instead; pick a range above.
          </p>
        ) : null}
        <ServerCharts serverId={id} range={range} liveAt={liveAt} />
      </section>
    </div>
  );
}
