import type { AgentSession } from "./agent-session.js";

/**
 * The live streams of this process, one per server. A newer stream replaces the older one,
 * which is closed with a status that says so.
 */
export class SessionRegistry {
  private readonly live = new Map<string, AgentSession>();

  /** `onRegister`: a stream became the server's current one here (the replica presence records it). */
  constructor(private readonly onRegister?: (serverId: string) => void) {}

  register(session: AgentSession): void {
    const older = this.live.get(session.serverId);
    this.live.set(session.serverId, session);
    this.onRegister?.(session.serverId);
    older?.close({ code: "aborted", message: "replaced by a newer stream from the same server" });
  }

  /** True when the session was the server's current stream (and is now removed). */
  unregister(session: AgentSession): boolean {
    if (this.live.get(session.serverId) !== session) return false;
    this.live.delete(session.serverId);
    return true;
  }

  get(serverId: string): AgentSession | undefined {
    return this.live.get(serverId);
  }

  /** The servers whose streams are held here. */
  serverIds(): IterableIterator<string> {
    return this.live.keys();
  }

  sessions(): IterableIterator<AgentSession> {
    return this.live.values();
  }

  get size(): number {
    return this.live.size;
  }
}
