import { sql } from "drizzle-orm";
import { boolean, check, pgTable, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * One row that identifies this oCore installation. Created by the first start against an
 * empty database; `singleton` makes a second row impossible.
 */
export const installation = pgTable(
  "installation",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    id: uuid("id").notNull().defaultRandom(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check("installation_singleton", sql`${table.singleton}`)],
);
