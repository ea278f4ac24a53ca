"use client";

import { useMutation } from "@connectrpc/connect-query";
import { type Run, RunService, type RunWave } from "@ocore/proto/gen/ocore/api/v1/run_service_pb.js";
import { ActionError } from "@/components/ui/action-error";
import { Button } from "@/components/ui/button";
import { StateBadge } from "./state-badge";

/** Waves shown one per row; a longer plan shows the first ones, the open one and the last. */
const SHOWN = 12;

function visibleWaves(waves: readonly RunWave[], open: number): RunWave[] {
  if (waves.length <= SHOWN) return [...waves];
  return waves.filter((w, i) => i < SHOWN - 2 || w.number === open || i === waves.length - 1);
}

/**
 * A run's canary and waves as they go: per wave its state and counts, and, when the run is paused
 * after its canary, the button that lets it go on (ResumeRun, audited).
 */
export function RunWavesPanel({ run, waves }: { run: Run; waves: readonly RunWave[] }) {
  const resume = useMutation(RunService.method.resumeRun);
  if (waves.length <= 1 && run.canary === 0) return null;
  return (
    <section className="space-y-2" data-testid="run-waves">
      <div className="flex flex-wrap items-center gap-3">
        <h2 className="text-lg font-semibold">
          {run.canary > 0 ? "Canary and waves" : "Waves"}{" "}
          <span className="text-sm font-normal text-ink-muted">
            wave {Math.min(run.wave, run.waveCount)} of {run.waveCount} open
          </span>
        </h2>
        {run.state === "paused" ? (
          <Button
            variant="primary"
            aria-disabled={resume.isPending}
            onClick={() => resume.mutate({ id: run.id, note: "resumed from the console" })}
            data-testid="resume-run"
          >
            Resume: start wave {run.wave + 1}
          </Button>
        ) : null}
      </div>
      {resume.error ? <ActionError error={resume.error} action="resume the run" /> : null}
      <ol className="divide-y divide-line rounded-lg border border-line bg-surface">
        {visibleWaves(waves, run.wave).map((w) => {
          const ended = w.succeeded + w.failed;
          return (
            <li
              key={w.number}
              className="flex flex-wrap items-center gap-3 px-4 py-2 text-sm"
              data-testid="run-wave"
              data-state={w.state}
            >
              <span className="w-24 font-medium">{w.canary ? "Canary" : `Wave ${w.number}`}</span>
              <StateBadge state={w.state} testId="run-wave-state" />
              <span
                className="relative h-2 w-32 overflow-hidden rounded-full bg-surface-muted"
                role="img"
                aria-label={`${ended} of ${w.size} ended`}
              >
                <span
                  className="absolute inset-y-0 left-0 bg-success"
                  style={{ width: `${w.size ? (100 * w.succeeded) / w.size : 0}%` }}
                />
                <span
                  className="absolute inset-y-0 bg-danger"
                  style={{
                    left: `${w.size ? (100 * w.succeeded) / w.size : 0}%`,
                    width: `${w.size ? (100 * w.failed) / w.size : 0}%`,
                  }}
                />
              </span>
              <span className="text-ink-muted" data-testid="run-wave-counts">
                {w.size} host{w.size === 1 ? "" : "s"} · {w.succeeded} succeeded
                {w.failed ? ` · ${w.failed} failed` : ""}
                {w.running ? ` · ${w.running} running` : ""}
                {w.pending ? ` · ${w.pending} pending` : ""}
                {w.skipped ? ` · ${w.skipped} not started` : ""}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
