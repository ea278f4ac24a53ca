import { fromBinary } from "@bufbuild/protobuf";
import { ScriptRunResultSchema } from "@ocore/proto/gen/ocore/agent/v1/script_commands_pb.js";
import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { readOutput } from "../commands/command-output.js";
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
 * RUN_OUTPUT_BYTES kept here).
 */
export async function outcomeOfCommand(db: Db, command: CommandRow): Promise<HostOutcome> {
  const out: Buffer[] = [];
  let kept = 0;
  let total = 0;
  let sandbox = "";
  for await (const chunk of readOutput(db, command.id)) {
    if (chunk.stream === 3) {
      sandbox ||= SANDBOX_LINE.exec(Buffer.from(chunk.data).toString("utf8"))?.[1] ?? "";
      continue;
    }
    total += chunk.data.byteLength;
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
