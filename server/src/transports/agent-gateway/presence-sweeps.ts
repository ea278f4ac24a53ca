import { findRevokedSince } from "../../domain/agent-identity/revoke-server-certificates.js";
import { markSilentServersOffline, writeLastSeen } from "../../domain/presence/server-presence.js";
import type { Db } from "../../platform/db/database.js";
import type { Logger } from "../../platform/logging/logger.js";
import type { AgentSession } from "./agent-session.js";
import type { PendingUsage } from "./pending-usage.js";
import type { SessionRegistry } from "./session-registry.js";

export interface SweepTiming {
  /** The server pings a live agent quiet for this long, and again this often while it stays quiet. */
  readonly pingEveryMs: number;
  /** A live stream without any message for this long is closed and its server shown offline. */
  readonly silentAfterMs: number;
  /** How often the sweep runs (0: never by itself; tests call `sweep`). */
  readonly sweepEveryMs: number;
}

export interface PresenceSweeps {
  /**
   * One round: pings and silence, last-seen times, removed servers, revocations, stale servers.
   * `late`: this process's event loop was stalled, so messages may be waiting unread; the round
   * then closes no stream for silence (a stalled server must not show its whole fleet offline).
   */
  sweep(options?: { readonly late?: boolean }): Promise<void>;
  /** Runs `sweep` every `sweepEveryMs`, one round at a time. */
  start(): void;
  stop(): void;
}

/**
 * The gateway's periodic checks over the live streams of this process: ping the quiet ones and
 * close the silent ones, write last-seen times (one statement for every stream heard from since
 * the last write, with the newest usage the streams brought), close streams of removed servers and revoked certificates, and show offline
 * any server no replica has heard from (a dead replica's streams).
 */
export function createPresenceSweeps(options: {
  readonly db: Db;
  readonly registry: SessionRegistry;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly timing: SweepTiming;
  /** Usage the session hooks noted; each sweep writes it with the last-seen times. */
  readonly pendingUsage: PendingUsage;
}): PresenceSweeps {
  const { db, registry, logger, now, timing, pendingUsage } = options;
  let revocationsCheckedAt = now();
  /** The `lastReceivedAt` each live stream had when its last-seen time was last written. */
  const lastSeenWritten = new WeakMap<AgentSession, Date>();
  let timer: NodeJS.Timeout | undefined;

  const sweep = async (options: { readonly late?: boolean } = {}) => {
    const at = now();
    const live = [...registry.sessions()];
    for (const session of live) {
      const quietMs = at.getTime() - session.lastReceivedAt.getTime();
      if (quietMs > timing.silentAfterMs) {
        if (options.late) continue;
        session.close({
          code: "unavailable",
          message: `no message from the agent for ${timing.silentAfterMs / 1000} s`,
        });
      } else if (
        quietMs >= timing.pingEveryMs &&
        at.getTime() - session.lastPingAt.getTime() >= timing.pingEveryMs
      ) {
        // Only quiet streams are pinged: an agent that sends samples proves itself.
        session.sendPing();
      }
    }
    // Only streams that received something since the last write: a quiet one costs nothing, and
    // a removed server is still noticed at its agent's next message.
    const heard = live.filter(
      (session) =>
        session.state === "live" &&
        (lastSeenWritten.get(session) !== session.lastReceivedAt || pendingUsage.has(session.serverId)),
    );
    const existing = await writeLastSeen(
      db,
      heard.map((session) => ({
        serverId: session.serverId,
        at: session.lastReceivedAt,
        usage: pendingUsage.take(session.serverId),
      })),
    );
    // Usage of streams that closed before the sweep is dropped with them.
    pendingUsage.keepOnly((serverId) => registry.get(serverId) !== undefined);
    for (const session of heard) {
      lastSeenWritten.set(session, session.lastReceivedAt);
      if (!existing.has(session.serverId)) {
        session.close({ code: "permission_denied", message: "this server was removed from oCore" });
      }
    }
    const revoked = new Set(await findRevokedSince(db, new Date(revocationsCheckedAt.getTime() - 60_000)));
    revocationsCheckedAt = at;
    for (const session of registry.sessions()) {
      if (revoked.has(session.identity.serial)) {
        session.close({ code: "permission_denied", message: "certificate revoked: re-enroll the agent" });
      }
    }
    if (!options.late) {
      await markSilentServersOffline(db, {
        now: at,
        silentAfterMs: timing.silentAfterMs + 2 * timing.sweepEveryMs + 1_000,
      });
    }
  };

  return {
    sweep,
    start() {
      if (timing.sweepEveryMs <= 0 || timer) return;
      let dueAt = performance.now() + timing.sweepEveryMs;
      const tick = () => {
        // A tick much later than due means this process was stalled (GC, a long synchronous
        // task, a starved VM): its sockets may hold messages not yet read.
        const late = performance.now() - dueAt > Math.max(timing.sweepEveryMs, timing.silentAfterMs / 4);
        if (late)
          logger.warn(
            { lateMs: Math.round(performance.now() - dueAt) },
            "agent gateway sweep ran late; closing no silent stream this round",
          );
        sweep({ late })
          .catch((error: unknown) => logger.warn({ err: error }, "agent gateway sweep failed"))
          .finally(() => {
            if (!timer) return;
            dueAt = performance.now() + timing.sweepEveryMs;
            timer = setTimeout(tick, timing.sweepEveryMs);
          });
      };
      timer = setTimeout(tick, timing.sweepEveryMs);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
