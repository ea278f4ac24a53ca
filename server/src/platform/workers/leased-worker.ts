import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Db } from "../db/database.js";
import { type Listening, listenOn } from "../db/notifications.js";
import type { Logger } from "../logging/logger.js";
import type { LeaseInput } from "./leases.js";

/** A lease owner name for one worker of this process: host:pid:random. */
export function workerOwnerId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

export interface LeasedWorkerTiming {
  /** How often an idle worker looks for due work, ±25% so replicas do not poll in step. */
  readonly pollMs: number;
  /** How long a claim holds without renewal; a dead process's work is claimable after it. */
  readonly leaseMs: number;
  /** Items this worker runs at once. */
  readonly concurrency: number;
}

export interface LeasedRunContext {
  readonly owner: string;
  /** Aborts when the worker stops or the item's lease was lost (another owner has it now). */
  readonly signal: AbortSignal;
  /** The worker's logger, bound to the item (`describe`). */
  readonly logger: Logger;
  /** True once stop() was called: an interrupted run is then not a failure to record. */
  stopping(): boolean;
}

export interface LeasedWorkerOptions<Item> extends LeasedWorkerTiming {
  readonly db: Db;
  /** The worker's logger (bound to its component); the owner is added. */
  readonly logger: Logger;
  /** The clock leases are computed from (tests move it). */
  readonly now: () => Date;
  readonly owner?: string;
  /**
   * A PostgreSQL channel the worker LISTENs on: a NOTIFY on it (`notifyOn`, best in the
   * transaction that makes work due) wakes every replica's worker at once. PGlite has no other
   * process to hear from: there `wake()` and polling do it.
   */
  readonly channel?: string;
  /** Claims up to `limit` due items for `owner` (see `claimLeasedRows`). */
  claim(limit: number, lease: LeaseInput): Promise<readonly Item[]>;
  /** Extends an item's lease; false when it is no longer this owner's. */
  renew(item: Item, lease: LeaseInput): Promise<boolean>;
  /** Does the work. Errors it throws are logged; record failures inside it. */
  run(item: Item, context: LeasedRunContext): Promise<void>;
  /** After the runs ended on stop: gives the leases back (omit to let them expire instead). */
  release?(owner: string): Promise<void>;
  /** What identifies an item in the log (and its key among the running ones). */
  describe(item: Item): { readonly key: string } & Record<string, unknown>;
}

export interface LeasedWorker {
  /** This worker's lease owner name. */
  readonly owner: string;
  /** Looks for due work now and then every `pollMs`. */
  start(): void;
  /** Looks for due work now (this process just made some due). */
  wake(): void;
  /** Claims and runs what is due now, resolving when those runs ended; returns how many ran. */
  runDue(): Promise<number>;
  /**
   * Stops claiming, aborts the runs under way and waits for them (at most `graceMs` when given),
   * then releases the leases if `release` was given.
   */
  stop(options?: { readonly graceMs?: number }): Promise<void>;
}

/**
 * The one loop behind every background worker whose work sits in database rows (provisioning
 * jobs, scheduled backups): claim with a lease, run up to `concurrency` at once, renew each
 * lease every third of its length (a lost lease aborts the run), wake on NOTIFY or `wake()`,
 * poll with jitter, drain on stop. A claim that fails is logged once until claiming works again.
 * See docs/decisions/0112-leased-workers.md.
 */
export function createLeasedWorker<Item>(options: LeasedWorkerOptions<Item>): LeasedWorker {
  const { db, now, pollMs, leaseMs, concurrency } = options;
  const owner = options.owner ?? workerOwnerId();
  const logger = options.logger.child({ owner });
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<number> | undefined;
  let claimFailing = false;

  let listener: Listening | undefined;

  const lease = (): LeaseInput => ({ owner, leaseMs, now: now() });

  function schedule(delay: number): void {
    if (stopped || !started) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      void poll().finally(() => schedule(jittered(pollMs)));
    }, delay);
  }

  /** Claims until nothing is due or every slot is busy; never two claim loops at once. */
  function poll(): Promise<number> {
    polling ??= claimAndStart().finally(() => {
      polling = undefined;
    });
    return polling;
  }

  async function claimAndStart(): Promise<number> {
    let count = 0;
    while (!stopped && running.size < concurrency) {
      let items: readonly Item[];
      try {
        items = await options.claim(concurrency - running.size, lease());
        if (claimFailing) logger.info("claiming works again");
        claimFailing = false;
      } catch (error) {
        if (!claimFailing) logger.error({ err: error }, "could not claim work; retrying");
        claimFailing = true;
        return count;
      }
      if (items.length === 0) return count;
      for (const item of items) start(item);
      count += items.length;
    }
    return count;
  }

  function start(item: Item): void {
    const { key, ...fields } = options.describe(item);
    const itemLogger = logger.child(fields);
    const controller = new AbortController();
    let lost = false;
    let renewFailing = false;
    const renewal = setInterval(
      () =>
        void options
          .renew(item, lease())
          .then((held) => {
            if (renewFailing) itemLogger.info("renewing the lease works again");
            renewFailing = false;
            if (held || lost) return;
            lost = true;
            itemLogger.warn("lost the lease (another owner has the work now); stopping this run");
            controller.abort(new Error("the lease was lost"));
          })
          .catch((error: unknown) => {
            // Once per outage: the run goes on, and loses the work only if the lease runs out.
            if (!renewFailing) itemLogger.warn({ err: error }, "could not renew the lease; retrying");
            renewFailing = true;
          }),
      Math.max(200, Math.floor(leaseMs / 3)),
    );
    const context: LeasedRunContext = {
      owner,
      signal: controller.signal,
      logger: itemLogger,
      stopping: () => stopped,
    };
    const done = Promise.resolve()
      .then(() => options.run(item, context))
      .catch((error: unknown) => itemLogger.error({ err: error }, "the run failed unexpectedly"))
      .finally(() => {
        clearInterval(renewal);
        running.delete(key);
        schedule(0);
      });
    running.set(key, { controller, done });
  }

  return {
    owner,
    start() {
      if (started || stopped) return;
      started = true;
      if (options.channel) {
        listener = listenOn(db, options.channel, {
          onNotify: () => schedule(0),
          onReconnect: () => schedule(0),
          onError: (error) =>
            logger.warn({ err: error, channel: options.channel }, "could not listen for work; polling only"),
        });
      }
      logger.info({ pollMs, concurrency }, "worker started");
      schedule(0);
    },
    wake: () => schedule(0),
    async runDue() {
      let total = 0;
      for (;;) {
        const count = await poll();
        total += count;
        if (running.size === 0 && count === 0) return total;
        await Promise.allSettled([...running.values()].map((entry) => entry.done));
      }
    },
    async stop(stopOptions = {}) {
      stopped = true;
      clearTimeout(timer);
      await polling;
      for (const { controller } of running.values()) controller.abort(new Error("the worker is stopping"));
      const runs = Promise.allSettled([...running.values()].map((entry) => entry.done));
      if (stopOptions.graceMs === undefined) await runs;
      else await withinGrace(runs, stopOptions.graceMs);
      await listener?.close();
      await options
        .release?.(owner)
        .catch((error: unknown) => logger.warn({ err: error }, "could not give the leases back"));
    },
  };
}

/** `ms` ±25%, so that replicas started together do not poll the database in step. */
function jittered(ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5));
}

async function withinGrace(runs: Promise<unknown>, graceMs: number): Promise<void> {
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([
    runs,
    new Promise((resolve) => {
      grace = setTimeout(resolve, graceMs);
    }),
  ]);
  clearTimeout(grace);
}
