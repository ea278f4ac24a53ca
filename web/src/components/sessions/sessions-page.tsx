"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { type SshSession, SshSessionService } from "@ocore/proto/gen/ocore/api/v1/ssh_session_service_pb.js";
import Link from "next/link";
import { type FormEvent, useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { formatRelativeTime } from "@/lib/relative-time";
import { describeOutcome, formatBytes, formatElapsed, searchable } from "@/lib/ssh-sessions";

const HEAD = "px-3 py-2 text-left text-xs font-medium tracking-wide text-ink-muted uppercase";

/**
 * SSH sessions through the gateway, newest first, read again every 5 seconds: who, where, as
 * which login, since when, how it ended; live ones can be ended. A search over what the
 * recordings printed (and typed, when input is recorded) replaces the list while it is on.
 */
export function SessionsPage() {
  const [liveOnly, setLiveOnly] = useState(false);
  const [pageTokens, setPageTokens] = useState<string[]>([""]);
  const [draft, setDraft] = useState("");
  const [query, setQuery] = useState("");
  const pageToken = pageTokens[pageTokens.length - 1] ?? "";
  const list = useQuery(
    SshSessionService.method.listSessions,
    { liveOnly, pageSize: 50, pageToken },
    { refetchInterval: 5_000, enabled: query === "" },
  );
  const search = useQuery(
    SshSessionService.method.searchRecordings,
    { query, limit: 50 },
    { enabled: query !== "" },
  );
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    setQuery(searchable(draft) ? draft.trim() : "");
  };

  return (
    <div className="space-y-4">
      <search>
        <form onSubmit={onSearch} className="flex flex-wrap items-center gap-2 text-sm">
          <label htmlFor="session-search" className="sr-only">
            Search recordings
          </label>
          <input
            id="session-search"
            type="search"
            value={draft}
            onChange={(event) => {
              setDraft(event.target.value);
              if (event.target.value === "") setQuery("");
            }}
            placeholder="Search what was printed or typed (3+ characters)"
            className="w-80 max-w-full rounded-md border border-line bg-surface px-3 py-1.5"
            data-testid="session-search"
          />
          <Button type="submit" data-testid="session-search-submit">
            Search
          </Button>
          {query === "" ? (
            <label className="ml-2 flex items-center gap-2">
              <input
                type="checkbox"
                checked={liveOnly}
                onChange={(event) => {
                  setLiveOnly(event.target.checked);
                  setPageTokens([""]);
                }}
                data-testid="live-only"
              />
              Live sessions only
            </label>
          ) : (
            <span className="text-ink-muted" data-testid="search-summary">
              Sessions whose recording shows “{query}”
            </span>
          )}
        </form>
      </search>
      {query !== "" ? (
        search.error ? (
          <ListError
            error={search.error}
            permission="sessions.read"
            retrying={search.isFetching}
            onRetry={() => void search.refetch()}
            testId="sessions-error"
          />
        ) : !search.data ? (
          <ListSkeleton label="Searching…" testId="sessions-loading" />
        ) : (
          <SessionTable
            sessions={search.data.hits.flatMap((hit) => (hit.session ? [hit.session] : []))}
            snippets={new Map(search.data.hits.map((hit) => [hit.session?.id ?? "", hit.snippet]))}
            empty={`No recording shows “${query}”.`}
            onEnded={() => void search.refetch()}
          />
        )
      ) : list.error ? (
        <ListError
          error={list.error}
          permission="sessions.read"
          retrying={list.isFetching}
          onRetry={() => void list.refetch()}
          testId="sessions-error"
        />
      ) : !list.data ? (
        <ListSkeleton label="Loading sessions…" testId="sessions-loading" />
      ) : (
        <>
          <SessionTable
            sessions={list.data.sessions}
            empty={
              liveOnly
                ? "Nobody is connected right now."
                : "No SSH session yet. Sessions through the gateway and the web terminal appear here, recorded."
            }
            onEnded={() => void list.refetch()}
          />
          <div className="flex gap-2">
            {pageTokens.length > 1 ? (
              <Button onClick={() => setPageTokens(pageTokens.slice(0, -1))} data-testid="sessions-newer">
                Newer
              </Button>
            ) : null}
            {list.data.nextPageToken ? (
              <Button
                onClick={() => setPageTokens([...pageTokens, list.data.nextPageToken])}
                data-testid="sessions-older"
              >
                Older
              </Button>
            ) : null}
          </div>
        </>
      )}
    </div>
  );
}

function SessionTable({
  sessions,
  snippets,
  empty,
  onEnded,
}: {
  sessions: readonly SshSession[];
  snippets?: ReadonlyMap<string, string>;
  empty: string;
  onEnded: () => void;
}) {
  if (sessions.length === 0) {
    return (
      <p
        className="rounded-lg border border-dashed border-line bg-surface p-6 text-center text-sm text-ink-muted"
        data-testid="sessions-empty"
      >
        {empty}
      </p>
    );
  }
  const now = new Date();
  return (
    <div className="overflow-x-auto rounded-lg border border-line bg-surface">
      <table className="w-full text-sm" data-testid="session-table">
        <thead className="border-b border-line bg-surface-muted">
          <tr>
            <th scope="col" className={HEAD}>
              Who and where
            </th>
            <th scope="col" className={HEAD}>
              Started
            </th>
            <th scope="col" className={`${HEAD} hidden md:table-cell`}>
              Duration · traffic
            </th>
            <th scope="col" className={HEAD}>
              Outcome
            </th>
            <th scope="col" className={HEAD}>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-line">
          {sessions.map((session) => (
            <tr key={session.id} data-testid="session-row" className="align-top">
              <th scope="row" className="px-3 py-2.5 text-left font-medium">
                {session.username} → {session.serverName}
                <span className="block text-xs font-normal text-ink-muted">
                  as {session.login} · {session.kind}
                  {session.command ? ` · ${session.command}` : ""} · from {session.clientAddress || "?"}
                </span>
                {snippets?.get(session.id) ? (
                  <code className="mt-1 block text-xs font-normal break-all" data-testid="session-snippet">
                    {snippets.get(session.id)}
                  </code>
                ) : null}
              </th>
              <td className="px-3 py-2.5 whitespace-nowrap">
                {session.startedAt ? formatRelativeTime(timestampDate(session.startedAt), now) : "—"}
              </td>
              <td className="hidden px-3 py-2.5 text-ink-muted md:table-cell">
                {formatElapsed(session.durationMs)} · ↑{formatBytes(session.bytesIn)} ↓
                {formatBytes(session.bytesOut)}
              </td>
              <td className="px-3 py-2.5">
                <span
                  className={`inline-block rounded px-2 py-0.5 text-xs font-medium ${
                    session.live ? "bg-success/10 text-success" : "bg-surface-muted text-ink-muted"
                  }`}
                  data-testid="session-outcome"
                >
                  {describeOutcome(session)}
                </span>
              </td>
              <td className="px-3 py-2.5 text-right whitespace-nowrap">
                <Link
                  href={`/sessions/${session.id}`}
                  className="text-accent hover:underline"
                  data-testid="session-replay"
                >
                  Replay
                </Link>
                {session.live ? <EndSessionButton id={session.id} onEnded={onEnded} /> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EndSessionButton({ id, onEnded }: { id: string; onEnded: () => void }) {
  const [error, setError] = useState<ConnectError>();
  const [elsewhere, setElsewhere] = useState(false);
  const end = useMutation(SshSessionService.method.endSession, {
    onSuccess: (answer) => {
      setElsewhere(!answer.endedHere);
      onEnded();
    },
    onError: (caught) => setError(ConnectError.from(caught)),
  });
  return (
    <span className="ml-3 inline-block">
      <Button
        variant="danger"
        onClick={end.isPending ? undefined : () => end.mutate({ id })}
        aria-disabled={end.isPending}
        data-testid="session-end"
      >
        {end.isPending ? "Ending…" : "End"}
      </Button>
      {error ? <ActionError error={error} action="end the session" testId="session-end-error" /> : null}
      {elsewhere ? (
        <span role="status" className="block text-xs text-ink-muted" data-testid="session-ending">
          Ending: another replica holds it and ends it within seconds.
        </span>
      ) : null}
    </span>
  );
}
