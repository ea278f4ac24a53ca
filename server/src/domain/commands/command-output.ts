import { and, asc, eq, gt } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { commandOutput } from "../../platform/db/schema/commands.js";

export interface OutputChunk {
  readonly sequence: number;
  readonly stream: number;
  readonly data: Uint8Array;
}

/** A command's archived output in sequence order, read a page at a time (bounded memory). */
export async function* readOutput(
  db: Db,
  commandId: string,
  options: { after?: number; pageSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<OutputChunk> {
  const pageSize = options.pageSize ?? 64;
  let after = options.after ?? 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const rows = await db
      .select({ sequence: commandOutput.sequence, stream: commandOutput.stream, data: commandOutput.data })
      .from(commandOutput)
      .where(and(eq(commandOutput.commandId, commandId), gt(commandOutput.sequence, after)))
      .orderBy(asc(commandOutput.sequence))
      .limit(pageSize);
    for (const row of rows) {
      after = row.sequence;
      yield row;
    }
    if (rows.length < pageSize) return;
  }
}
