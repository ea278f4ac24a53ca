import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import { commitBatch } from "./command-journal-commit.js";
import type { Committed, JournalEntry } from "./journal-entry.js";

export interface CommandJournalOptions {
  readonly logger: Logger;
  readonly onCommitted: (committed: Committed) => void;
  /** Output bytes held before append() waits (the agent's stream then stops being read). */
  readonly maxBufferedBytes?: number;
  /** Output bytes per commit. */
  readonly maxBatchBytes?: number;
  /** Commits that may run at once; a command always uses the same lane (its events stay in order). */
  readonly lanes?: number;
  /** A commit with at least this much output stores it with COPY on PostgreSQL. */
  readonly copyFromBytes?: number;
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

/** Entries per commit at most (the statements' JSON stays a few MB). */
const MAX_BATCH_ENTRIES = 10_000;

/** One group-commit loop: what arrives while a commit runs is written by the next one. */
interface Lane {
  queue: JournalEntry[];
  running: Promise<void> | undefined;
}

/**
 * Group commit for command events from all agent streams, in a few lanes that commit
 * concurrently (each on its own connection). A command's entries always go to the same lane (by
 * its id), and a lane commits one batch at a time in arrival order, so a command's output is
 * stored before its end. Output is bounded twice: a commit carries at most maxBatchBytes, and
 * append() makes its caller wait while more than maxBufferedBytes are queued in all lanes.
 */
export function createCommandJournal(db: Db, options: CommandJournalOptions): CommandJournal {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxBatch = options.maxBatchBytes ?? 1024 * 1024;
  const copyFromBytes = options.copyFromBytes ?? 256 * 1024;
  const lanes: Lane[] = Array.from({ length: Math.max(1, options.lanes ?? 2) }, () => ({
    queue: [],
    running: undefined,
  }));
  let bytes = 0;
  let peak = 0;
  let closed = false;
  const roomWaiters: Array<() => void> = [];
  const idleWaiters: Array<() => void> = [];

  const sizeOf = (entry: JournalEntry) => (entry.kind === "output" ? entry.data.byteLength : 0);
  /** Command ids are random UUIDs: their last 8 hex digits spread them evenly. */
  const laneOf = (commandId: string): Lane =>
    lanes[lanes.length === 1 ? 0 : Number.parseInt(commandId.slice(-8), 16) % lanes.length] as Lane;
  const idle = () => lanes.every((lane) => !lane.running && lane.queue.length === 0);

  const take = (lane: Lane): JournalEntry[] => {
    let batchBytes = 0;
    let count = 0;
    while (count < lane.queue.length && count < MAX_BATCH_ENTRIES) {
      const size = sizeOf(lane.queue[count] as JournalEntry);
      if (count > 0 && batchBytes + size > maxBatch) break;
      batchBytes += size;
      count += 1;
    }
    return lane.queue.splice(0, count);
  };

  const drain = async (lane: Lane) => {
    while (lane.queue.length > 0) {
      const batch = take(lane);
      let committed: Committed | undefined;
      const startedAt = performance.now();
      try {
        committed = await commitBatch(db, batch, copyFromBytes);
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

  const kick = (lane: Lane) => {
    if (lane.running || lane.queue.length === 0) return;
    lane.running = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await drain(lane);
    })().finally(() => {
      lane.running = undefined;
      if (lane.queue.length > 0) kick(lane);
      else if (idle()) while (idleWaiters.length > 0) idleWaiters.shift()?.();
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
      const lane = laneOf(entry.commandId);
      lane.queue.push(entry);
      kick(lane);
    },
    flushed() {
      if (idle()) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      while (!idle()) {
        for (const lane of lanes) kick(lane);
        await Promise.all(lanes.map((lane) => lane.running));
      }
      while (roomWaiters.length > 0) roomWaiters.shift()?.();
    },
  };
}
