import { AppError } from "../../platform/errors/app-error.js";
import { STALE_LAST_SEEN_AFTER_MS } from "./server-presence.js";

export interface PresenceFacts {
  readonly name: string;
  readonly status: string;
  readonly lastSeenAt: Date | null;
}

/**
 * Whether the database says no replica holds a live stream of this server's agent: shown
 * `offline`, or not `active` and silent for longer than a live stream may be. Every replica writes
 * what its streams do into `servers` (active on connect, offline on close, last seen every few
 * seconds, silent ones offline), so this holds whichever replica is asked. An `active` server is
 * trusted: its command is sent by the replica holding the stream (NOTIFY nudges).
 */
export function agentIsOffline(server: PresenceFacts, now: Date): boolean {
  if (server.status === "offline") return true;
  if (server.status === "active") return false;
  return !server.lastSeenAt || now.getTime() - server.lastSeenAt.getTime() > STALE_LAST_SEEN_AFTER_MS;
}

/**
 * For calls that someone waits for: answers `unavailable` at once when the agent is known to be
 * offline, instead of queueing a command that could only wait for its deadline.
 */
export function requireAgentOnline(server: PresenceFacts, now: Date): void {
  if (!agentIsOffline(server, now)) return;
  const seen = server.lastSeenAt ? `last seen ${server.lastSeenAt.toISOString()}` : "never seen";
  throw new AppError(
    "unavailable",
    `server ${server.name} is offline (${seen}); the command was not sent: check the host, its network and the ocore-agent service, then retry`,
  );
}
