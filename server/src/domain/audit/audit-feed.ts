import { createChangeTicker, waitForWake } from "../../platform/db/change-ticker.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import { type AuditFilter, latestAuditId, matchesAuditFilter, readAuditEntries } from "./query-audit.js";
import type { AuditRow } from "./record-audit.js";

/** What a follow yields: the next entry, or (once) the news that it has caught up and is live. */
export type AuditFollowEvent =
  | { readonly kind: "entry"; readonly row: AuditRow }
  | { readonly kind: "caught_up" };

export interface AuditFeed {
  /** Reads new entries now instead of at the next tick (called after a change commits here). */
  poke(): void;
  /**
   * The entries `filter` matches after `afterId` (undefined: only those written from now on),
   * oldest first, as they are written — on this replica or any other — until `signal` aborts or
   * the feed closes. The follower is registered when the first event is asked for; from then on
   * nothing written is lost. A "caught_up" event follows the entries that were already written.
   */
  follow(
    filter: AuditFilter,
    afterId: number | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<AuditFollowEvent>;
  /** Reads new entries and fans them out now (the ticker calls it; tests too). */
  tick(): Promise<void>;
  /** The number of live followers. */
  followers(): number;
  close(): void;
}

export interface AuditFeedOptions {
  readonly db: Db;
  readonly logger: Logger;
  /** How often the shared ticker looks for new entries while anyone follows. */
  readonly tickMs?: number;
  /** New entries held per follower; a follower that falls further behind re-reads from the database. */
  readonly bufferSize?: number;
}

interface Follower {
  readonly filter: AuditFilter;
  /** Matching entries fanned out and not yet read; never more than `bufferSize`. */
  buffer: AuditRow[];
  /** Set when the buffer overflowed: the follower drops it and catches up from the database. */
  behind: boolean;
  wake: (() => void) | undefined;
}

/**
 * The feed behind AuditService/FollowAuditLog: one shared ticker per process, running only while
 * someone follows, reads the entries after the last one it saw (`id > cursor`: the chain's ids
 * are gapless and committed in order, see record-audit.ts) and fans them out to every follower
 * whose filter matches. Each follower first catches up from the database, and again whenever its
 * bounded buffer overflows, so a slow reader costs memory for at most `bufferSize` entries.
 */
export function createAuditFeed(options: AuditFeedOptions): AuditFeed {
  const { db, logger } = options;
  const tickMs = options.tickMs ?? 1_000;
  const bufferSize = options.bufferSize ?? 1_000;
  const followers = new Set<Follower>();
  /** The newest entry fanned out; undefined while nobody follows. */
  let cursor: number | undefined;
  let baseline: Promise<number> | undefined;
  let closed = false;
  /** Counts the times everyone left, so a read that started before does not set a stale cursor. */
  let generation = 0;

  /** The cursor, read from the database when the first follower arrives. */
  function ensureCursor(): Promise<number> {
    if (cursor !== undefined) return Promise.resolve(cursor);
    baseline ??= latestAuditId(db).then(
      (id) => {
        baseline = undefined;
        // A tick may have set it meanwhile; never move it back.
        cursor ??= id;
        return cursor;
      },
      (error: unknown) => {
        baseline = undefined;
        throw error;
      },
    );
    return baseline;
  }

  function fanOut(rows: readonly AuditRow[]) {
    for (const follower of followers) {
      if (follower.behind) continue;
      let touched = false;
      for (const row of rows) {
        if (!matchesAuditFilter(follower.filter, row)) continue;
        if (follower.buffer.length >= bufferSize) {
          follower.buffer = [];
          follower.behind = true;
          touched = true;
          break;
        }
        follower.buffer.push(row);
        touched = true;
      }
      if (touched) follower.wake?.();
    }
  }

  async function readNew(): Promise<void> {
    if (followers.size === 0) return;
    const started = generation;
    const from = await ensureCursor();
    const rows: AuditRow[] = [];
    for await (const row of readAuditEntries(db, {}, { afterId: from, pageSize: 500 })) {
      if (generation !== started) return;
      rows.push(row);
      // Fan out in slices so one burst never sits in memory whole.
      if (rows.length === 500) {
        cursor = row.id;
        fanOut(rows.splice(0));
      }
    }
    const last = rows.at(-1);
    if (last && generation === started) {
      cursor = last.id;
      fanOut(rows);
    }
  }

  const ticker = createChangeTicker({
    tickMs,
    read: readNew,
    watched: () => followers.size > 0,
    onError: (error) => logger.warn({ err: error }, "the audit feed could not read new entries"),
  });

  function leave(follower: Follower) {
    if (!followers.delete(follower) || followers.size > 0) return;
    ticker.pause();
    // The next first follower starts from the log's end as it is then.
    cursor = undefined;
    generation++;
  }

  return {
    poke() {
      if (followers.size > 0 && !closed) void ticker.tick();
    },
    async *follow(filter, afterId, signal) {
      const follower: Follower = { filter, buffer: [], behind: true, wake: undefined };
      followers.add(follower);
      ticker.schedule();
      try {
        // Every entry up to the cursor is committed, and every later one is fanned out to this
        // follower (it is registered): catching up to the cursor leaves no gap and no overlap
        // that the id check below does not drop.
        let last = afterId ?? (await ensureCursor());
        let caughtUp = false;
        while (!signal.aborted && !closed) {
          if (follower.behind) {
            follower.behind = false;
            follower.buffer = [];
            const through = await ensureCursor();
            for await (const row of readAuditEntries(db, filter, { afterId: last, throughId: through })) {
              if (signal.aborted || closed) return;
              last = row.id;
              yield { kind: "entry", row };
            }
            last = Math.max(last, through);
            if (!caughtUp) {
              caughtUp = true;
              yield { kind: "caught_up" };
            }
            continue;
          }
          if (follower.buffer.length === 0) {
            await waitForWake(follower, signal);
            continue;
          }
          const batch = follower.buffer;
          follower.buffer = [];
          for (const row of batch) {
            if (row.id <= last) continue;
            last = row.id;
            yield { kind: "entry", row };
            if (follower.behind) break;
          }
        }
      } finally {
        leave(follower);
      }
    },
    tick: () => ticker.tick(),
    followers: () => followers.size,
    close() {
      closed = true;
      ticker.close();
      for (const follower of followers) follower.wake?.();
    },
  };
}
