import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";
import type { SampleDetail } from "../../platform/db/schema/metrics.js";
import { AppError } from "../../platform/errors/app-error.js";

export const DEFAULT_DEVICE_POINTS = 400;
export const MAX_DEVICE_POINTS = 2_000;
const MAX_RANGE_MS = 31 * 86_400_000;

/** One raw sample's per-device values. */
export interface DevicePoint {
  readonly time: Date;
  readonly memoryUsed: number;
  readonly memoryActive: number;
  readonly swapUsed: number;
  readonly detail: SampleDetail;
}

/**
 * One server's per-device history: the raw sample closest to the end of each of `maxPoints`
 * equal slots of the range (per-device values are not rolled up, so a week reads at most what
 * the raw retention still holds). One indexed range scan on (server_id, collected_at).
 */
export async function getDeviceSeries(
  db: Db,
  input: { readonly serverId: string; readonly from: Date; readonly to: Date; readonly maxPoints?: number },
): Promise<DevicePoint[]> {
  AppError.requireId(input.serverId, "serverId");
  const span = input.to.getTime() - input.from.getTime();
  if (!(span > 0)) throw AppError.invalid("startTime", "must be before endTime");
  if (span > MAX_RANGE_MS) throw AppError.invalid("startTime", "the range may span at most 31 days");
  const maxPoints = input.maxPoints || DEFAULT_DEVICE_POINTS;
  if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > MAX_DEVICE_POINTS) {
    throw AppError.invalid("maxPoints", `must be between 1 and ${MAX_DEVICE_POINTS}`);
  }
  const slotSeconds = span / 1000 / maxPoints;
  const result = await db.execute(sql`
    select distinct on (slot) collected_at, memory_used, memory_active, swap_used, detail
    from (
      select *, floor(extract(epoch from collected_at) / ${slotSeconds}::float8) as slot
      from metric_samples
      where server_id = ${input.serverId}::uuid
        and collected_at >= ${input.from.toISOString()}::timestamptz
        and collected_at < ${input.to.toISOString()}::timestamptz
    ) s
    order by slot, collected_at desc`);
  return rowsOf<Record<string, unknown>>(result).map((row) => ({
    time: new Date(row.collected_at as string | Date),
    memoryUsed: Number(row.memory_used),
    memoryActive: Number(row.memory_active),
    swapUsed: Number(row.swap_used),
    detail: (typeof row.detail === "string" ? JSON.parse(row.detail) : row.detail) as SampleDetail,
  }));
}
