import { AppError } from "../../platform/errors/app-error.js";

export interface SessionCaps {
  readonly maxSessionsPerUser: number;
  readonly maxSessionsPerHost: number;
}

/** An open slot; release it exactly once when the connection ends. */
export interface SessionSlot {
  release(): void;
}

export interface SessionCounter {
  /** Takes a slot for the user on the server, or throws naming the limit and its value. */
  acquire(userKey: string, serverId: string): SessionSlot;
  count(key: { user?: string; server?: string }): number;
}

/** Counts this process's open gateway connections per user and per server. */
export function createSessionCounter(caps: SessionCaps): SessionCounter {
  const perUser = new Map<string, number>();
  const perHost = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const next = (map.get(key) ?? 0) + by;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };
  return {
    acquire(userKey, serverId) {
      if ((perUser.get(userKey) ?? 0) >= caps.maxSessionsPerUser) {
        throw new AppError(
          "resource_exhausted",
          `you have reached the limit of ${caps.maxSessionsPerUser} open SSH sessions per user (OCORE_SSH_MAX_SESSIONS_PER_USER); close one first`,
        );
      }
      if ((perHost.get(serverId) ?? 0) >= caps.maxSessionsPerHost) {
        throw new AppError(
          "resource_exhausted",
          `this server has reached the limit of ${caps.maxSessionsPerHost} open SSH sessions per host (OCORE_SSH_MAX_SESSIONS_PER_HOST); try again later`,
        );
      }
      bump(perUser, userKey, 1);
      bump(perHost, serverId, 1);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          bump(perUser, userKey, -1);
          bump(perHost, serverId, -1);
        },
      };
    },
    count(key) {
      if (key.user) return perUser.get(key.user) ?? 0;
      if (key.server) return perHost.get(key.server) ?? 0;
      return 0;
    },
  };
}
