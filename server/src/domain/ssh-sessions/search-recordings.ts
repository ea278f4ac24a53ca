import { and, asc, desc, eq, ilike, inArray, or, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessionChunks, sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import {
  filterCondition,
  type SessionFilter,
  type SessionView,
  sessionColumns,
  toSessionView,
} from "./session-view.js";

export interface SearchInput extends SessionFilter {
  readonly query: string;
  readonly limit?: number;
}

export interface SearchHit {
  readonly session: SessionView;
  /** The first match with some text around it, on one line. */
  readonly snippet: string;
}

const SNIPPET_CONTEXT = 60;

/** `text` as a LIKE pattern that matches it literally anywhere. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A chunk's text matches `pattern`: indexed chunks through the trigram index (partial, on
 * `search_indexed`), chunks not indexed yet (a recorder's batch, decision 0210) through their
 * own small index and a scan of their text, so a search never misses what was just recorded.
 */
const chunkMatches = (pattern: string) =>
  or(
    and(sql`${sshSessionChunks.searchIndexed}`, ilike(sshSessionChunks.searchText, pattern)),
    and(sql`not ${sshSessionChunks.searchIndexed}`, ilike(sshSessionChunks.searchText, pattern)),
  );

/**
 * Sessions whose recording showed `query` (its search text: what was printed, and typed when
 * input is recorded, escapes removed) or whose command contains it, newest first. A substring
 * match, case-insensitive; the trigram index on the chunks' text finds the candidate chunks
 * (hence at least 3 characters), on PGlite and PostgreSQL alike.
 */
export async function searchRecordings(db: Db, input: SearchInput): Promise<SearchHit[]> {
  const query = input.query.trim();
  if (query.length < 3 || query.length > 200) throw AppError.invalid("query", "must be 3-200 characters");
  const limit = input.limit || 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw AppError.invalid("limit", "must be 1-200");
  const pattern = containing(query);
  const matchingChunks = db
    .select({ sessionId: sshSessionChunks.sessionId })
    .from(sshSessionChunks)
    .where(chunkMatches(pattern));
  const rows = await db
    .select(sessionColumns)
    .from(sshSessions)
    .leftJoin(servers, eq(servers.id, sshSessions.serverId))
    .where(
      and(
        filterCondition(input),
        or(ilike(sshSessions.command, pattern), inArray(sshSessions.id, matchingChunks)),
      ),
    )
    .orderBy(desc(sshSessions.startedAt), desc(sshSessions.id))
    .limit(limit);
  if (rows.length === 0) return [];
  const firstMatches = await db
    .selectDistinctOn([sshSessionChunks.sessionId], {
      sessionId: sshSessionChunks.sessionId,
      text: sshSessionChunks.searchText,
    })
    .from(sshSessionChunks)
    .where(
      and(
        inArray(
          sshSessionChunks.sessionId,
          rows.map((row) => row.session.id),
        ),
        chunkMatches(pattern),
      ),
    )
    .orderBy(sshSessionChunks.sessionId, asc(sshSessionChunks.seq));
  const textOf = new Map(firstMatches.map((match) => [match.sessionId, match.text]));
  return rows.map((row) => {
    const session = toSessionView(row);
    const text = textOf.get(session.id) ?? session.command ?? "";
    return { session, snippet: snippetOf(text, query) };
  });
}

/** The match and up to SNIPPET_CONTEXT characters either side, line breaks shown as spaces. */
export function snippetOf(text: string, query: string): string {
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  if (at < 0)
    return text
      .slice(0, 2 * SNIPPET_CONTEXT)
      .replace(/\s+/g, " ")
      .trim();
  const from = Math.max(0, at - SNIPPET_CONTEXT);
  const to = Math.min(text.length, at + query.length + SNIPPET_CONTEXT);
  const body = text.slice(from, to).replace(/\s+/g, " ");
  return `${from > 0 ? "…" : ""}${body}${to < text.length ? "…" : ""}`.trim();
}
