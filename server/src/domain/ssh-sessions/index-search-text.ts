import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import type { Logger } from "../../platform/logging/logger.js";

/**
 * Marks up to `maxChunks` chunks that a recorder wrote unindexed (a batch of fast output) as
 * indexed, oldest session and seq first: the trigram index then takes their text, at the
 * database's pace instead of the session's. Replicas may run it at once: each statement locks
 * its own rows and skips those another holds. Returns how many chunks it indexed.
 */
export async function indexSearchText(db: Db, input: { readonly maxChunks: number }): Promise<number> {
  const result = await db.execute(sql`
    update ssh_session_chunks set search_indexed = true
    where (session_id, seq) in (
      select session_id, seq from ssh_session_chunks
      where not search_indexed
      order by session_id, seq
      limit ${input.maxChunks}
      for update skip locked
    )
    returning seq`);
  return rowsOf<{ seq: number }>(result).length;
}

export interface SearchIndexer {
  stop(): Promise<void>;
}

/**
 * The search indexer: every `everyMs` (default 1 s) indexes a few chunks (default 8, about
 * 512 KB of text), and goes on at once while there are more, one statement at a time, so a
 * long backlog is worked off without holding the database for long. A failure is logged once
 * until a round succeeds again.
 */
export function startSearchIndexer(options: {
  readonly db: Db;
  readonly logger: Logger;
  readonly everyMs?: number;
  readonly chunksPerStatement?: number;
}): SearchIndexer {
  const logger = options.logger.child({ job: "ssh-recordings-search-indexer" });
  const maxChunks = options.chunksPerStatement ?? 8;
  let stopped = false;
  let failing = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const round = async () => {
    try {
      while (!stopped && (await indexSearchText(options.db, { maxChunks })) === maxChunks) {
        // more are waiting: go on (each statement is short, so others get the database between)
      }
      if (failing) logger.info("the SSH recordings' search indexer works again");
      failing = false;
    } catch (error) {
      if (!failing) logger.warn({ err: error }, "the SSH recordings' search indexer failed; retrying");
      failing = true;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().finally(schedule);
    }, options.everyMs ?? 1000);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
