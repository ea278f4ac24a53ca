import { sql } from "drizzle-orm";
import type { Db } from "../db/database.js";
import { rowsOf } from "../db/rows-of.js";
import type { Logger } from "../logging/logger.js";
import type { FinalState } from "./command-records.js";

/** One thing an agent (or the delivery) reported about a command, to be stored. */
export type JournalEntry =
  | { readonly kind: "sent"; readonly commandId: string; readonly at: Date }
  | { readonly kind: "started"; readonly commandId: string; readonly at: Date }
  | {
      readonly kind: "output";
      readonly commandId: string;
      readonly sequence: number;
      /** 1 stdout, 2 stderr, 3 progress. */
      readonly stream: number;
      readonly data: Uint8Array;
    }
  | {
      readonly kind: "finished";
      readonly commandId: string;
      readonly state: FinalState;
      readonly exitCode: number;
      readonly errorCode: string | null;
      readonly errorMessage: string | null;
      readonly resultType: string | null;
      readonly result: Uint8Array | null;
      readonly at: Date;
    };

export type OutputEntry = Extract<JournalEntry, { kind: "output" }>;

/** What one commit changed, for the live feed and waiters. */
export interface Committed {
  readonly started: readonly string[];
  readonly output: readonly OutputEntry[];
  /** Commands this commit really ended (a late second "finished" is not listed). */
  readonly finished: ReadonlyArray<{ readonly commandId: string; readonly state: FinalState }>;
}

export interface CommandJournalOptions {
  readonly logger: Logger;
  readonly onCommitted: (committed: Committed) => void;
  /** Output bytes held before append() waits (the agent's stream then stops being read). */
  readonly maxBufferedBytes?: number;
  /** Output bytes per commit. */
  readonly maxBatchBytes?: number;
}

export interface CommandJournal {
  /**
   * Queues an entry; resolves once the buffer has room for it (not when it is committed), so a
   * caller that awaits it is slowed to the database's pace while memory stays bounded.
   */
  append(entry: JournalEntry): Promise<void>;
  /** Resolves when everything appended so far is committed. */
  flushed(): Promise<void>;
  readonly bufferedBytes: number;
  /** The most output bytes ever held at once (for tests and benchmarks). */
  readonly peakBufferedBytes: number;
  close(): Promise<void>;
}

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const json = (rows: readonly unknown[]) => JSON.stringify(rows);

/**
 * Group commit for command events from all agent streams: what arrives while a commit runs is
 * written by the next one, in one transaction of a few one-parameter statements
 * (json_to_recordset), in arrival order (one commit at a time, so a command's output is stored
 * before its end). Output is bounded twice: a commit carries at most maxBatchBytes, and append()
 * makes its caller wait while more than maxBufferedBytes are queued.
 */
export function createCommandJournal(db: Db, options: CommandJournalOptions): CommandJournal {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxBatch = options.maxBatchBytes ?? 1024 * 1024;
  let queue: JournalEntry[] = [];
  let bytes = 0;
  let peak = 0;
  let running: Promise<void> | undefined;
  let closed = false;
  const roomWaiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];

  const sizeOf = (entry: JournalEntry) => (entry.kind === "output" ? entry.data.byteLength : 0);

  const take = (): JournalEntry[] => {
    let batchBytes = 0;
    let count = 0;
    while (count < queue.length && count < 10_000) {
      const size = sizeOf(queue[count] as JournalEntry);
      if (count > 0 && batchBytes + size > maxBatch) break;
      batchBytes += size;
      count += 1;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    return batch;
  };

  const commit = async (batch: readonly JournalEntry[]): Promise<Committed> => {
    const sent: Array<{ id: string; at: string }> = [];
    const started: Array<{ id: string; at: string }> = [];
    const output: OutputEntry[] = [];
    const finished: Array<Record<string, unknown>> = [];
    for (const entry of batch) {
      if (entry.kind === "sent") sent.push({ id: entry.commandId, at: entry.at.toISOString() });
      else if (entry.kind === "started") started.push({ id: entry.commandId, at: entry.at.toISOString() });
      else if (entry.kind === "output") output.push(entry);
      else
        finished.push({
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
    return db.transaction(async (tx) => {
      if (sent.length > 0) {
        await tx.execute(sql`update commands c set state = 'sent', sent_at = coalesce(c.sent_at, r.at)
          from json_to_recordset(${json(sent)}::json) as r(id uuid, at timestamptz)
          where c.id = r.id and c.state = 'queued'`);
      }
      if (started.length > 0) {
        await tx.execute(sql`update commands c set state = 'running', started_at = coalesce(c.started_at, r.at),
            sent_at = coalesce(c.sent_at, r.at)
          from json_to_recordset(${json(started)}::json) as r(id uuid, at timestamptz)
          where c.id = r.id and c.state in ('queued', 'sent')`);
      }
      if (output.length > 0) {
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
      let ended: Committed["finished"] = [];
      if (finished.length > 0) {
        const result = await tx.execute(sql`update commands c set state = r.state, exit_code = r.exit_code,
            error_code = r.error_code, error_message = r.error_message, result_type = r.result_type,
            result = decode(r.result, 'base64'), finished_at = r.at
          from json_to_recordset(${json(finished)}::json) as r(id uuid, state text, exit_code int,
            error_code text, error_message text, result_type text, result text, at timestamptz)
          where c.id = r.id and c.state in ('queued', 'sent', 'running')
          returning c.id as "commandId", c.state`);
        ended = rowsOf<{ commandId: string; state: FinalState }>(result);
      }
      return { started: started.map((entry) => entry.id), output, finished: ended };
    });
  };

  const drain = async () => {
    while (queue.length > 0) {
      const batch = take();
      let committed: Committed | undefined;
      const startedAt = performance.now();
      try {
        committed = await commit(batch);
        options.logger.debug(
          { entries: batch.length, ms: Math.round(performance.now() - startedAt) },
          "command events committed",
        );
      } catch (error) {
        options.logger.error(
          { err: error, entries: batch.length },
          "could not store command events; they are lost (the commands' states may lag until their deadline)",
        );
      }
      for (const entry of batch) bytes -= sizeOf(entry);
      while (roomWaiters.length > 0 && bytes < maxBuffered) roomWaiters.shift()?.();
      if (committed) options.onCommitted(committed);
    }
  };

  const kick = () => {
    if (running || queue.length === 0) return;
    running = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await drain();
    })().finally(() => {
      running = undefined;
      if (queue.length > 0) kick();
      else while (idleWaiters.length > 0) idleWaiters.shift()?.();
    });
  };

  return {
    get bufferedBytes() {
      return bytes;
    },
    get peakBufferedBytes() {
      return peak;
    },
    async append(entry) {
      if (closed) throw new Error("the command journal is closed");
      while (bytes >= maxBuffered) {
        await new Promise<void>((resolve) => roomWaiters.push(resolve));
      }
      bytes += sizeOf(entry);
      peak = Math.max(peak, bytes);
      queue.push(entry);
      kick();
    },
    flushed() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      while (running || queue.length > 0) {
        kick();
        await running;
      }
      while (roomWaiters.length > 0) roomWaiters.shift()?.();
    },
  };
}
