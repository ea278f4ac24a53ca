"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import Link from "next/link";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { runProgress } from "@/lib/template-runs";
import { StateBadge } from "./state-badge";

/** The run history, newest first; refreshed while a run in it is still going. */
export function RunsList() {
  const runs = useQuery(
    RunService.method.listRuns,
    { limit: 100 },
    {
      refetchInterval: (query) => (query.state.data?.runs.some((r) => !r.finishedAt) ? 2_000 : false),
    },
  );
  if (runs.error) {
    return (
      <ListError
        error={runs.error}
        permission="servers.read"
        retrying={runs.isFetching}
        onRetry={() => void runs.refetch()}
        testId="runs-error"
      />
    );
  }
  if (!runs.data) return <ListSkeleton label="Loading runs…" testId="runs-loading" />;
  if (runs.data.runs.length === 0) {
    return (
      <p
        className="rounded-lg border border-line bg-surface p-4 text-sm text-ink-muted"
        data-testid="runs-empty"
      >
        No run yet. Start one from an approved template.
      </p>
    );
  }
  return (
    <ul className="divide-y divide-line rounded-lg border border-line bg-surface" data-testid="run-list">
      {runs.data.runs.map((run) => (
        <li key={run.id} className="flex flex-wrap items-center gap-3 px-4 py-3" data-testid="run-row">
          <Link href={`/runs/${run.id}`} className="font-medium text-accent hover:underline">
            {run.templateName} v{run.version}
          </Link>
          <StateBadge state={run.state} />
          <span className="text-xs text-ink-muted">
            {runProgress(run)} · by {run.actor}
            {run.createdAt ? ` · ${timestampDate(run.createdAt).toLocaleString()}` : ""}
          </span>
        </li>
      ))}
    </ul>
  );
}
