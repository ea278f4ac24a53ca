import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../../platform/db/database.js";
import { rowsOf } from "../../../platform/db/rows-of.js";
import { alertDeliveries, alertNotifications } from "../../../platform/db/schema/alerts.js";

export type NotificationRow = typeof alertNotifications.$inferSelect;

/**
 * Claims up to `limit` due outbox rows for `owner` until `now + leaseMs`: pending rows whose
 * next attempt is due, and rows whose delivering lease expired (their process died mid-send).
 * A row waits while an earlier row of the same group on the same channel is undelivered, so a
 * "resolved" never overtakes its "firing". SKIP LOCKED lets replicas claim side by side.
 */
export async function claimDueNotifications(
  db: Db,
  input: { readonly owner: string; readonly leaseMs: number; readonly now: Date; readonly limit: number },
): Promise<NotificationRow[]> {
  const now = input.now.toISOString();
  const leaseUntil = new Date(input.now.getTime() + input.leaseMs).toISOString();
  return db.transaction(async (tx) => {
    const due = rowsOf<{ id: string }>(
      await tx.execute(sql`
        select n.id from alert_notifications n
        join alert_channels c on c.id = n.channel_id and c.enabled
        where ((n.status = 'pending' and n.next_attempt_at <= ${now}::timestamptz)
            or (n.status = 'delivering' and n.lease_expires_at < ${now}::timestamptz))
          and not exists (
            select 1 from alert_notifications e
            where e.channel_id = n.channel_id and e.group_key = n.group_key and e.seq < n.seq
              and e.status in ('pending', 'delivering'))
        order by n.seq
        limit ${input.limit}
        for update of n skip locked`),
    );
    if (due.length === 0) return [];
    return tx
      .update(alertNotifications)
      .set({
        status: "delivering",
        leaseOwner: input.owner,
        leaseExpiresAt: new Date(leaseUntil),
        attempts: sql`${alertNotifications.attempts} + 1`,
      })
      .where(
        sql`${alertNotifications.id} in (${sql.join(
          due.map((row) => sql`${row.id}::uuid`),
          sql`, `,
        )})`,
      )
      .returning();
  });
}

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  /** After this many attempts the row is given up (status failed) and logged as such. */
  readonly maxAttempts: number;
}

/** The wait before attempt `attempts + 1`: base·2^(attempts-1), at most maxMs. */
export function backoffDelay(backoff: Backoff, attempts: number): number {
  return Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Ends a claim: delivered, or failed with the next attempt scheduled (or given up), and the
 * attempt written to the channel's delivery log, in one transaction that also ends the lease.
 * False when this owner no longer holds the row (its lease expired and another took it).
 */
export async function finishNotification(
  db: Db,
  input: {
    readonly row: NotificationRow;
    readonly owner: string;
    readonly now: Date;
    readonly durationMs: number;
    readonly summary: string;
    readonly error: string | undefined;
    readonly backoff: Backoff;
  },
): Promise<boolean> {
  const { row, now } = input;
  const delivered = input.error === undefined;
  const givenUp = !delivered && row.attempts >= input.backoff.maxAttempts;
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(alertNotifications)
      .set({
        status: delivered ? "delivered" : givenUp ? "failed" : "pending",
        deliveredAt: delivered ? now : null,
        nextAttemptAt:
          delivered || givenUp
            ? row.nextAttemptAt
            : new Date(now.getTime() + backoffDelay(input.backoff, row.attempts)),
        lastError: input.error ?? null,
        leaseOwner: null,
        leaseExpiresAt: null,
      })
      .where(
        and(
          eq(alertNotifications.id, row.id),
          eq(alertNotifications.leaseOwner, input.owner),
          eq(alertNotifications.status, "delivering"),
        ),
      )
      .returning({ id: alertNotifications.id });
    if (updated.length === 0) return false;
    await tx.insert(alertDeliveries).values({
      channelId: row.channelId,
      notificationId: row.id,
      attempt: row.attempts,
      outcome: delivered ? "delivered" : givenUp ? "gave_up" : "failed",
      summary: input.summary,
      error: input.error ?? null,
      durationMs: input.durationMs,
      at: now,
    });
    return true;
  });
}
