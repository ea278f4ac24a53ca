import type { Db } from "../db/database.js";
import { readAuditEntries } from "./query-audit.js";
import type { AuditRow } from "./record-audit.js";

export interface AuditFeed {
  /** Wakes followers at once (called after a change commits); they also poll, for other replicas. */
  poke(): void;
  /** New entries after `afterId`, as they are written, until `signal` aborts. */
  follow(afterId: number, signal: AbortSignal): AsyncGenerator<AuditRow>;
}

export function createAuditFeed(db: Db, pollMs = 2_000): AuditFeed {
  const waiters = new Set<() => void>();
  return {
    poke() {
      for (const wake of waiters) wake();
    },
    async *follow(afterId, signal) {
      let last = afterId;
      while (!signal.aborted) {
        for await (const row of readAuditEntries(db, {}, { afterId: last, pageSize: 200 })) {
          last = row.id;
          yield row;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            signal.removeEventListener("abort", wake);
            resolve();
          };
          const timer = setTimeout(wake, pollMs);
          waiters.add(wake);
          signal.addEventListener("abort", wake, { once: true });
        });
      }
    },
  };
}
