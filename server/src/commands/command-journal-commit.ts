import { sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { rowsOf } from "../db/rows-of.js";
import type { Queryable } from "../db/transaction.js";
import type { Committed, JournalEntry, OutputEntry } from "./command-journal.js";
import { CopyRefused, copyOutput, postgresTransactionOf, supportsCopy } from "./command-output-copy.js";
import type { FinalState } from "./command-records.js";

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const json = (rows: readonly unknown[]) => JSON.stringify(rows);

/** One batch of journal entries, sorted by what each statement needs. */
interface Parts {
  readonly sent: Array<{ id: string; at: string }>;
  readonly started: Array<{ id: string; at: string }>;
  readonly output: OutputEntry[];
  readonly outputBytes: number;
  readonly finished: Array<Record<string, unknown>>;
}

function partsOf(batch: readonly JournalEntry[]): Parts {
  const parts: Parts = { sent: [], started: [], output: [], outputBytes: 0, finished: [] };
  let outputBytes = 0;
  for (const entry of batch) {
    if (entry.kind === "sent") parts.sent.push({ id: entry.commandId, at: entry.at.toISOString() });
    else if (entry.kind === "started")
      parts.started.push({ id: entry.commandId, at: entry.at.toISOString() });
    else if (entry.kind === "output") {
      parts.output.push(entry);
      outputBytes += entry.data.byteLength;
    } else
      parts.finished.push({
        id: entry.commandId,
        state: entry.state,
        exit_code: entry.exitCode,
        error_code: entry.errorCode,
        error_message: entry.errorMessage,
        result_type: entry.resultType,
        result: entry.result ? b64(entry.result) : null,
        at: entry.at.toISOString(),
      });
  }
  return { ...parts, outputBytes };
}

async function storeStates(tx: Queryable, parts: Parts): Promise<void> {
  if (parts.sent.length > 0) {
    await tx.execute(sql`update commands c set state = 'sent', sent_at = coalesce(c.sent_at, r.at)
      from json_to_recordset(${json(parts.sent)}::json) as r(id uuid, at timestamptz)
      where c.id = r.id and c.state = 'queued'`);
  }
  if (parts.started.length > 0) {
    await tx.execute(sql`update commands c set state = 'running', started_at = coalesce(c.started_at, r.at),
        sent_at = coalesce(c.sent_at, r.at)
      from json_to_recordset(${json(parts.started)}::json) as r(id uuid, at timestamptz)
      where c.id = r.id and c.state in ('queued', 'sent')`);
  }
}

/** Output as JSON rows (base64 data), skipping chunks already stored; counts what was new. */
async function insertOutput(tx: Queryable, output: readonly OutputEntry[]): Promise<void> {
  const rows = output.map((entry) => ({
    c: entry.commandId,
    s: entry.sequence,
    t: entry.stream,
    d: b64(entry.data),
  }));
  await tx.execute(sql`with inserted as (
      insert into command_output (command_id, sequence, stream, data)
      select r.c, r.s, r.t, decode(r.d, 'base64')
      from json_to_recordset(${json(rows)}::json) as r(c uuid, s bigint, t smallint, d text)
      on conflict do nothing
      returning command_id, sequence, length(data) as n)
    update commands c set output_chunks = greatest(c.output_chunks, m.last), output_bytes = c.output_bytes + m.n
    from (select command_id, max(sequence) as last, sum(n) as n from inserted group by command_id) m
    where c.id = m.command_id`);
}

/** After a COPY stored every chunk: each command's last sequence and byte count. */
async function countOutput(tx: Queryable, output: readonly OutputEntry[]): Promise<void> {
  const totals = new Map<string, { c: string; last: number; n: number }>();
  for (const entry of output) {
    const total = totals.get(entry.commandId) ?? { c: entry.commandId, last: 0, n: 0 };
    total.last = Math.max(total.last, entry.sequence);
    total.n += entry.data.byteLength;
    totals.set(entry.commandId, total);
  }
  await tx.execute(sql`update commands c set output_chunks = greatest(c.output_chunks, r.last),
      output_bytes = c.output_bytes + r.n
    from json_to_recordset(${json([...totals.values()])}::json) as r(c uuid, last bigint, n bigint)
    where c.id = r.c`);
}

async function storeEnds(tx: Queryable, parts: Parts): Promise<Committed["finished"]> {
  if (parts.finished.length === 0) return [];
  const result = await tx.execute(sql`update commands c set state = r.state, exit_code = r.exit_code,
      error_code = r.error_code, error_message = r.error_message, result_type = r.result_type,
      result = decode(r.result, 'base64'), finished_at = r.at
    from json_to_recordset(${json(parts.finished)}::json) as r(id uuid, state text, exit_code int,
      error_code text, error_message text, result_type text, result text, at timestamptz)
    where c.id = r.id and c.state in ('queued', 'sent', 'running')
    returning c.id as "commandId", c.state`);
  return rowsOf<{ commandId: string; state: FinalState }>(result);
}

/** The COPY was refused (most likely a chunk stored before, after a redelivery): retry without it. */
const copyWasRefused = (error: unknown) =>
  error instanceof CopyRefused || (error as { code?: unknown })?.code === "23505";

/**
 * Stores one batch in one transaction, in this order: sent, started, output, ends (so a command's
 * output is stored before its end). State changes are one-parameter statements (json_to_recordset).
 * Output of at least `copyFromBytes` goes through COPY (binary) on PostgreSQL, which keeps the
 * bytes out of JSON and base64 strings (memory); smaller output, PGlite, and a batch that repeats
 * a stored chunk (after a redelivery) use one INSERT that skips repeats.
 */
export async function commitBatch(
  db: Db,
  batch: readonly JournalEntry[],
  copyFromBytes: number,
): Promise<Committed> {
  const parts = partsOf(batch);
  const done = (finished: Committed["finished"]): Committed => ({
    started: parts.started.map((entry) => entry.id),
    output: parts.output,
    finished,
  });
  if (parts.outputBytes >= copyFromBytes && supportsCopy(db)) {
    try {
      const finished = await db.transaction(async (tx) => {
        const raw = postgresTransactionOf(tx);
        if (!raw) return undefined;
        await storeStates(tx, parts);
        await copyOutput(raw, parts.output);
        await countOutput(tx, parts.output);
        return storeEnds(tx, parts);
      });
      if (finished) return done(finished);
    } catch (error) {
      if (!copyWasRefused(error)) throw error;
    }
  }
  return done(
    await db.transaction(async (tx) => {
      await storeStates(tx, parts);
      if (parts.output.length > 0) await insertOutput(tx, parts.output);
      return storeEnds(tx, parts);
    }),
  );
}
