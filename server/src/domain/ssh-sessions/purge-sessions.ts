import { and, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { sshSessions } from "../../platform/db/schema/ssh-sessions.js";
import { LIVE_WINDOW_SECONDS } from "./session-view.js";

/** Sessions deleted per statement, so one purge never holds a huge transaction. */
const PURGE_BATCH = 500;

/**
 * Deletes sessions (and, by cascade, their recordings) that ended more than `retentionDays`
 * ago. Returns how many went.
 */
export async function purgeExpiredSessions(
  db: Db,
  input: { readonly retentionDays: number; readonly now: Date },
): Promise<number> {
  const cutoff = new Date(input.now.getTime() - input.retentionDays * 86_400_000);
  let deleted = 0;
  for (;;) {
    const batch = db
      .select({ id: sshSessions.id })
      .from(sshSessions)
      .where(and(isNotNull(sshSessions.endedAt), lt(sshSessions.endedAt, cutoff)))
      .limit(PURGE_BATCH);
    const rows = await db
      .delete(sshSessions)
      .where(inArray(sshSessions.id, batch))
      .returning({ id: sshSessions.id });
    deleted += rows.length;
    if (rows.length < PURGE_BATCH) return deleted;
  }
}

/**
 * Closes sessions whose process stopped without ending them (a crash, a kill): no end and no
 * recorder write for twice the live window. They end when they were last recorded, as
 * "interrupted"; their recording is kept up to there.
 */
export async function closeInterruptedSessions(db: Db): Promise<number> {
  const rows = await db
    .update(sshSessions)
    .set({
      endedAt: sql`${sshSessions.recordedUntil}`,
      durationMs: sql`greatest(0, (extract(epoch from ${sshSessions.recordedUntil} - ${sshSessions.startedAt}) * 1000)::bigint)`,
      endReason: "interrupted",
    })
    .where(
      and(
        isNull(sshSessions.endedAt),
        sql`${sshSessions.recordedUntil} < now() - make_interval(secs => ${2 * LIVE_WINDOW_SECONDS})`,
      ),
    )
    .returning({ id: sshSessions.id });
  return rows.length;
}
