import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { alertDeliveries } from "../../platform/db/schema/alerts.js";
import { AppError } from "../../platform/errors/app-error.js";

export type DeliveryRow = typeof alertDeliveries.$inferSelect;

/**
 * A channel's delivery log (empty `channelId`: every channel's), newest first, paged by id
 * (`beforeId` = the last id of the previous page).
 */
export async function listDeliveries(
  db: Db,
  input: { readonly channelId: string; readonly beforeId: number | undefined; readonly limit: number },
): Promise<DeliveryRow[]> {
  if (input.channelId !== "") AppError.requireId(input.channelId, "channel_id");
  return db
    .select()
    .from(alertDeliveries)
    .where(
      and(
        input.channelId ? eq(alertDeliveries.channelId, input.channelId) : undefined,
        input.beforeId ? lt(alertDeliveries.id, input.beforeId) : undefined,
      ),
    )
    .orderBy(desc(alertDeliveries.id))
    .limit(Math.min(Math.max(input.limit, 1), 500));
}
