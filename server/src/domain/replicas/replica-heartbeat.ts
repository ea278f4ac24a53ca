import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import {
  heartbeatReplica,
  pruneDeadReplicas,
  REPLICA_HEARTBEAT_EVERY_MS,
  type ReplicaRecord,
  recordAgentHeld,
  registerReplica,
  removeReplica,
} from "./replica-presence.js";

export interface ReplicaHeartbeat {
  readonly replicaId: string;
  /** A stream went live here: the presence row says so at once (not only at the next beat). */
  held(serverId: string): void;
  /** One beat now (tests). */
  beat(): Promise<void>;
  /** Stops beating and removes this replica's rows (peers stop relaying to it at once). */
  stop(): Promise<void>;
}

/**
 * This replica in the `replicas` registry and its agents in `agent_presence`: written at start,
 * then every `everyMs` (± 20 %, so replicas do not beat in step). A failing beat is logged once
 * until one succeeds again; peers then see this replica's rows go stale and stop relaying to it.
 */
export async function startReplicaHeartbeat(options: {
  readonly db: Db;
  readonly logger: Logger;
  readonly replica: ReplicaRecord;
  /** The servers whose agent streams this replica holds now. */
  readonly heldServers: () => Iterable<string>;
  readonly now: () => Date;
  readonly everyMs?: number;
}): Promise<ReplicaHeartbeat> {
  const { db, logger, replica, now } = options;
  const everyMs = options.everyMs ?? REPLICA_HEARTBEAT_EVERY_MS;
  await registerReplica(db, { ...replica, now: now() });
  let failing = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const beat = async () => {
    try {
      const at = now();
      await heartbeatReplica(db, { ...replica, now: at, held: [...options.heldServers()] });
      await pruneDeadReplicas(db, { now: at, deadAfterMs: 10 * everyMs + 60_000 });
      if (failing) logger.info("replica heartbeat works again");
      failing = false;
    } catch (error) {
      if (!failing)
        logger.warn({ err: error }, "replica heartbeat failed; peers may stop relaying to this replica");
      failing = true;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        running = beat().finally(schedule);
      },
      everyMs * (0.8 + Math.random() * 0.4),
    );
    timer.unref();
  };
  schedule();
  return {
    replicaId: replica.id,
    held(serverId) {
      if (stopped) return;
      recordAgentHeld(db, { serverId, replicaId: replica.id, now: now() }).catch((error: unknown) =>
        logger.warn({ err: error, serverId }, "could not record which replica holds the agent"),
      );
    },
    beat: () => beat(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await removeReplica(db, replica.id).catch((error: unknown) =>
        logger.warn({ err: error }, "could not remove this replica's presence rows"),
      );
    },
  };
}
