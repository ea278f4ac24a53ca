import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Db } from "../../../platform/db/database.js";
import type { Logger } from "../../../platform/logging/logger.js";
import type { MasterKeyring } from "../../../platform/pki/master-key.js";
import { openChannel } from "../channels/channel-store.js";
import { deliver } from "../channels/deliver.js";
import type { NotificationMessage } from "../notification-message.js";
import {
  type Backoff,
  claimDueNotifications,
  finishNotification,
  type NotificationRow,
} from "./outbox-claims.js";

export interface OutboxTiming {
  /** How often due rows are looked for (an in-process wake() comes sooner). */
  readonly pollMs: number;
  /** A claim's lifetime; it must exceed sendTimeoutMs so a live sender is never doubled. */
  readonly leaseMs: number;
  /** How long one send may take before it counts as failed. */
  readonly sendTimeoutMs: number;
  /** Rows sent at once: a channel that hangs holds one slot, never the others. */
  readonly concurrency: number;
  readonly backoff: Backoff;
}

export const defaultOutboxTiming: OutboxTiming = {
  pollMs: 2_000,
  leaseMs: 60_000,
  sendTimeoutMs: 15_000,
  concurrency: 8,
  backoff: { baseMs: 5_000, maxMs: 3_600_000, maxAttempts: 25 },
};

export interface OutboxWorker {
  readonly owner: string;
  start(): void;
  /** Looks for due rows now (after the evaluator queued some). */
  wake(): void;
  /** Claims and sends what is due now, resolving when those sends ended; returns how many. */
  runDue(): Promise<number>;
  /** Stops claiming and waits for sends under way (their leases end as they finish). */
  stop(): Promise<void>;
}

/** Delivers the outbox: any number of server processes may run one. */
export function createOutboxWorker(options: {
  readonly db: Db;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly keyring: MasterKeyring;
  readonly timing?: Partial<OutboxTiming>;
}): OutboxWorker {
  const { db, now, keyring } = options;
  const timing = { ...defaultOutboxTiming, ...options.timing };
  const owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const logger = options.logger.child({ component: "alert-outbox", owner });
  const running = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  async function claimAndSend(): Promise<number> {
    const free = timing.concurrency - running.size;
    if (stopped || free <= 0) return 0;
    let rows: NotificationRow[];
    try {
      rows = await claimDueNotifications(db, { owner, leaseMs: timing.leaseMs, now: now(), limit: free });
      failing = false;
    } catch (error) {
      if (!failing) logger.error({ err: error }, "could not claim notifications; retrying");
      failing = true;
      return 0;
    }
    for (const row of rows) {
      const send = sendOne(row).finally(() => {
        running.delete(send);
        // A finished row may unblock the next one of its group.
        if (!stopped) setImmediate(() => void claimAndSend());
      });
      running.add(send);
    }
    return rows.length;
  }

  async function sendOne(row: NotificationRow): Promise<void> {
    const started = performance.now();
    const message = row.payload as unknown as NotificationMessage;
    let summary = "";
    let error: string | undefined;
    try {
      const channel = await openChannel(db, keyring, row.channelId);
      if (!channel) return; // deleted: its rows went with it
      summary = await deliver(channel, message, timing.sendTimeoutMs);
    } catch (failure) {
      error = (failure as Error).message.slice(0, 1000);
      summary = `attempt ${row.attempts} failed`;
    }
    const durationMs = Math.round(performance.now() - started);
    const rowLogger = logger.child({
      notificationId: row.id,
      channelId: row.channelId,
      attempt: row.attempts,
    });
    if (error) rowLogger.warn({ reason: error }, "notification not delivered; will retry");
    try {
      const held = await finishNotification(db, {
        row,
        owner,
        now: now(),
        durationMs,
        summary,
        error,
        backoff: timing.backoff,
      });
      if (!held)
        rowLogger.warn("the notification's lease expired during the send; another worker owns it now");
    } catch (failure) {
      // The lease runs out and the row is sent again: at least once, never lost.
      rowLogger.error({ err: failure }, "could not record a delivery");
    }
  }

  const poll = () => {
    if (stopped) return;
    clearTimeout(timer);
    void claimAndSend().finally(() => {
      if (!stopped) timer = setTimeout(poll, timing.pollMs);
    });
  };

  return {
    owner,
    start() {
      logger.info({ pollMs: timing.pollMs }, "alert notification worker started");
      poll();
    },
    wake: () => {
      if (!stopped) setImmediate(poll);
    },
    async runDue() {
      let total = 0;
      for (;;) {
        const started = await claimAndSend();
        total += started;
        if (running.size === 0 && started === 0) return total;
        await Promise.allSettled([...running]);
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.allSettled([...running]);
    },
  };
}
