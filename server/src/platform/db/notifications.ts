import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { Db } from "./database.js";
import type { Queryable } from "./transaction.js";

interface Listener {
  /** postgres.js: a dedicated connection that listens again after a reconnect and calls onlisten. */
  listen?(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<{ unlisten(): Promise<void> } | (() => Promise<void>)>;
}

export interface Listening {
  /** Resolves once listening started, or at once where nothing listens (PGlite). Never rejects. */
  readonly ready: Promise<void>;
  /** Stops listening (safe to call before `ready` resolved). */
  close(): Promise<void>;
}

/**
 * Listens on a PostgreSQL channel (LISTEN/NOTIFY) on postgres.js's dedicated connection, which
 * listens again by itself after a reconnect; `onReconnect` then runs, since notifications sent
 * meanwhile are lost. On PGlite nothing listens: it holds its data directory alone, so there is
 * no other process to hear from. `onError` hears why listening could not start.
 */
export function listenOn(
  db: Db,
  channel: string,
  handlers: {
    readonly onNotify: (payload: string) => void;
    readonly onReconnect?: () => void;
    readonly onError: (error: unknown) => void;
  },
): Listening {
  const client = (db as unknown as { $client?: Listener }).$client;
  // (PGlite's `listen` also takes a transaction, not postgres.js's onlisten, as third argument.)
  const listens = typeof client?.listen === "function" && !(client instanceof PGlite);
  let closed = false;
  let stop: (() => Promise<void>) | undefined;
  let connectedOnce = false;
  const ready = (async () => {
    if (!listens || !client?.listen) return;
    const handle = await client.listen(channel, handlers.onNotify, () => {
      if (connectedOnce) handlers.onReconnect?.();
      connectedOnce = true;
    });
    stop = typeof handle === "function" ? handle : () => handle.unlisten();
    if (closed) await stop();
  })().catch(handlers.onError);
  return {
    ready,
    async close() {
      closed = true;
      await ready;
      await stop?.().catch(() => undefined);
    },
  };
}

/** Sends a notification; inside a transaction PostgreSQL delivers it at the commit, and not on a rollback. */
export async function notifyOn(db: Queryable, channel: string, payload = ""): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}
