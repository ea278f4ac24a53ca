import type { DescMessage } from "@bufbuild/protobuf";
import type { Db } from "../../platform/db/database.js";
import { outcomeOf } from "./command-outcome.js";
import { getCommand, isFinal } from "./command-records.js";
import type { CommandOutcome } from "./command-runner.js";

/**
 * Callers of `wait`, parked until the command ends on this replica (`wake`) or, since another
 * replica may end it, until the next re-read every `pollEveryMs`.
 */
export function createCommandWaiters(db: Db, pollEveryMs: number) {
  const waiters = new Map<string, Set<() => void>>();
  return {
    /** The command ended here: its waiters read it again at once. */
    wake(commandId: string): void {
      const set = waiters.get(commandId);
      waiters.delete(commandId);
      for (const wake of set ?? []) wake();
    },
    async wait<O extends DescMessage>(
      commandId: string,
      output: O,
      signal?: AbortSignal,
    ): Promise<CommandOutcome<O>> {
      for (;;) {
        signal?.throwIfAborted();
        const row = await getCommand(db, commandId);
        if (isFinal(row.state)) return outcomeOf(row, output);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", wake);
            waiters.get(commandId)?.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, pollEveryMs);
          signal?.addEventListener("abort", wake, { once: true });
          let set = waiters.get(commandId);
          if (!set) {
            set = new Set();
            waiters.set(commandId, set);
          }
          set.add(wake);
        });
      }
    },
  };
}
