"use client";

import { Code } from "@connectrpc/connect";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { Button } from "@/components/ui/button";
import { DEFAULT_FLEET_VIEW, type FleetView, fleetViewSearch, parseFleetView } from "@/lib/fleet-url";
import { windowEntries } from "@/lib/live-fleet";
import { FleetBulkTags, type MatchingFilter } from "./fleet-bulk-tags";
import { FleetEmptyState } from "./fleet-empty-state";
import { FleetFilters } from "./fleet-filters";
import { FleetSkeleton } from "./fleet-skeleton";
import { FleetStatusCounts } from "./fleet-status-counts";
import { LiveIndicator } from "./live-indicator";
import { RunOnSelection } from "./run-on-selection";
import { ServerTable } from "./server-table";
import { useLiveFleet } from "./use-live-fleet";

/** Servers per page: what a screen shows, whatever the fleet's size. */
const PAGE_SIZE = 50;

/**
 * The Fleet page's body: filters, sort and page in the URL; one page of servers (searched,
 * filtered, sorted and counted by the server) followed live through WatchFleet's window.
 */
export function ServerFleet() {
  const router = useRouter();
  const params = useSearchParams();
  const view = useMemo(() => parseFleetView(params), [params]);
  const [selectorDraft, setSelectorDraft] = useState(view.selector);
  useEffect(() => setSelectorDraft(view.selector), [view.selector]);
  /**
   * Servers ticked for "Run on these" and the bulk tag change (ids; kept across pages, cleared
   * by a new filter, which the bulk change would narrow them by).
   */
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string, on: boolean) =>
    setSelected((all) => {
      const next = new Set(all);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
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
    setSelected(new Set());
    show({ ...view, ...next, page: "" });
  };

  // One page, followed live: the stream's first message is the page with its counts, later ones
  // only what changed on it (servers, order, next page, counts). No polling, whatever the fleet's size.
  const live = useLiveFleet({
    window: {
      query: view.search.trim(),
      statuses: view.status ? [view.status] : [],
      selector: view.selector,
      orderBy: view.sort,
      pageSize: PAGE_SIZE,
      pageToken: view.page,
    },
    keepPrevious: true,
  });
  const listError = live.error;
  const selectorError =
    listError?.code === Code.InvalidArgument && /^(window\.)?selector/.test(listError.rawMessage)
      ? listError.rawMessage
      : undefined;
  const pageError = listError?.code === Code.InvalidArgument && /page_token/.test(listError.rawMessage);
  const page = live.window;
  const entries = useMemo(() => windowEntries(live.fleet, page), [live.fleet, page]);
  const filtered = view.search.trim() !== "" || view.status !== "" || view.selector !== "";
  const total = page?.totalSize ?? 0;
  const first = trail.length === 0 && !view.page;
  const matching: MatchingFilter = {
    query: view.search.trim(),
    statuses: view.status ? [view.status] : [],
    selector: view.selector,
  };

  return (
    <div className="space-y-4">
      <FleetFilters
        values={view}
        selectorDraft={selectorDraft}
        onSelectorDraftChange={setSelectorDraft}
        onChange={filter}
        selectorError={selectorError}
      />
      {page ? (
        <FleetStatusCounts
          counts={page.statusCounts}
          selected={view.status}
          onSelect={(status) => filter({ status })}
        />
      ) : null}
      {listError && !selectorError ? (
        <ApiErrorAlert
          error={listError}
          retrying={false}
          onRetry={() => (pageError ? filter({}) : live.retry())}
          staleData={page !== undefined}
          testId="fleet-error"
          retryTestId="fleet-retry"
        />
      ) : null}
      {selectorError ? null : page ? (
        entries.length > 0 ? (
          <>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p aria-live="polite" className="text-sm text-ink-muted" data-testid="fleet-count">
                {filtered
                  ? `${total.toLocaleString("en")} ${total === 1 ? "server matches" : "servers match"} the filters`
                  : `${total.toLocaleString("en")} ${total === 1 ? "server" : "servers"}`}
              </p>
              <LiveIndicator live={!live.error} />
            </div>
            <RunOnSelection selected={[...selected]} onClear={() => setSelected(new Set())} />
            <FleetBulkTags
              key={JSON.stringify([matching, [...selected]])}
              filter={matching}
              total={total}
              picked={[...selected]}
              onClearPicked={() => setSelected(new Set())}
            />
            <ServerTable entries={entries} now={live.receivedAt} selected={selected} onToggle={toggle} />
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
                disabled={!page.nextPageToken}
                onClick={() => {
                  setTrail([...trail, view.page]);
                  show({ ...view, page: page.nextPageToken }, "push");
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
