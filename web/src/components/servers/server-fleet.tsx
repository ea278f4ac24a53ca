"use client";

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { type FleetServer, FleetServerSchema } from "@ocore/proto/gen/ocore/api/v1/fleet_service_pb.js";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { keepPreviousData } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { Button } from "@/components/ui/button";
import { DEFAULT_FLEET_VIEW, type FleetView, fleetViewSearch, parseFleetView } from "@/lib/fleet-url";
import { FleetEmptyState } from "./fleet-empty-state";
import { FleetFilters } from "./fleet-filters";
import { FleetSkeleton } from "./fleet-skeleton";
import { FleetStatusCounts } from "./fleet-status-counts";
import { LiveIndicator } from "./live-indicator";
import { ServerTable } from "./server-table";
import { useLiveFleet } from "./use-live-fleet";

/** Servers per page: what a screen shows, whatever the fleet's size. */
const PAGE_SIZE = 50;
/** The page and the counts are read again this often, for servers added or removed meanwhile. */
const REFRESH_MS = 5_000;

/**
 * The Fleet page's body: filters, sort and page in the URL; one page of servers read from
 * ListServers (searched, filtered, sorted and counted by the server), and only the servers on
 * screen followed live through WatchFleet.
 */
export function ServerFleet() {
  const router = useRouter();
  const params = useSearchParams();
  const view = useMemo(() => parseFleetView(params), [params]);
  const [selectorDraft, setSelectorDraft] = useState(view.selector);
  useEffect(() => setSelectorDraft(view.selector), [view.selector]);
  /** Tokens of the pages before this one, for "Previous" (a shared link starts a new trail). */
  const [trail, setTrail] = useState<string[]>([]);

  const show = (next: FleetView, mode: "push" | "replace" = "replace") => {
    const search = fleetViewSearch(next).slice(1);
    const url = search ? (`/servers?${search}` as const) : ("/servers" as const);
    if (mode === "push") router.push(url, { scroll: false });
    else router.replace(url, { scroll: false });
  };
  const filter = (next: Partial<FleetView>) => {
    setTrail([]);
    show({ ...view, ...next, page: "" });
  };

  const list = useQuery(
    ServerService.method.listServers,
    {
      query: view.search.trim(),
      statuses: view.status ? [view.status] : [],
      selector: view.selector,
      orderBy: view.sort,
      pageSize: PAGE_SIZE,
      pageToken: view.page,
    },
    { placeholderData: keepPreviousData, refetchInterval: REFRESH_MS, retry: false },
  );
  const listError = list.error ? ConnectError.from(list.error) : undefined;
  const selectorError =
    listError?.code === Code.InvalidArgument && listError.rawMessage.startsWith("selector")
      ? listError.rawMessage
      : undefined;
  const pageError = listError?.code === Code.InvalidArgument && listError.rawMessage.startsWith("page_token");

  const servers = list.data?.servers ?? [];
  const ids = servers.map((server) => server.id);
  const live = useLiveFleet({ serverIds: ids, enabled: ids.length > 0 });
  const entries = useMemo(
    (): FleetServer[] =>
      servers.map((server) => {
        const followed = live.fleet?.get(server.id);
        return followed?.server ? followed : create(FleetServerSchema, { server });
      }),
    [servers, live.fleet],
  );
  const filtered = view.search.trim() !== "" || view.status !== "" || view.selector !== "";
  const total = list.data?.totalSize ?? 0;
  const first = trail.length === 0 && !view.page;

  return (
    <div className="space-y-4">
      <FleetFilters
        values={view}
        selectorDraft={selectorDraft}
        onSelectorDraftChange={setSelectorDraft}
        onChange={filter}
        selectorError={selectorError}
      />
      {list.data ? (
        <FleetStatusCounts
          counts={list.data.statusCounts}
          selected={view.status}
          onSelect={(status) => filter({ status })}
        />
      ) : null}
      {listError && !selectorError ? (
        <ApiErrorAlert
          error={listError}
          retrying={false}
          onRetry={() => (pageError ? filter({}) : void list.refetch())}
          staleData={list.data !== undefined}
          testId="fleet-error"
          retryTestId="fleet-retry"
        />
      ) : null}
      {selectorError ? null : list.data ? (
        entries.length > 0 ? (
          <>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p aria-live="polite" className="text-sm text-ink-muted" data-testid="fleet-count">
                {filtered
                  ? `${total.toLocaleString("en")} ${total === 1 ? "server matches" : "servers match"} the filters`
                  : `${total.toLocaleString("en")} ${total === 1 ? "server" : "servers"}`}
              </p>
              <LiveIndicator live={!live.error && !listError} />
            </div>
            <ServerTable entries={entries} now={live.receivedAt} />
            <nav className="flex items-center justify-end gap-2" aria-label="Pages">
              <Button
                data-testid="page-previous"
                disabled={first}
                onClick={() => {
                  setTrail(trail.slice(0, -1));
                  show({ ...view, page: trail.at(-1) ?? "" }, "push");
                }}
              >
                Previous
              </Button>
              <Button
                data-testid="page-next"
                disabled={!list.data.nextPageToken}
                onClick={() => {
                  setTrail([...trail, view.page]);
                  show({ ...view, page: list.data?.nextPageToken ?? "" }, "push");
                }}
              >
                Next
              </Button>
            </nav>
          </>
        ) : (
          <FleetEmptyState
            filtered={filtered}
            onClearFilters={() => {
              setSelectorDraft("");
              setTrail([]);
              show(DEFAULT_FLEET_VIEW);
            }}
          />
        )
      ) : listError ? null : (
        <FleetSkeleton />
      )}
    </div>
  );
}
