import { eq } from "drizzle-orm";
import { alertChannels, alertNotifications } from "../../../platform/db/schema/alerts.js";
import type { Queryable } from "../../../platform/db/transaction.js";
import type { NotificationMessage } from "../notification-message.js";

/**
 * Writes one outbox row per message per enabled channel, in the caller's transaction (the one
 * that changed the alerts), so an alert change and its notifications commit together. A row
 * with the same (channel, idempotency key) already there is kept: nothing is queued twice.
 */
export async function enqueueNotifications(
  db: Queryable,
  messages: readonly NotificationMessage[],
  now: Date,
): Promise<number> {
  if (messages.length === 0) return 0;
  const channels = await db
    .select({ id: alertChannels.id })
    .from(alertChannels)
    .where(eq(alertChannels.enabled, true));
  const rows = channels.flatMap((channel) =>
    messages.map((message) => ({
      channelId: channel.id,
      idempotencyKey: message.idempotencyKey,
      groupKey: message.groupKey,
      payload: message as unknown as Record<string, unknown>,
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(alertNotifications)
    .values(rows)
    .onConflictDoNothing()
    .returning({ id: alertNotifications.id });
  return inserted.length;
}
