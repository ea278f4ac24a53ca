"use client";

import { Code } from "@connectrpc/connect";
import { useMemo, useState } from "react";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { sortedFleet } from "@/lib/live-fleet";
import { matchesServerSearch } from "@/lib/server-search";
import { FleetEmptyState } from "./fleet-empty-state";
import { FleetFilters, type FleetFilterValues } from "./fleet-filters";
import { FleetSkeleton } from "./fleet-skeleton";
import { LiveIndicator } from "./live-indicator";
import { ServerTable } from "./server-table";
import { useLiveFleet } from "./use-live-fleet";

const NO_FILTERS: FleetFilterValues = { selector: "", status: "", search: "" };

/** The Fleet page's body: filters, then the servers (live), or why there are none. */
export function ServerFleet() {
  const [filters, setFilters] = useState(NO_FILTERS);
  const [selectorDraft, setSelectorDraft] = useState("");
  const live = useLiveFleet({ selector: filters.selector });
  const selectorError =
    live.error?.code === Code.InvalidArgument && filters.selector ? live.error.rawMessage : undefined;
  const otherError = live.error && !selectorError ? live.error : null;

  const all = useMemo(() => (live.fleet ? sortedFleet(live.fleet) : []), [live.fleet]);
  const entries = useMemo(
    () =>
      all.filter(
        (entry) =>
          entry.server &&
          (!filters.status || entry.server.status === filters.status) &&
          matchesServerSearch(entry.server, filters.search),
      ),
    [all, filters.status, filters.search],
  );
  const filtered = filters.selector !== "" || filters.status !== "" || filters.search.trim() !== "";

  return (
    <div className="space-y-4">
      <FleetFilters
        values={filters}
        selectorDraft={selectorDraft}
        onSelectorDraftChange={setSelectorDraft}
        onChange={setFilters}
        selectorError={selectorError}
      />
      {otherError ? (
        <ApiErrorAlert
          error={otherError}
          retrying={live.reconnecting}
          onRetry={live.retry}
          staleData={live.fleet !== undefined}
          testId="fleet-error"
          retryTestId="fleet-retry"
        />
      ) : null}
      {selectorError ? null : live.fleet ? (
        entries.length > 0 ? (
          <>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p aria-live="polite" className="text-sm text-ink-muted" data-testid="fleet-count">
                {entries.length === all.length
                  ? `${all.length} ${all.length === 1 ? "server" : "servers"}`
                  : `${entries.length} of ${all.length} servers match the filters`}
              </p>
              <LiveIndicator live={!live.error} />
            </div>
            <ServerTable entries={entries} now={live.receivedAt} />
          </>
        ) : (
          <FleetEmptyState
            filtered={filtered}
            onClearFilters={() => {
              setFilters(NO_FILTERS);
              setSelectorDraft("");
            }}
          />
        )
      ) : otherError ? null : (
        <FleetSkeleton />
      )}
    </div>
  );
}
