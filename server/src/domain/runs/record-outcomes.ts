import { fromBinary } from "@bufbuild/protobuf";
import { ScriptRunResultSchema } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { inArray, sql } from "drizzle-orm";
import { rowsOf } from "../../platform/db/rows-of.js";
import { commands } from "../../platform/db/schema/commands.js";
import type { Queryable } from "../../platform/db/transaction.js";
import type { CommandRow } from "../commands/command-records.js";

/** Output kept on a run host (the command keeps all of it in command_output). */
export const RUN_OUTPUT_BYTES = 64 * 1024;

export interface HostOutcome {
  readonly commandId: string;
  readonly state: "succeeded" | "failed" | "timed_out" | "cancelled";
  readonly reason: string;
  readonly exitCode: number;
  readonly sandbox: string;
  readonly output: string;
  readonly outputBytes: number;
  readonly finishedAt: Date;
}

const SANDBOX_LINE = /^sandbox: ([a-z]+)/m;

/**
 * What one ended command says about its host: state, reason, exit code, the sandbox it ran in
 * (the agent's first progress line, or its result), and its stdout and stderr in order (at most
 * RUN_OUTPUT_BYTES kept here). `chunks` are the command's output in sequence order; `total` is
 * its stdout and stderr bytes in all.
 */
export function outcomeFrom(
  command: CommandRow,
  chunks: readonly { readonly stream: number; readonly data: Uint8Array }[],
  total: number,
): HostOutcome {
  const out: Buffer[] = [];
  let kept = 0;
  let sandbox = "";
  for (const chunk of chunks) {
    if (chunk.stream === 3) {
      sandbox ||= SANDBOX_LINE.exec(Buffer.from(chunk.data).toString("utf8"))?.[1] ?? "";
      continue;
    }
    if (kept < RUN_OUTPUT_BYTES) {
      const part = Buffer.from(chunk.data).subarray(0, RUN_OUTPUT_BYTES - kept);
      out.push(part);
      kept += part.byteLength;
    }
  }
  if (command.resultType === ScriptRunResultSchema.typeName && command.result) {
    sandbox = fromBinary(ScriptRunResultSchema, command.result).sandbox || sandbox;
  }
  const state =
    command.state === "succeeded" || command.state === "failed" || command.state === "timed_out"
      ? command.state
      : "cancelled";
  return {
    commandId: command.id,
    state,
    reason: state === "succeeded" ? "" : (command.errorMessage ?? command.state),
    exitCode: command.exitCode,
    sandbox,
    output: Buffer.concat(out).toString("utf8"),
    outputBytes: total,
    finishedAt: command.finishedAt ?? new Date(),
  };
}

/**
 * The outcomes of many ended commands in two statements (their rows, and their outputs up to
 * RUN_OUTPUT_BYTES each with the totals, cut in SQL so a large output is never read whole),
 * instead of two or more per command.
 */
export async function outcomesOfCommands(db: Queryable, ids: readonly string[]): Promise<HostOutcome[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select()
    .from(commands)
    .where(inArray(commands.id, [...ids]));
  const chunks = rowsOf<{ command_id: string; stream: number; data: Uint8Array; total: string | number }>(
    await db.execute(sql`select command_id, stream, data, total from (
        select command_id, stream, data, sequence,
          coalesce(sum(octet_length(data)) filter (where stream <> 3) over (partition by command_id order by sequence
            rows between unbounded preceding and 1 preceding), 0) as before,
          coalesce(sum(octet_length(data)) filter (where stream <> 3) over (partition by command_id), 0) as total
        from command_output where command_id in (select unnest(${`{${ids.join(",")}}`}::uuid[]))
      ) o where before < ${RUN_OUTPUT_BYTES} order by command_id, sequence`),
  );
  const byCommand = new Map<string, { stream: number; data: Uint8Array }[]>();
  const totals = new Map<string, number>();
  for (const chunk of chunks) {
    const list = byCommand.get(chunk.command_id) ?? [];
    list.push({ stream: Number(chunk.stream), data: chunk.data });
    byCommand.set(chunk.command_id, list);
    totals.set(chunk.command_id, Number(chunk.total));
  }
  return rows.map((row) => outcomeFrom(row, byCommand.get(row.id) ?? [], totals.get(row.id) ?? 0));
}

/** Stores ended hosts' outcomes (only on hosts still running that command). */
export async function storeOutcomes(
  tx: Queryable,
  runId: string,
  outcomes: readonly HostOutcome[],
): Promise<void> {
  if (outcomes.length === 0) return;
  const json = JSON.stringify(
    outcomes.map((o) => ({
      c: o.commandId,
      s: o.state,
      r: o.reason,
      e: o.exitCode,
      x: o.sandbox,
      o: o.output,
      b: o.outputBytes,
      f: o.finishedAt.toISOString(),
    })),
  );
  await tx.execute(sql`update command_run_hosts h
    set state = r.s, reason = r.r, exit_code = r.e, sandbox = r.x, output = r.o, output_bytes = r.b,
      finished_at = r.f
    from json_to_recordset(${json}::json) as r(c uuid, s text, r text, e int, x text, o text, b int, f timestamptz)
    where h.run_id = ${runId} and h.command_id = r.c and h.state = 'running'`);
}
