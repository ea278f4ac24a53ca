import { createChangeTicker, waitForWake } from "../../platform/db/change-ticker.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { ServerRow } from "../servers/servers.js";
import {
  allServerIds,
  changedServerIds,
  type FleetEntry,
  fingerprintOf,
  readFleetEntries,
} from "./fleet-state.js";

/** One batch for one subscriber: servers new or changed, and servers gone from its view. */
export interface FleetChanges {
  readonly upserts: readonly FleetEntry[];
  readonly removed: readonly string[];
}

/** One watcher's view of the feed; it is registered from the moment `subscribe` returns. */
export interface FleetSubscription {
  /** Records servers the watcher holds (its initial state): only those, and servers sent since, are ever reported removed. */
  know(ids: Iterable<string>): void;
  /** The batches, from subscription on, until the signal aborts or the feed closes. */
  changes(): AsyncGenerator<FleetChanges>;
}

export interface FleetFeed {
  /** Follows the servers `visible` accepts. Subscribe before reading the initial state, so nothing in between is lost. */
  subscribe(visible: (server: ServerRow) => boolean, signal: AbortSignal): FleetSubscription;
  /** Reads what changed and fans it out now (the ticker calls it; tests too). */
  tick(): Promise<void>;
  /** The number of live subscribers. */
  subscribers(): number;
  close(): void;
}

export interface FleetFeedOptions {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  /** How often the shared ticker reads changes while anyone watches. */
  readonly tickMs?: number;
  /** How far each window reaches back into the previous one, for writes that commit late. */
  readonly overlapMs?: number;
}

interface Subscriber {
  readonly visible: (server: ServerRow) => boolean;
  /** Ids the subscriber holds; a removal is only sent for these. */
  readonly sent: Set<string>;
  /** Pending changes per server, newest wins (null: removed). Bounded by the fleet's size. */
  readonly pending: Map<string, FleetEntry | null>;
  wake: (() => void) | undefined;
}

/**
 * The change feed behind FleetService/WatchFleet: one shared ticker per process, running only
 * while someone watches, reads which servers changed since its last tick (row updates, last-seen
 * writes, received samples — from any replica, since it reads the database), compares each with
 * the state it last sent, and queues the differences for every subscriber.
 */
export function createFleetFeed(options: FleetFeedOptions): FleetFeed {
  const { db, logger, now } = options;
  const tickMs = options.tickMs ?? 2_000;
  const overlapMs = options.overlapMs ?? 5_000;
  const subscribers = new Set<Subscriber>();
  const fingerprints = new Map<string, string>();
  let lastTickAt: Date | undefined;
  let closed = false;

  async function readChanges(): Promise<FleetChanges & { readonly present: ReadonlySet<string> }> {
    const startedAt = now();
    const since = lastTickAt ? new Date(lastTickAt.getTime() - overlapMs) : new Date(0);
    const [ids, changed] = await Promise.all([allServerIds(db), changedServerIds(db, since)]);
    const removed = [...fingerprints.keys()].filter((id) => !ids.has(id));
    for (const id of removed) fingerprints.delete(id);
    const toRead = new Set(changed.filter((id) => ids.has(id)));
    for (const id of ids) if (!fingerprints.has(id)) toRead.add(id);
    const upserts: FleetEntry[] = [];
    for (const entry of await readFleetEntries(db, [...toRead])) {
      const fingerprint = fingerprintOf(entry);
      if (fingerprints.get(entry.server.id) === fingerprint) continue;
      fingerprints.set(entry.server.id, fingerprint);
      upserts.push(entry);
    }
    lastTickAt = startedAt;
    return { upserts, removed, present: ids };
  }

  function fanOut(changes: FleetChanges & { readonly present: ReadonlySet<string> }) {
    for (const subscriber of subscribers) {
      let touched = false;
      for (const entry of changes.upserts) {
        const id = entry.server.id;
        if (subscriber.visible(entry.server)) {
          subscriber.pending.set(id, entry);
          subscriber.sent.add(id);
          touched = true;
        } else if (subscriber.sent.delete(id)) {
          subscriber.pending.set(id, null);
          touched = true;
        }
      }
      // Gone from the database: checked against what this subscriber holds, not against the
      // feed's own memory, which starts afresh whenever nobody watches.
      for (const id of subscriber.sent) {
        if (changes.present.has(id)) continue;
        subscriber.sent.delete(id);
        subscriber.pending.set(id, null);
        touched = true;
      }
      if (touched) subscriber.wake?.();
    }
  }

  const ticker = createChangeTicker({
    tickMs,
    read: () => readChanges().then(fanOut),
    watched: () => subscribers.size > 0,
    onError: (error) => logger.warn({ err: error }, "the fleet feed could not read changes"),
  });

  return {
    subscribe(visible, signal) {
      const subscriber: Subscriber = { visible, sent: new Set(), pending: new Map(), wake: undefined };
      subscribers.add(subscriber);
      ticker.schedule();
      // Also on abort: a watcher that fails before iterating must not stay registered.
      const leave = () => {
        signal.removeEventListener("abort", leave);
        if (!subscribers.delete(subscriber) || subscribers.size > 0) return;
        ticker.pause();
        // The next first subscriber starts from a fresh baseline.
        fingerprints.clear();
        lastTickAt = undefined;
      };
      if (signal.aborted) leave();
      else signal.addEventListener("abort", leave, { once: true });
      return {
        know(ids) {
          for (const id of ids) subscriber.sent.add(id);
        },
        async *changes() {
          try {
            while (!signal.aborted && !closed) {
              if (subscriber.pending.size === 0) {
                await waitForWake(subscriber, signal);
                continue;
              }
              const batch = [...subscriber.pending];
              subscriber.pending.clear();
              yield {
                upserts: batch.flatMap(([, entry]) => (entry ? [entry] : [])),
                removed: batch.flatMap(([id, entry]) => (entry ? [] : [id])),
              };
            }
          } finally {
            leave();
          }
        },
      };
    },
    tick: () => ticker.tick(),
    subscribers: () => subscribers.size,
    close() {
      closed = true;
      ticker.close();
      for (const subscriber of subscribers) subscriber.wake?.();
    },
  };
}
