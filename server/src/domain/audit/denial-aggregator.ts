import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import { type AuditContext, systemContext } from "./audit-context.js";
import { type AuditEvent, recordAudit } from "./record-audit.js";

/** One refused call, and what makes it "the same" as others (who, what, on what, or from where). */
export interface Denial {
  readonly key: string;
  readonly context: AuditContext;
  readonly event: Omit<AuditEvent, "result">;
}

export interface DenialAggregatorOptions {
  readonly db: Db;
  readonly logger: Logger;
  /** Identical denials within this long of the first are counted, then written as one entry. */
  readonly windowMs?: number;
  /** Keys followed at once; denials under further keys are counted together (memory stays bounded). */
  readonly maxKeys?: number;
  /** The action of the entry that counts denials beyond `maxKeys` distinct keys. */
  readonly overflowAction: string;
  readonly now?: () => Date;
}

export interface DenialAggregator {
  /**
   * Audits a denial: the first of its key is written at once (resolves once it is); the ones
   * that follow within the window are only counted, and written as one entry when it ends.
   */
  record(denial: Denial): Promise<void>;
  /** Writes the counts of windows that have ended (runs on a timer; tests call it directly). */
  flush(): Promise<void>;
  /** Writes every pending count and stops the timer. */
  close(): Promise<void>;
  /** Keys followed right now (for tests: the memory bound). */
  readonly size: number;
}

interface Window {
  startedAt: Date;
  /** Denials counted but not written yet. */
  repeated: number;
  denial: Denial;
}

/**
 * Audits refusals without letting a flood fill the audit log or the memory: per key, the first
 * denial is written at once; identical ones that follow are counted and written as one entry
 * ("denied N more times between … and …") when the window ends, then counted afresh while they
 * keep coming. A key quiet for a whole window is forgotten. At most `maxKeys` keys are followed;
 * denials under any other key in that time are counted in one overflow entry. So a window writes
 * at most 2 × maxKeys + 1 entries and holds at most maxKeys + 1 windows, whatever arrives.
 */
export function createDenialAggregator(options: DenialAggregatorOptions): DenialAggregator {
  const { db, logger } = options;
  const windowMs = options.windowMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 1000;
  const now = options.now ?? (() => new Date());
  const windows = new Map<string, Window>();
  let overflow: { startedAt: Date; count: number } | undefined;
  const writing = new Set<Promise<void>>();
  let closed = false;

  const write = (context: AuditContext, event: AuditEvent, at: Date): Promise<void> => {
    const written = db
      .transaction((tx) => recordAudit(tx, context, event, at))
      .then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, action: event.action }, "could not audit a denial"),
      )
      .finally(() => writing.delete(written));
    writing.add(written);
    return written;
  };

  const writeRepeated = (window: Window, until: Date): Promise<void> => {
    const { denial, repeated, startedAt } = window;
    const detail = `denied ${repeated} more time(s) between ${startedAt.toISOString()} and ${until.toISOString()} (identical denials are written once per window): ${denial.event.detail ?? ""}`;
    return write(
      denial.context,
      {
        ...denial.event,
        result: "denied",
        detail: detail.slice(0, 1000),
        after: { repeated, since: startedAt.toISOString(), until: until.toISOString() },
      },
      until,
    );
  };

  /** Ends the windows (and the overflow count) that are over at `at`. */
  const endWindows = (at: Date): Promise<void>[] => {
    const written: Promise<void>[] = [];
    for (const [key, window] of windows) {
      if (at.getTime() - window.startedAt.getTime() < windowMs) continue;
      if (window.repeated === 0) {
        windows.delete(key);
        continue;
      }
      written.push(writeRepeated(window, at));
      window.startedAt = at;
      window.repeated = 0;
    }
    if (overflow && at.getTime() - overflow.startedAt.getTime() >= windowMs) {
      const { count, startedAt } = overflow;
      overflow = undefined;
      written.push(
        write(
          systemContext(),
          {
            action: options.overflowAction,
            targetType: "",
            targetId: "",
            result: "denied",
            detail: `${count} denial(s) between ${startedAt.toISOString()} and ${at.toISOString()} from more distinct callers than the ${maxKeys} followed one by one; they were counted, not recorded individually`,
            after: { repeated: count, since: startedAt.toISOString(), until: at.toISOString() },
          },
          at,
        ),
      );
    }
    return written;
  };

  const timer = setInterval(
    () => {
      void Promise.all(endWindows(now()));
    },
    Math.max(1000, Math.floor(windowMs / 4)),
  );
  timer.unref();

  return {
    get size() {
      return windows.size;
    },
    async record(denial) {
      if (closed) return; // shutting down: the database is about to close
      const at = now();
      const window = windows.get(denial.key);
      if (window && at.getTime() - window.startedAt.getTime() < windowMs) {
        window.repeated++;
        window.denial = denial;
        return;
      }
      if (window) await Promise.all(endWindows(at));
      const current = windows.get(denial.key);
      if (current) {
        // It kept coming: counted in the window that just started.
        current.repeated++;
        current.denial = denial;
        return;
      }
      if (windows.size >= maxKeys) {
        if (overflow) overflow.count++;
        else overflow = { startedAt: at, count: 1 };
        return;
      }
      windows.set(denial.key, { startedAt: at, repeated: 0, denial });
      await write(denial.context, { ...denial.event, result: "denied" }, at);
    },
    async flush() {
      await Promise.all(endWindows(now()));
    },
    async close() {
      closed = true;
      clearInterval(timer);
      const at = now();
      const written: Promise<void>[] = [];
      for (const window of windows.values()) {
        if (window.repeated > 0) written.push(writeRepeated(window, at));
      }
      windows.clear();
      if (overflow) {
        overflow.startedAt = new Date(0);
        written.push(...endWindows(at));
      }
      await Promise.all([...written, ...writing]);
    },
  };
}
