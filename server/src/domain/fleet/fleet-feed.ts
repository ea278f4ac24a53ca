import { createChangeTicker, waitForWake } from "../../platform/db/change-ticker.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { Scope } from "../auth/principal.js";
import { createServerCountCache, type ServerCountCache } from "../servers/server-counts.js";
import type { ServerRow } from "../servers/servers.js";
import {
  type FleetEntry,
  type FleetWindow,
  type FleetWindowSpec,
  fingerprintOf,
  readFleetEntries,
  readWindow,
} from "./fleet-state.js";

/** A page window as the watcher should now show it: its servers in order, the next page, the counts. */
export interface FleetWindowMeta {
  readonly serverIds: readonly string[];
  readonly nextPageToken: string;
  readonly totalSize: number;
  readonly statusCounts: Readonly<Record<string, number>>;
}

/** One batch for one watcher. */
export interface FleetBatch {
  /** The first batch holds the whole window; the watcher replaces what it had with it. */
  readonly initial: boolean;
  /** Servers that entered the window or changed since the watcher's previous batch. */
  readonly upserts: readonly FleetEntry[];
  /** Servers the watcher holds that left the window (deleted, out of scope, paged or filtered out). */
  readonly removed: readonly string[];
  /** For a page window: set in the first batch and whenever the order, next page or counts changed. */
  readonly window?: FleetWindowMeta;
}

export interface FleetFeed {
  /**
   * Follows `spec` as `scope` sees it: first the window as it is, then, after each tick, only
   * what differs from what this watcher was last sent, until the signal aborts or the feed closes.
   */
  watch(scope: Scope, spec: FleetWindowSpec, signal: AbortSignal): AsyncGenerator<FleetBatch>;
  /** Reads every watched window and wakes the watchers whose window differs now (the ticker calls it; tests too). */
  tick(): Promise<void>;
  /** The number of live watchers. */
  subscribers(): number;
  close(): void;
}

export interface FleetFeedOptions {
  readonly db: Db;
  readonly logger: Logger;
  /** How often the shared ticker reads the watched windows while anyone watches. */
  readonly tickMs?: number;
  /** Shared with ListServers, so pages and windows of one filter are counted once per period. */
  readonly counts?: ServerCountCache;
}

/** A window read at one tick, shared by every watcher of the same scope and spec. */
interface WindowState {
  readonly order: readonly string[];
  readonly entries: ReadonlyMap<string, { readonly entry: FleetEntry; readonly fingerprint: string }>;
  readonly meta: FleetWindowMeta | undefined;
  readonly metaFingerprint: string;
}

interface Watcher {
  readonly key: string;
  readonly scope: Scope;
  readonly spec: FleetWindowSpec;
  /** The newest state of its window; at most one window's worth of servers. */
  current: WindowState;
  /** What the watcher holds: id → fingerprint of the entry it was sent; at most one window. */
  delivered: ReadonlyMap<string, string>;
  deliveredMeta: string;
  wake: (() => void) | undefined;
}

/**
 * The feed behind FleetService/WatchFleet. A watcher follows a bounded window, never the whole
 * fleet: one shared ticker per process, running only while someone watches, reads each distinct
 * window (scope + spec) once per tick — a page query, its counts through the shared count cache,
 * and the newest sample, job and instances of the servers on it — and each watcher is sent the
 * difference between that and what it holds. Memory per watcher and work per tick grow with the
 * windows watched, not with the fleet or with how many servers changed; a slow reader misses only
 * intermediate states. Reading the database (not an in-process event) sees writes of every replica.
 */
export function createFleetFeed(options: FleetFeedOptions): FleetFeed {
  const { db, logger } = options;
  const tickMs = options.tickMs ?? 2_000;
  const counts = options.counts ?? createServerCountCache();
  const watchers = new Set<Watcher>();
  let closed = false;

  /** Reads windows; a new watcher's first read counts afresh, ticks reuse counts a few seconds old. */
  async function readState(
    windows: ReadonlyMap<string, Pick<Watcher, "scope" | "spec">>,
    reuseCounts: boolean,
  ): Promise<Map<string, WindowState>> {
    const read = new Map<string, FleetWindow>();
    for (const [key, { scope, spec }] of windows) {
      read.set(key, await readWindow(db, scope, spec, { cache: counts, reuse: reuseCounts }));
    }
    const rows = new Map<string, ServerRow>();
    for (const window of read.values()) for (const row of window.rows) rows.set(row.id, row);
    const entries = new Map(
      (await readFleetEntries(db, [...rows.values()])).map((entry) => [
        entry.server.id,
        { entry, fingerprint: fingerprintOf(entry) },
      ]),
    );
    const states = new Map<string, WindowState>();
    for (const [key, window] of read) {
      const order = window.rows.map((row) => row.id);
      const meta = window.page && {
        serverIds: order,
        nextPageToken: window.page.nextPageToken,
        totalSize: window.page.totalSize,
        statusCounts: window.page.statusCounts,
      };
      const mine = new Map<string, { readonly entry: FleetEntry; readonly fingerprint: string }>();
      for (const id of order) {
        const item = entries.get(id);
        if (item) mine.set(id, item);
      }
      states.set(key, {
        order,
        entries: mine,
        meta,
        metaFingerprint: meta ? JSON.stringify(meta) : "",
      });
    }
    return states;
  }

  async function readAll(): Promise<void> {
    // One read per distinct window, however many watch it.
    const windows = new Map<string, Watcher>();
    for (const watcher of watchers) if (!windows.has(watcher.key)) windows.set(watcher.key, watcher);
    if (windows.size === 0) return;
    const states = await readState(windows, true);
    for (const watcher of watchers) {
      const state = states.get(watcher.key);
      if (!state) continue; // joined during this read: its initial state is newer
      watcher.current = state;
      if (differs(watcher)) watcher.wake?.();
    }
  }

  const ticker = createChangeTicker({
    tickMs,
    read: readAll,
    watched: () => watchers.size > 0,
    onError: (error) => logger.warn({ err: error }, "the fleet feed could not read the watched windows"),
  });

  return {
    async *watch(scope, spec, signal) {
      const key = JSON.stringify([scope, spec]);
      const initial = (await readState(new Map([[key, { scope, spec }]]), false)).get(key) ?? never();
      const watcher: Watcher = {
        key,
        scope,
        spec,
        current: initial,
        delivered: new Map(),
        deliveredMeta: "",
        wake: undefined,
      };
      // Registered after its initial read: every tick from now on reads a newer state than it.
      watchers.add(watcher);
      ticker.schedule();
      const leave = () => {
        if (watchers.delete(watcher) && watchers.size === 0) ticker.pause();
      };
      try {
        yield { ...difference(watcher), initial: true, window: initial.meta };
        while (!signal.aborted && !closed) {
          if (!differs(watcher)) {
            await waitForWake(watcher, signal);
            continue;
          }
          yield difference(watcher);
        }
      } finally {
        leave();
      }
    },
    tick: () => ticker.tick(),
    subscribers: () => watchers.size,
    close() {
      closed = true;
      ticker.close();
      for (const watcher of watchers) watcher.wake?.();
    },
  };
}

/** Whether the watcher's newest state differs from what it holds. */
function differs(watcher: Watcher): boolean {
  const { current, delivered } = watcher;
  if (current.metaFingerprint !== watcher.deliveredMeta) return true;
  if (current.entries.size !== delivered.size) return true;
  for (const [id, { fingerprint }] of current.entries) if (delivered.get(id) !== fingerprint) return true;
  return false;
}

/** The batch that brings the watcher from what it holds to its newest state, which it then holds. */
function difference(watcher: Watcher): FleetBatch {
  const { current, delivered } = watcher;
  const upserts: FleetEntry[] = [];
  for (const id of current.order) {
    const item = current.entries.get(id);
    if (item && delivered.get(id) !== item.fingerprint) upserts.push(item.entry);
  }
  const removed = [...delivered.keys()].filter((id) => !current.entries.has(id));
  const window = current.metaFingerprint !== watcher.deliveredMeta ? current.meta : undefined;
  watcher.delivered = new Map([...current.entries].map(([id, { fingerprint }]) => [id, fingerprint]));
  watcher.deliveredMeta = current.metaFingerprint;
  return { initial: false, upserts, removed, window };
}

function never(): never {
  throw new Error("unreachable: a window read lost its own key");
}
