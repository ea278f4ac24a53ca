import { and, eq, gte, isNotNull, isNull, lt, type SQL, sql } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { anySelectorCondition } from "../auth/selector-sql.js";

/**
 * A session is live while its recorder keeps writing: at least every heartbeat (5 s) while it is
 * open. Past this window without an end, its process is gone (the sweep closes it).
 */
export const LIVE_WINDOW_SECONDS = 30;

export type SessionRow = typeof sshSessions.$inferSelect;

export interface SessionView extends SessionRow {
  readonly live: boolean;
  /** How long it lasted, or has lasted so far. */
  readonly elapsedMs: number;
}

/** The columns every session query selects: the row, and whether it is live, by the database's clock. */
export const sessionColumns = {
  session: sshSessions,
  live: sql<boolean>`(${sshSessions.endedAt} is null and ${sshSessions.recordedUntil} > now() - make_interval(secs => ${LIVE_WINDOW_SECONDS}))`,
  elapsedMs: sql<string>`coalesce(${sshSessions.durationMs}, greatest(0, (extract(epoch from now() - ${sshSessions.startedAt}) * 1000)::bigint))`,
};

export function toSessionView(row: {
  session: SessionRow;
  live: boolean;
  elapsedMs: string | number;
}): SessionView {
  return { ...row.session, live: Boolean(row.live), elapsedMs: Number(row.elapsedMs) };
}

/** Filters shared by the list and the search. */
export interface SessionFilter {
  readonly scope: Scope;
  readonly userId?: string;
  readonly serverId?: string;
  readonly startedAfter?: Date;
  readonly startedBefore?: Date;
}

/**
 * The sessions a caller may see: everywhere with an unscoped grant; otherwise only sessions on
 * existing servers whose tags match (a deleted server's sessions need an unscoped grant). The
 * query must join `servers` on the session's server (a left join).
 */
export function filterCondition(filter: SessionFilter): SQL | undefined {
  if (filter.userId) AppError.requireId(filter.userId, "user_id");
  if (filter.serverId) AppError.requireId(filter.serverId, "server_id");
  if (filter.startedAfter && filter.startedBefore && filter.startedAfter >= filter.startedBefore) {
    throw AppError.invalid("started_before", "must be after started_after");
  }
  const visible = filter.scope.all
    ? undefined
    : filter.scope.selectors.length === 0
      ? sql`false`
      : and(isNotNull(servers.id), anySelectorCondition(servers.tags, filter.scope.selectors));
  return and(
    visible,
    filter.userId ? eq(sshSessions.userId, filter.userId) : undefined,
    filter.serverId ? eq(sshSessions.serverId, filter.serverId) : undefined,
    filter.startedAfter ? gte(sshSessions.startedAt, filter.startedAfter) : undefined,
    filter.startedBefore ? lt(sshSessions.startedAt, filter.startedBefore) : undefined,
  );
}

/** Open sessions whose recorder still writes. */
export const liveCondition = (): SQL =>
  and(
    isNull(sshSessions.endedAt),
    sql`${sshSessions.recordedUntil} > now() - make_interval(secs => ${LIVE_WINDOW_SECONDS})`,
  ) as SQL;
