import { and, eq, ne } from "drizzle-orm";
import { sessions } from "../../platform/db/schema/users.js";
import type { Queryable } from "../../platform/db/transaction.js";

export async function revokeAllSessions(
  db: Queryable,
  userId: string,
  exceptSessionId?: string,
): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: new Date() })
    .where(and(eq(sessions.userId, userId), exceptSessionId ? ne(sessions.id, exceptSessionId) : undefined));
}
