import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import { decodePageToken, encodePageToken, queryDigestOf } from "../../platform/paging/page-token.js";
import {
  filterCondition,
  liveCondition,
  type SessionFilter,
  type SessionView,
  sessionColumns,
  toSessionView,
} from "./session-view.js";

export interface ListSessionsInput extends SessionFilter {
  readonly liveOnly?: boolean;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

export interface SessionPage {
  readonly sessions: SessionView[];
  readonly nextPageToken: string;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;

/**
 * Sessions the caller may see, newest first, a keyset page at a time: the token holds the last
 * row's start (as PostgreSQL prints it, microseconds kept) and id, the tie-breaker.
 */
export async function listSessions(db: Db, input: ListSessionsInput): Promise<SessionPage> {
  const pageSize = input.pageSize || DEFAULT_PAGE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE) {
    throw AppError.invalid("page_size", `must be 1-${MAX_PAGE}`);
  }
  const digest = queryDigestOf([
    "ssh-sessions",
    input.userId ?? "",
    input.serverId ?? "",
    input.startedAfter?.toISOString() ?? "",
    input.startedBefore?.toISOString() ?? "",
    Boolean(input.liveOnly),
  ]);
  const after = input.pageToken ? decodePageToken(input.pageToken, digest) : undefined;
  if (after) AppError.requireId(after.name, "page_token");
  const afterCondition: SQL | undefined = after
    ? sql`(${sshSessions.startedAt}, ${sshSessions.id}) < (${after.key}::timestamptz, ${after.name}::uuid)`
    : undefined;
  const rows = await db
    .select({ ...sessionColumns, sortKey: sql<string>`${sshSessions.startedAt}::text` })
    .from(sshSessions)
    .leftJoin(servers, eq(servers.id, sshSessions.serverId))
    .where(and(filterCondition(input), input.liveOnly ? liveCondition() : undefined, afterCondition))
    .orderBy(desc(sshSessions.startedAt), desc(sshSessions.id))
    .limit(pageSize + 1);
  const page = rows.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    sessions: page.map(toSessionView),
    nextPageToken:
      rows.length > pageSize && last
        ? encodePageToken(digest, { key: last.sortKey, name: last.session.id })
        : "",
  };
}
