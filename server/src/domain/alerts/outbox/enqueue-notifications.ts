import { eq } from "drizzle-orm";
import { alertChannels, alertNotifications } from "../../../platform/db/schema/alerts.js";
import type { Queryable } from "../../../platform/db/transaction.js";
import { matchesSelector, parseSelector, type Tags } from "../../auth/selector.js";
import type { AlertRow } from "../alert-transition.js";
import type { GroupFlush } from "../grouping/plan-group.js";
import { groupMessage } from "../notification-message.js";

/** A group flush and the server it is about (its tags route it). */
export interface QueuedFlush {
  readonly flush: GroupFlush;
  readonly server: { readonly id: string; readonly name: string; readonly tags: Tags };
}

const rank = (severity: string) => (severity === "critical" ? 2 : 1);

/**
 * Writes one outbox row per flush per enabled channel whose route takes it (the server's tags
 * match the channel's selector; only alerts at least as severe as its minimum; a flush with no
 * alert left for a channel is not queued there), in the caller's transaction (the one that
 * changed the alerts), so an alert change and its notifications commit together. A row with the
 * same (channel, idempotency key) already there is kept: nothing is queued twice.
 */
export async function enqueueNotifications(
  db: Queryable,
  flushes: readonly QueuedFlush[],
  now: Date,
): Promise<number> {
  if (flushes.length === 0) return 0;
  const channels = await db
    .select({
      id: alertChannels.id,
      routeSelector: alertChannels.routeSelector,
      minSeverity: alertChannels.minSeverity,
    })
    .from(alertChannels)
    .where(eq(alertChannels.enabled, true));
  const rows = channels.flatMap((channel) => {
    const selector = channel.routeSelector ? parseSelector(channel.routeSelector) : undefined;
    const takes = (row: AlertRow) => rank(row.severity) >= rank(channel.minSeverity);
    return flushes.flatMap(({ flush, server }) => {
      if (selector && !matchesSelector(selector, server.tags)) return [];
      const routed = {
        ...flush,
        firing: flush.firing.filter(takes),
        resolved: flush.resolved.filter(takes),
      };
      if (routed.firing.length + routed.resolved.length === 0) return [];
      const message = groupMessage(routed, server, now);
      return [
        {
          channelId: channel.id,
          idempotencyKey: message.idempotencyKey,
          groupKey: message.groupKey,
          payload: message as unknown as Record<string, unknown>,
          nextAttemptAt: now,
          createdAt: now,
        },
      ];
    });
  });
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(alertNotifications)
    .values(rows)
    .onConflictDoNothing()
    .returning({ id: alertNotifications.id });
  return inserted.length;
}
