"use client";

import { Code, type ConnectError } from "@connectrpc/connect";
import { useQuery } from "@connectrpc/connect-query";
import { ServerService } from "@ocore/proto/gen/ocore/api/v1/server_service_pb.js";
import { keepPreviousData } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ApiErrorAlert } from "@/components/system/api-error-alert";
import { matchesServerSearch } from "@/lib/server-search";
import { FleetEmptyState } from "./fleet-empty-state";
import { FleetFilters, type FleetFilterValues } from "./fleet-filters";
import { FleetSkeleton } from "./fleet-skeleton";
import { ServerTable } from "./server-table";

const NO_FILTERS: FleetFilterValues = { selector: "", status: "", search: "" };

// A refused selector will be refused again; other errors get the client's one quick retry.
const retryUnlessInvalid = (failures: number, error: ConnectError) =>
  error.code !== Code.InvalidArgument && failures < 1;

/** The Fleet page's body: filters, then the servers, or why there are none. */
export function ServerFleet() {
  const [filters, setFilters] = useState(NO_FILTERS);
  const [selectorDraft, setSelectorDraft] = useState("");
  const list = useQuery(
    ServerService.method.listServers,
    { selector: filters.selector, statuses: filters.status ? [filters.status] : [] },
    { placeholderData: keepPreviousData, retry: retryUnlessInvalid },
  );
  const selectorError =
    list.error?.code === Code.InvalidArgument && filters.selector ? list.error.rawMessage : undefined;
  const otherError = list.error && !selectorError ? list.error : null;

  const servers = useMemo(
    () => (list.data?.servers ?? []).filter((server) => matchesServerSearch(server, filters.search)),
    [list.data, filters.search],
  );
  const total = list.data?.servers.length ?? 0;
  const filtered = filters.selector !== "" || filters.status !== "" || filters.search.trim() !== "";

  return (
    <div className="space-y-4">
      <FleetFilters
        values={filters}
        selectorDraft={selectorDraft}
        onSelectorDraftChange={setSelectorDraft}
        onChange={setFilters}
        selectorError={selectorError}
        refreshing={list.isFetching}
        onRefresh={() => void list.refetch()}
      />
      {otherError ? (
        <ApiErrorAlert
          error={otherError}
          retrying={list.isFetching}
          onRetry={() => void list.refetch()}
          staleData={list.data !== undefined}
          testId="fleet-error"
          retryTestId="fleet-retry"
        />
      ) : null}
      {selectorError ? null : list.data ? (
        servers.length > 0 ? (
          <>
            <p aria-live="polite" className="text-sm text-ink-muted" data-testid="fleet-count">
              {servers.length === total
                ? `${total} ${total === 1 ? "server" : "servers"}`
                : `${servers.length} of ${total} servers match the search`}
            </p>
            <ServerTable servers={servers} now={new Date(list.dataUpdatedAt)} />
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
