"use client";

import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useMutation } from "@connectrpc/connect-query";
import { RunService } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ListError, ListSkeleton } from "@/components/admin/query-state";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { runProgress } from "@/lib/template-runs";
import { RunWavesPanel } from "./run-waves-panel";
import { StateBadge } from "./state-badge";
import { useLiveRun } from "./use-live-run";

/**
 * A run as it goes: counts, its canary and waves (resume after a paused canary), per-host state
 * and output (live), grouped outputs, stop and re-run.
 */
export function RunView({ id }: { id: string }) {
  const router = useRouter();
  const live = useLiveRun(id);
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation(RunService.method.cancelRun, { onSuccess: () => setConfirming(false) });
  const rerun = useMutation(RunService.method.rerunFailed, {
    onSuccess: (r) => router.push(`/runs/${r.run?.id ?? ""}`),
  });
  if (!live.snapshot) {
    return live.error && live.state === "failed" ? (
      <ListError
        error={live.error}
        permission="servers.read"
        retrying={false}
        onRetry={() => router.refresh()}
      />
    ) : (
      <ListSkeleton label="Loading the run…" />
    );
  }
  const { run, hosts, groups, waves } = live.snapshot;
  if (!run) return null;
  const running = !run.finishedAt;
  return (
    <div className="space-y-6">
      <header className="space-y-1">
        <Link href="/runs" className="text-sm text-accent hover:underline">
          ← Runs
        </Link>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight">
            {run.templateName} <span className="text-ink-muted">v{run.version}</span>
          </h1>
          <StateBadge state={run.state} testId="run-state" />
          <span className="text-xs text-ink-muted" data-testid="run-live" data-state={live.state}>
            {live.state === "live" ? "live" : live.state === "reconnecting" ? "reconnecting…" : ""}
          </span>
          <div className="ml-auto flex gap-2">
            {running ? (
              <Button variant="danger" onClick={() => setConfirming(true)} data-testid="stop-run">
                Stop
              </Button>
            ) : run.failed > 0 ? (
              <Button
                aria-disabled={rerun.isPending}
                onClick={() => rerun.mutate({ id: run.id })}
                data-testid="rerun-failed"
              >
                Re-run on the {run.failed} failed host{run.failed === 1 ? "" : "s"}
              </Button>
            ) : null}
          </div>
        </div>
        <p className="text-sm" data-testid="run-progress">
          {runProgress(run)}
        </p>
        <p className="text-xs text-ink-muted">
          by {run.actor}
          {run.createdAt ? ` · ${timestampDate(run.createdAt).toLocaleString()}` : ""} · concurrency{" "}
          {run.concurrency} · max errors {run.maxErrors}
          {run.canary ? ` · canary ${run.canary}${run.canaryPause ? " then pause" : ""}` : ""} · hash{" "}
          <code className="font-mono">{run.versionHash.slice(0, 12)}</code>
          {Object.keys(run.parameters).length
            ? ` · ${Object.entries(run.parameters)
                .map(([k, v]) => `${k}=${v}`)
                .join(" ")}`
            : ""}
          {run.rerunOf ? (
            <>
              {" · re-run of "}
              <Link href={`/runs/${run.rerunOf}`} className="text-accent hover:underline">
                an earlier run
              </Link>
            </>
          ) : null}
        </p>
        {run.stopReason ? (
          <p
            className={run.state === "paused" ? "text-sm" : "text-sm text-danger"}
            data-testid="run-stop-reason"
          >
            {run.stopReason}
          </p>
        ) : null}
        {cancel.error ? <ActionError error={cancel.error} action="stop the run" /> : null}
        {rerun.error ? <ActionError error={rerun.error} action="re-run the failed hosts" /> : null}
      </header>

      <RunWavesPanel run={run} waves={waves} />

      {groups.length ? (
        <section className="space-y-2">
          <h2 className="text-lg font-semibold">Outputs, grouped</h2>
          <ul className="space-y-2" data-testid="run-groups">
            {groups.map((g) => (
              <li
                key={`${g.state}:${g.exitCode}:${g.serverNames[0] ?? ""}`}
                className="space-y-1 rounded-lg border border-line bg-surface p-3"
                data-testid="run-group"
              >
                <p className="text-sm">
                  <StateBadge state={g.state} />{" "}
                  <strong>
                    {g.count} host{g.count === 1 ? "" : "s"}
                  </strong>
                  {g.state !== "succeeded" ? ` (exit ${g.exitCode})` : ""}:{" "}
                  {g.serverNames.slice(0, 10).join(", ")}
                  {g.serverNames.length > 10 ? ` and ${g.serverNames.length - 10} more` : ""}
                </p>
                <pre className="max-h-48 overflow-auto rounded bg-surface-muted p-2 font-mono text-xs whitespace-pre-wrap">
                  {g.output || "(no output)"}
                </pre>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      <section className="space-y-2">
        <h2 className="text-lg font-semibold">Hosts</h2>
        <ul className="divide-y divide-line rounded-lg border border-line bg-surface" data-testid="run-hosts">
          {hosts.map((h) => (
            <li key={h.serverId} className="space-y-1 px-4 py-2" data-testid="run-host" data-state={h.state}>
              <div className="flex flex-wrap items-center gap-3">
                <span className="font-medium">{h.serverName}</span>
                <StateBadge state={h.state} testId="run-host-state" />
                <span className="text-xs text-ink-muted">
                  {h.order ? `#${h.order}` : ""}
                  {h.durationMs ? ` · ${(h.durationMs / 1000).toFixed(1)} s` : ""}
                  {h.sandbox ? ` · sandbox ${h.sandbox}` : ""}
                  {h.state !== "pending" &&
                  h.state !== "running" &&
                  h.state !== "refused" &&
                  h.state !== "skipped"
                    ? ` · exit ${h.exitCode}`
                    : ""}
                </span>
              </div>
              {h.reason ? <p className="text-sm text-danger">{h.reason}</p> : null}
              {h.output ? (
                <pre
                  className="max-h-48 overflow-auto rounded bg-surface-muted p-2 font-mono text-xs whitespace-pre-wrap"
                  data-testid="run-host-output"
                >
                  {h.output}
                </pre>
              ) : null}
            </li>
          ))}
        </ul>
      </section>

      <ConfirmDialog
        open={confirming}
        title="Stop this run?"
        confirmLabel="Stop the run"
        busy={cancel.isPending}
        onConfirm={() => cancel.mutate({ id: run.id, reason: "stopped from the console" })}
        onCancel={() => setConfirming(false)}
      >
        <p>Pending hosts will not start; running ones are signalled to stop.</p>
      </ConfirmDialog>
    </div>
  );
}
