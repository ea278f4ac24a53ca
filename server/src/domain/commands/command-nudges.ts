import type { Db } from "../../platform/db/database.js";
import { listenOn, notifyOn } from "../../platform/db/notifications.js";
import type { Logger } from "../../platform/logging/logger.js";

/** The PostgreSQL channel on which replicas tell each other that commands or cancels were committed. */
export const COMMANDS_CHANNEL = "ocore_commands";

export interface CommandNudges {
  /** Tells the other replicas (after the commit) to look for work for the agents they hold. */
  notify(): void;
  /** Resolves once listening started (tests wait for it before nudging). */
  readonly listening: Promise<void>;
  close(): Promise<void>;
}

/**
 * Cross-replica nudges over LISTEN/NOTIFY: every replica listens on `ocore_commands`; a replica
 * that committed commands for agents it does not hold (or cancelled a command whose agent it does
 * not hold) sends `NOTIFY ocore_commands, '<its id>'`. The others then run `onNudge` (never
 * concurrently with itself; nudges that arrive meanwhile run it once more), which delivers what
 * waits for their agents. A replica ignores its own nudges. After the listening connection comes
 * back (postgres.js listens again by itself) onNudge runs too, for nudges missed meanwhile.
 */
export function createCommandNudges(
  db: Db,
  options: { readonly replicaId: string; readonly logger: Logger; readonly onNudge: () => Promise<void> },
): CommandNudges {
  const { replicaId, logger } = options;
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  const notifying = new Set<Promise<void>>();

  const nudged = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await options.onNudge();
      } while (again && !closed);
    })()
      .catch((error: unknown) =>
        logger.warn({ err: error }, "could not deliver commands after a nudge from another replica"),
      )
      .finally(() => {
        running = undefined;
      });
  };

  const listener = listenOn(db, COMMANDS_CHANNEL, {
    onNotify: (payload) => {
      if (payload !== replicaId) nudged();
    },
    onReconnect: nudged, // listening again after a reconnect: nudges may be lost
    onError: (error) =>
      logger.error(
        { err: error },
        "could not listen for commands from other replicas; commands submitted elsewhere reach this replica's agents only when they reconnect",
      ),
  });

  return {
    listening: listener.ready,
    notify() {
      if (closed) return;
      const sent = notifyOn(db, COMMANDS_CHANNEL, replicaId)
        .then(
          () => undefined,
          (error: unknown) => logger.warn({ err: error }, "could not nudge the other replicas"),
        )
        .finally(() => notifying.delete(sent));
      notifying.add(sent);
    },
    async close() {
      closed = true;
      await Promise.all(notifying);
      await listener.close();
      await running;
    },
  };
}
