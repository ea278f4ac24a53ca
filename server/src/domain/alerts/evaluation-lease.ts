import { sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { rowsOf } from "../../platform/db/rows-of.js";

/**
 * The claim that makes one replica evaluate alerts at a time: a named row in alert_leases that
 * the holder renews every cycle and others take over once it expired (its process died). One
 * upsert, the same on PostgreSQL and PGlite. Kept apart so a shared leased-worker primitive can
 * replace it without touching the evaluator.
 */
export async function claimLease(
  db: Db,
  input: { readonly name: string; readonly owner: string; readonly leaseMs: number; readonly now: Date },
): Promise<boolean> {
  const expiresAt = new Date(input.now.getTime() + input.leaseMs).toISOString();
  const result = await db.execute(sql`
    insert into alert_leases (name, owner, expires_at)
    values (${input.name}, ${input.owner}, ${expiresAt}::timestamptz)
    on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
    where alert_leases.owner = excluded.owner or alert_leases.expires_at < ${input.now.toISOString()}::timestamptz
    returning owner`);
  return rowsOf(result).length > 0;
}

/** Gives a lease back (on shutdown), so another replica need not wait for it to expire. */
export async function releaseLease(
  db: Db,
  input: { readonly name: string; readonly owner: string },
): Promise<void> {
  await db.execute(sql`delete from alert_leases where name = ${input.name} and owner = ${input.owner}`);
}
