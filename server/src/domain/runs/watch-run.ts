import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { readOutput } from "../commands/command-output.js";
import { RUN_OUTPUT_BYTES } from "./record-outcomes.js";
import { ALL_HOSTS, getRun, type RunHostRow } from "./run-queries.js";

/** Running hosts whose output so far is read per snapshot (the rest show theirs when they end). */
export const LIVE_OUTPUT_HOSTS = 20;

/**
 * What changes when a run changes, in one small query: the run's state and end, and per host state
 * the count and the output bytes so far (of the hosts' commands, which grow while they run).
 * Watching compares this and re-reads the whole run only when it differs.
 */
export async function runSignature(db: Db, runId: string): Promise<string> {
  const rows = rowsOf<{ state: string; n: number; bytes: string | number | null }>(
    await db.execute(sql`select h.state, count(*)::int as n, coalesce(sum(c.output_bytes), 0)::bigint as bytes
      from command_run_hosts h left join commands c on c.id = h.command_id
      where h.run_id = ${runId} group by h.state order by h.state`),
  );
  const run = rowsOf<{ state: string; finished_at: unknown; wave: number }>(
    await db.execute(sql`select state, finished_at, wave from command_runs where id = ${runId}`),
  );
  return JSON.stringify([
    run[0]?.state,
    run[0]?.wave,
    String(run[0]?.finished_at ?? ""),
    rows.map((r) => [r.state, r.n, String(r.bytes)]),
  ]);
}

/** The output a running host wrote so far (stdout and stderr in order, at most RUN_OUTPUT_BYTES). */
async function outputSoFar(db: Db, commandId: string): Promise<{ output: string; bytes: number }> {
  const parts: Buffer[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of readOutput(db, commandId)) {
    if (chunk.stream === 3) continue;
    total += chunk.data.byteLength;
    if (kept < RUN_OUTPUT_BYTES) {
      const part = Buffer.from(chunk.data).subarray(0, RUN_OUTPUT_BYTES - kept);
      parts.push(part);
      kept += part.byteLength;
    }
  }
  return { output: Buffer.concat(parts).toString("utf8"), bytes: total };
}

/** The run as `getRun` reads it, with the output so far of the first running hosts. */
export async function runSnapshot(db: Db, runId: string, scope: Scope = ALL_HOSTS) {
  const snapshot = await getRun(db, runId, scope);
  let live = 0;
  const hosts: RunHostRow[] = [];
  for (const host of snapshot.hosts) {
    if (host.state === "running" && host.commandId && live < LIVE_OUTPUT_HOSTS) {
      live += 1;
      const { output, bytes } = await outputSoFar(db, host.commandId);
      hosts.push({ ...host, output, outputBytes: bytes });
    } else {
      hosts.push(host);
    }
  }
  return { ...snapshot, hosts };
}

/**
 * Yields the run each time it changes until it ends (or `signal` aborts). Between changes it polls
 * only `runSignature` every `pollMs`, not the run with all its hosts and outputs.
 */
export async function* watchRun(
  db: Db,
  runId: string,
  scope: Scope,
  signal: AbortSignal,
  pollMs = 500,
): AsyncGenerator<Awaited<ReturnType<typeof runSnapshot>>> {
  AppError.requireId(runId);
  let last = "";
  for (;;) {
    const signature = await runSignature(db, runId);
    if (signature !== last) {
      const snapshot = await runSnapshot(db, runId, scope);
      last = signature;
      yield snapshot;
      if (snapshot.run.finishedAt) return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    if (signal.aborted) return;
  }
}
