"use client";

import { useInfiniteQuery } from "@connectrpc/connect-query";
import { AuditService } from "@ocore/proto/gen/ocore/api/v1/audit_service_pb.js";
import { useRouter, useSearchParams } from "next/navigation";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { Button } from "@/components/ui/button";
import { TextField } from "@/components/ui/text-field";
import {
  type AuditFilterValues,
  auditFilterSearch,
  NO_AUDIT_FILTERS,
  parseAuditFilters,
} from "@/lib/audit-filters";
import { followStart, mergeAuditEntries } from "@/lib/audit-live";
import { toLocalInput } from "@/lib/time-range";
import { AuditEntryRow } from "./audit-entry-row";
import { AuditLiveControl } from "./audit-live-control";
import { auditFilterMessage, ExportLog, VerifyChain } from "./audit-tools";
import { ListError, ListSkeleton } from "./query-state";
import { useAuditFollow } from "./use-audit-follow";

const PAGE_SIZE = 100;

const fromLocal = (value: string) => (value ? new Date(value).toISOString() : "");
const toLocal = (value: string) => (value ? toLocalInput(new Date(value)) : "");

/**
 * The audit log: filters (kept in the URL), newest entries first and new ones as they are written
 * (pausable), older pages on demand, export and verification.
 */
export function AuditLog() {
  const router = useRouter();
  const params = useSearchParams();
  const filters = useMemo(() => parseAuditFilters(params), [params]);
  const [draft, setDraft] = useState<AuditFilterValues>(filters);
  useEffect(() => setDraft(filters), [filters]);

  const entries = useInfiniteQuery(
    AuditService.method.listAuditEntries,
    { filter: auditFilterMessage(filters), limit: PAGE_SIZE, beforeId: 0n },
    {
      pageParamKey: "beforeId",
      getNextPageParam: (page) => (page.entries.length < PAGE_SIZE ? undefined : page.entries.at(-1)?.id),
    },
  );
  const firstPage = entries.data?.pages[0];
  const [paused, setPaused] = useState(false);
  const live = useAuditFollow(filters, firstPage ? followStart(firstPage) : undefined, paused);
  const listed = useMemo(() => entries.data?.pages.flatMap((page) => page.entries) ?? [], [entries.data]);
  const rows = useMemo(() => mergeAuditEntries(live.entries, listed), [live.entries, listed]);
  const filtered = auditFilterSearch(filters) !== "";

  const apply = (values: AuditFilterValues) => {
    const search = auditFilterSearch(values).slice(1);
    router.replace(search ? `/admin/audit?${search}` : "/admin/audit", { scroll: false });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply({ ...draft, actor: draft.actor.trim(), action: draft.action.trim(), target: draft.target.trim() });
  };
  const field = (key: "actor" | "action" | "target") => ({
    value: draft[key],
    onChange: (event: { target: { value: string } }) => setDraft({ ...draft, [key]: event.target.value }),
  });

  return (
    <div className="space-y-4">
      <form
        onSubmit={submit}
        className="grid gap-3 rounded-lg border border-line bg-surface p-4 sm:grid-cols-3 lg:grid-cols-5 lg:items-start"
        data-testid="audit-filters"
      >
        <TextField
          label="Actor"
          placeholder="username or token"
          {...field("actor")}
          data-testid="filter-actor"
        />
        <TextField
          label="Action"
          placeholder="e.g. server.update"
          {...field("action")}
          data-testid="filter-action"
        />
        <TextField label="Target" placeholder="e.g. a server or user id" {...field("target")} />
        <TextField
          label="Since"
          type="datetime-local"
          value={toLocal(draft.since)}
          onChange={(event) => setDraft({ ...draft, since: fromLocal(event.target.value) })}
        />
        <TextField
          label="Until"
          type="datetime-local"
          value={toLocal(draft.until)}
          onChange={(event) => setDraft({ ...draft, until: fromLocal(event.target.value) })}
        />
        <div className="flex gap-2 sm:col-span-3 lg:col-span-5">
          <Button type="submit" variant="primary" data-testid="apply-filters">
            Apply filters
          </Button>
          {filtered ? <Button onClick={() => apply(NO_AUDIT_FILTERS)}>Clear</Button> : null}
        </div>
      </form>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <VerifyChain />
        <ExportLog filters={filters} />
      </div>
      {/* Following starts from the list's end: without a list there is nothing to follow. */}
      {entries.error ? null : (
        <div className="flex flex-wrap items-center justify-between gap-2">
          <AuditLiveControl state={live.state} paused={paused} onToggle={() => setPaused(!paused)} />
          {live.error && live.state !== "live" ? (
            <p className="text-xs text-ink-muted" data-testid="audit-live-error">
              {live.state === "failed"
                ? `New entries cannot be followed: ${live.error.rawMessage}`
                : "The live connection dropped; retrying. The list below stays as it was."}
            </p>
          ) : null}
        </div>
      )}
      {entries.error ? (
        <ListError
          error={entries.error}
          permission="audit.read"
          retrying={entries.isFetching}
          onRetry={() => void entries.refetch()}
          testId="audit-error"
        />
      ) : !entries.data ? (
        <ListSkeleton label="Loading the audit log…" testId="audit-loading" />
      ) : rows.length === 0 ? (
        <p
          className="rounded-lg border border-dashed border-line bg-surface p-4 text-sm text-ink-muted"
          data-testid="audit-empty"
        >
          {filtered
            ? "No entry matches these filters. Loosen or clear them."
            : "No entries yet. Every change made through oCore will be recorded here."}
        </p>
      ) : (
        <>
          <ul
            className="divide-y divide-line overflow-hidden rounded-lg border border-line bg-surface"
            data-testid="audit-list"
          >
            {rows.map((entry) => (
              <AuditEntryRow key={entry.id.toString()} entry={entry} />
            ))}
          </ul>
          {entries.hasNextPage ? (
            <Button onClick={() => void entries.fetchNextPage()} aria-disabled={entries.isFetchingNextPage}>
              {entries.isFetchingNextPage ? "Loading…" : "Load older entries"}
            </Button>
          ) : (
            <p className="text-sm text-ink-muted">
              That is the oldest entry{filtered ? " matching the filters" : ""}.
            </p>
          )}
        </>
      )}
    </div>
  );
}
