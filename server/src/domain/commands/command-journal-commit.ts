import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { CopyRefused, copyOutput, postgresTransactionOf, supportsCopy } from "./command-output-copy.js";
import type { FinalState } from "./command-records.js";
import type { Committed, JournalEntry, OutputEntry } from "./journal-entry.js";

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const json = (rows: readonly unknown[]) => JSON.stringify(rows);

/** What one batch says about one command's state: its steps folded into one row. */
interface StateRow {
  id: string;
  sent?: string;
  started?: string;
  state?: FinalState;
  exit_code?: number;
  error_code?: string | null;
  error_message?: string | null;
  result_type?: string | null;
  result?: string | null;
  at?: string;
}

/** One batch of journal entries, sorted by what each statement needs. */
interface Parts {
  /** Commands whose state the batch changes, in order of first mention. */
  readonly states: StateRow[];
  /** The commands the batch reports as started. */
  readonly started: string[];
  readonly output: OutputEntry[];
  readonly outputBytes: number;
}

function partsOf(batch: readonly JournalEntry[]): Parts {
  const byId = new Map<string, StateRow>();
  const started: string[] = [];
  const output: OutputEntry[] = [];
  let outputBytes = 0;
  const rowOf = (id: string) => {
    let row = byId.get(id);
    if (!row) {
      row = { id };
      byId.set(id, row);
    }
    return row;
  };
  for (const entry of batch) {
    if (entry.kind === "output") {
      output.push(entry);
      outputBytes += entry.data.byteLength;
    } else if (entry.kind === "sent") rowOf(entry.commandId).sent ??= entry.at.toISOString();
    else if (entry.kind === "started") {
      const row = rowOf(entry.commandId);
      if (row.started === undefined) started.push(entry.commandId);
      row.started ??= entry.at.toISOString();
    } else {
      const row = rowOf(entry.commandId);
      if (row.state !== undefined) continue; // the first end counts
      row.state = entry.state;
      row.exit_code = entry.exitCode;
      row.error_code = entry.errorCode;
      row.error_message = entry.errorMessage;
      row.result_type = entry.resultType;
      row.result = entry.result ? b64(entry.result) : null;
      row.at = entry.at.toISOString();
    }
  }
  return { states: [...byId.values()], started, output, outputBytes };
}

/**
 * Every state change of the batch in one UPDATE, one row write per command: sent (from queued),
 * started (from queued or sent), ended (from any open state). Only open commands are touched, so
 * each row it returns with an end was really ended by this commit (a late second end is not).
 */
async function storeStates(tx: Queryable, parts: Parts): Promise<Committed["finished"]> {
  if (parts.states.length === 0) return [];
  const result = await tx.execute(sql`update commands c set
      state = case when r.state is not null then r.state
        when r.started is not null and c.state in ('queued', 'sent') then 'running'
        when r.sent is not null and c.state = 'queued' then 'sent'
        else c.state end,
      sent_at = coalesce(c.sent_at, r.sent, r.started),
      started_at = coalesce(c.started_at, r.started),
      exit_code = case when r.state is null then c.exit_code else r.exit_code end,
      error_code = case when r.state is null then c.error_code else r.error_code end,
      error_message = case when r.state is null then c.error_message else r.error_message end,
      result_type = case when r.state is null then c.result_type else r.result_type end,
      result = case when r.state is null then c.result else decode(r.result, 'base64') end,
      finished_at = case when r.state is null then c.finished_at else r.at end
    from json_to_recordset(${json(parts.states)}::json) as r(id uuid, sent timestamptz,
      started timestamptz, state text, exit_code int, error_code text, error_message text,
      result_type text, result text, at timestamptz)
    where c.id = r.id and (r.state is not null and c.state in ('queued', 'sent', 'running')
      or r.started is not null and c.state in ('queued', 'sent')
      or r.sent is not null and c.state = 'queued')
    returning c.id as "commandId", c.state, r.state is not null as ended`);
  return rowsOf<{ commandId: string; state: FinalState; ended: boolean }>(result)
    .filter((row) => row.ended)
    .map(({ commandId, state }) => ({ commandId, state }));
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

/** The COPY was refused (most likely a chunk stored before, after a redelivery): retry without it. */
const copyWasRefused = (error: unknown) =>
  error instanceof CopyRefused || (error as { code?: unknown })?.code === "23505";

/**
 * Stores one batch in one transaction: output first, then every state change in one statement
 * (json_to_recordset), so a command's output is stored with or before its end.
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
    started: parts.started,
    output: parts.output,
    finished,
  });
  if (parts.outputBytes >= copyFromBytes && supportsCopy(db)) {
    try {
      const finished = await db.transaction(async (tx) => {
        const raw = postgresTransactionOf(tx);
        if (!raw) return undefined;
        await copyOutput(raw, parts.output);
        await countOutput(tx, parts.output);
        return storeStates(tx, parts);
      });
      if (finished) return done(finished);
    } catch (error) {
      if (!copyWasRefused(error)) throw error;
    }
  }
  return done(
    await db.transaction(async (tx) => {
      if (parts.output.length > 0) await insertOutput(tx, parts.output);
      return storeStates(tx, parts);
    }),
  );
}
