import type { Db } from "../../platform/db/database.js";
import { installation } from "../../platform/db/schema/installation.js";

export interface Installation {
  readonly id: string;
  readonly createdAt: Date;
}

/** Returns this installation's identity, creating it on the first start against an empty database. */
export async function ensureInstallation(db: Db): Promise<Installation> {
  await db.insert(installation).values({}).onConflictDoNothing();
  const [row] = await db
    .select({ id: installation.id, createdAt: installation.createdAt })
    .from(installation);
  if (!row) throw new Error("the installation row is missing right after it was created");
  return row;
}
