import { and, eq, getTableColumns, getTableName, inArray, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable, PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Db } from "../db/database.js";
import { rowsOf } from "../db/rows-of.js";
import type { Queryable } from "../db/transaction.js";

/**
 * A table whose rows are work that workers claim: its key, and the two lease columns every such
 * table has (`lease_owner` text, `lease_expires_at` timestamptz, both null while nobody holds it).
 */
export interface LeasedTable<T extends PgTable> {
  readonly table: T;
  readonly key: PgColumn;
  readonly owner: PgColumn;
  readonly expiresAt: PgColumn;
}

export interface LeaseInput {
  /** Who claims: one name per worker, see `workerOwnerId`. */
  readonly owner: string;
  /** How long the claim holds without renewal; a dead owner's rows are claimable after it. */
  readonly leaseMs: number;
  readonly now: Date;
}

/** When a lease taken or renewed at `now` runs out. */
export function leaseUntil(input: LeaseInput): Date {
  return new Date(input.now.getTime() + input.leaseMs);
}

/**
 * Claims up to `limit` due rows for `owner` until `now + leaseMs`: rows matching `due` that no
 * live lease holds (an expired lease means its owner died). FOR UPDATE SKIP LOCKED lets any
 * number of processes claim at once without waiting on each other or taking the same row; `set`
 * changes the claimed rows in the same statement (a job's state, say).
 */
export async function claimLeasedRows<T extends PgTable>(
  db: Db,
  leased: LeasedTable<T>,
  input: LeaseInput & {
    readonly limit: number;
    readonly due: SQL | undefined;
    readonly orderBy: readonly (PgColumn | SQL)[];
    readonly set?: PgUpdateSetSource<T>;
  },
): Promise<T["$inferSelect"][]> {
  const table = leased.table as PgTable;
  const free = or(isNull(leased.expiresAt), lt(leased.expiresAt, input.now));
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ key: leased.key })
      .from(table)
      .where(and(input.due, free))
      .orderBy(...input.orderBy)
      .limit(input.limit)
      .for("update", { skipLocked: true });
    if (due.length === 0) return [];
    const claimed = await tx
      .update(table)
      .set({ ...input.set, ...leaseValues(leased, input.owner, leaseUntil(input)) })
      .where(
        inArray(
          leased.key,
          due.map((row) => row.key),
        ),
      )
      .returning();
    return claimed as T["$inferSelect"][];
  });
}

/**
 * Extends the lease on one row; false when the row is no longer `owner`'s (taken over after
 * expiry, replaced, or deleted), or no longer matches `where`.
 */
export async function renewRowLease<T extends PgTable>(
  db: Queryable,
  leased: LeasedTable<T>,
  input: LeaseInput & { readonly key: unknown; readonly where?: SQL },
): Promise<boolean> {
  const renewed = await db
    .update(leased.table as PgTable)
    .set(leaseValues(leased, input.owner, leaseUntil(input)))
    .where(and(eq(leased.key, input.key), eq(leased.owner, input.owner), input.where))
    .returning({ key: leased.key });
  return renewed.length > 0;
}

/** Gives back every row `owner` holds (and that matches `where`), so another owner may claim them at once. */
export async function releaseRowLeases<T extends PgTable>(
  db: Queryable,
  leased: LeasedTable<T>,
  input: { readonly owner: string; readonly where?: SQL },
): Promise<void> {
  await db
    .update(leased.table as PgTable)
    .set(leaseValues(leased, null, null))
    .where(and(eq(leased.owner, input.owner), input.where));
}

/** The `set` of an update that writes the lease columns, by their property names in the table. */
function leaseValues<T extends PgTable>(
  leased: LeasedTable<T>,
  owner: string | null,
  expiresAt: Date | null,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [property, column] of Object.entries(getTableColumns(leased.table))) {
    if (column === leased.owner) values[property] = owner;
    if (column === leased.expiresAt) values[property] = expiresAt;
  }
  if (Object.keys(values).length !== 2) throw new Error("the lease columns are not columns of the table");
  return values;
}

/** A table of named leadership leases: `name` text primary key, `owner` text, `expires_at` timestamptz. */
export type LeaderLeaseTable = PgTable & {
  readonly name: PgColumn;
  readonly owner: PgColumn;
  readonly expiresAt: PgColumn;
};

/**
 * Takes or keeps the lease `name` (one leader for a periodic task): true when `owner` holds it
 * until `now + leaseMs`, either because it held it already (a renewal) or because it was free or
 * expired (its holder died). One upsert, the same on PostgreSQL and PGlite; call it every cycle.
 */
export async function claimLeadership(
  db: Queryable,
  leases: LeaderLeaseTable,
  input: LeaseInput & { readonly name: string },
): Promise<boolean> {
  const table = sql.identifier(getTableName(leases));
  const name = sql.identifier(leases.name.name);
  const owner = sql.identifier(leases.owner.name);
  const expiresAt = sql.identifier(leases.expiresAt.name);
  const result = await db.execute(sql`
    insert into ${table} (${name}, ${owner}, ${expiresAt})
    values (${input.name}, ${input.owner}, ${leaseUntil(input).toISOString()}::timestamptz)
    on conflict (${name}) do update set ${owner} = excluded.${owner}, ${expiresAt} = excluded.${expiresAt}
    where ${table}.${owner} = excluded.${owner} or ${table}.${expiresAt} < ${input.now.toISOString()}::timestamptz
    returning ${owner}`);
  return rowsOf(result).length > 0;
}

/** Gives the lease `name` back (on shutdown), so another process need not wait for it to expire. */
export async function releaseLeadership(
  db: Queryable,
  leases: LeaderLeaseTable,
  input: { readonly name: string; readonly owner: string },
): Promise<void> {
  await db.delete(leases).where(and(eq(leases.name, input.name), eq(leases.owner, input.owner)));
}
