import type { RunHostState } from "../../platform/db/schema/templates.js";

/** One wave of a run as the console shows it. */
export interface WaveProgress {
  /** From 1, in order. */
  readonly number: number;
  /** Whether it is the canary. */
  readonly canary: boolean;
  /** Hosts planned in it. */
  readonly size: number;
  /**
   * "waiting" (not opened), "running" (open, hosts pending or running), "paused" (the canary
   * succeeded and the run waits for a resume), "done" (all its hosts ended), "skipped" (the run
   * stopped or was cancelled before it).
   */
  readonly state: "waiting" | "running" | "paused" | "done" | "skipped";
  readonly succeeded: number;
  /** Failed, timed out or unreachable. */
  readonly failed: number;
  readonly running: number;
  readonly pending: number;
  /** Skipped or cancelled before they started. */
  readonly skipped: number;
}

const FAILED: readonly RunHostState[] = ["failed", "timed_out", "unreachable"];

/**
 * Per-wave counts of a run's visible hosts (refused hosts are in no wave). A run without a plan
 * (older runs) is one wave of all its hosts.
 */
export function waveProgress(
  run: {
    readonly state: string;
    readonly wave: number;
    readonly canary: number;
    readonly waveSizes: readonly number[];
  },
  hosts: ReadonlyArray<{ readonly state: RunHostState; readonly wave: number }>,
): WaveProgress[] {
  const runnable = hosts.filter((h) => h.state !== "refused");
  const sizes = run.waveSizes.length > 0 ? run.waveSizes : [runnable.length];
  return sizes.map((size, index) => {
    const count = { succeeded: 0, failed: 0, running: 0, pending: 0, skipped: 0 };
    for (const host of runnable) {
      if (host.wave !== index) continue;
      if (host.state === "succeeded") count.succeeded += 1;
      else if (FAILED.includes(host.state)) count.failed += 1;
      else if (host.state === "running") count.running += 1;
      else if (host.state === "pending" || host.state === "dispatching") count.pending += 1;
      else count.skipped += 1;
    }
    const ended = count.succeeded + count.failed;
    const state: WaveProgress["state"] =
      count.running > 0 || (index === run.wave && run.state === "running" && count.pending > 0)
        ? "running"
        : index === run.wave && run.state === "paused"
          ? "paused"
          : count.pending > 0
            ? "waiting"
            : count.skipped > 0 && ended === 0
              ? "skipped"
              : "done";
    return { number: index + 1, canary: run.canary > 0 && index === 0, size, ...count, state };
  });
}
