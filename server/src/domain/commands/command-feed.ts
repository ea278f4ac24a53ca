import type { FinalState } from "./command-records.js";

/** What a watcher of one command hears, after it is stored. */
export type FeedEvent =
  | { readonly kind: "started" }
  | { readonly kind: "output"; readonly sequence: number; readonly stream: number; readonly data: Uint8Array }
  | { readonly kind: "finished"; readonly state: FinalState }
  /** The watcher fell too far behind and was dropped; it may watch again (the archive has it all). */
  | { readonly kind: "overflow" };

export type FeedListener = (event: FeedEvent) => void;

export interface CommandFeed {
  /** Listens to one command's stored events; returns the unsubscribe function. */
  subscribe(commandId: string, listener: FeedListener): () => void;
  publish(commandId: string, event: FeedEvent): void;
  readonly subscriptions: number;
}

/** The in-process live feed: command id → listeners. Publishing to nobody costs a map lookup. */
export function createCommandFeed(): CommandFeed {
  const listeners = new Map<string, Set<FeedListener>>();
  let count = 0;
  return {
    get subscriptions() {
      return count;
    },
    subscribe(commandId, listener) {
      let set = listeners.get(commandId);
      if (!set) {
        set = new Set();
        listeners.set(commandId, set);
      }
      set.add(listener);
      count += 1;
      return () => {
        const current = listeners.get(commandId);
        if (!current?.delete(listener)) return;
        count -= 1;
        if (current.size === 0) listeners.delete(commandId);
      };
    },
    publish(commandId, event) {
      const set = listeners.get(commandId);
      if (!set) return;
      for (const listener of [...set]) listener(event);
    },
  };
}

/**
 * A watcher's bounded queue over the feed, as an async iterator. Events beyond `maxBytes` of
 * unread output end it with "overflow" instead of growing memory for a slow reader.
 */
export function bufferedSubscription(
  feed: CommandFeed,
  commandId: string,
  maxBytes = 4 * 1024 * 1024,
): { events: AsyncIterableIterator<FeedEvent>; close(): void } {
  const queue: FeedEvent[] = [];
  let queuedBytes = 0;
  let wake: (() => void) | undefined;
  let done = false;
  const unsubscribe = feed.subscribe(commandId, (event) => {
    if (done) return;
    if (event.kind === "output") {
      queuedBytes += event.data.byteLength;
      if (queuedBytes > maxBytes) {
        queue.length = 0;
        queue.push({ kind: "overflow" });
        done = true;
        unsubscribe();
        wake?.();
        return;
      }
    }
    queue.push(event);
    if (event.kind === "finished") {
      done = true;
      unsubscribe();
    }
    wake?.();
  });
  const close = () => {
    done = true;
    unsubscribe();
    queue.length = 0;
    wake?.();
  };
  const events: AsyncIterableIterator<FeedEvent> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      while (queue.length === 0) {
        if (done) return { done: true, value: undefined };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      const event = queue.shift() as FeedEvent;
      if (event.kind === "output") queuedBytes -= event.data.byteLength;
      return { done: false, value: event };
    },
    async return() {
      close();
      return { done: true, value: undefined };
    },
  };
  return { events, close };
}
