import { and, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { servers } from "../../platform/db/schema/servers.js";
import { sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { filterCondition, type SessionView, sessionColumns, toSessionView } from "./session-view.js";

/** One session, if the caller may see it (otherwise not found: its existence is not revealed). */
export async function getSession(db: Db, input: { id: string; scope: Scope }): Promise<SessionView> {
  AppError.requireId(input.id, "id");
  const [row] = await db
    .select(sessionColumns)
    .from(sshSessions)
    .leftJoin(servers, eq(servers.id, sshSessions.serverId))
    .where(and(eq(sshSessions.id, input.id), filterCondition({ scope: input.scope })));
  if (!row) throw AppError.notFound(`session ${input.id}`);
  return toSessionView(row);
}

/** The server a session ran on (undefined: no such session, a malformed id, or a deleted server). */
export async function serverIdOfSession(db: Db, id: string): Promise<string | undefined> {
  if (!isUuid(id)) return undefined;
  const [row] = await db
    .select({ serverId: sshSessions.serverId })
    .from(sshSessions)
    .where(eq(sshSessions.id, id));
  return row?.serverId ?? undefined;
}
