/** An open session held by this process, as the gateway registers it. */
export interface LiveSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly serverId: string;
  readonly login: string;
  readonly startedAt: Date;
  /** Ends the session now, showing `message` on the user's terminal. */
  terminate(message: string): void;
}

export type LiveSessionView = Omit<LiveSession, "terminate">;

/**
 * The sessions open in this process: the gateway registers each when it opens and unregisters
 * it when it ends; the API lists them and ends one. Sessions on another replica are ended
 * through the database instead (end-session.ts sets `end_requested_by`, which that replica's
 * recorder reads within its heartbeat).
 */
export interface LiveSessions {
  /** Registers a session; the function returned unregisters it (idempotent). */
  register(session: LiveSession): () => void;
  list(): LiveSessionView[];
  has(sessionId: string): boolean;
  /** Ends the session if this process holds it; false when it does not. */
  terminate(sessionId: string, message: string): boolean;
  /** Ends every session whose user matches (a user disabled, a token revoked). */
  terminateWhere(predicate: (session: LiveSessionView) => boolean, message: string): number;
}

export function createLiveSessions(): LiveSessions {
  const sessions = new Map<string, LiveSession>();
  const view = ({ terminate: _terminate, ...rest }: LiveSession): LiveSessionView => rest;
  const terminate = (session: LiveSession, message: string) => {
    sessions.delete(session.sessionId);
    session.terminate(message);
  };
  return {
    register(session) {
      if (sessions.has(session.sessionId))
        throw new Error(`session ${session.sessionId} is already registered`);
      sessions.set(session.sessionId, session);
      return () => {
        if (sessions.get(session.sessionId) === session) sessions.delete(session.sessionId);
      };
    },
    list: () =>
      [...sessions.values()].map(view).sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime()),
    has: (sessionId) => sessions.has(sessionId),
    terminate(sessionId, message) {
      const session = sessions.get(sessionId);
      if (!session) return false;
      terminate(session, message);
      return true;
    },
    terminateWhere(predicate, message) {
      const matching = [...sessions.values()].filter((session) => predicate(view(session)));
      for (const session of matching) terminate(session, message);
      return matching.length;
    },
  };
}
