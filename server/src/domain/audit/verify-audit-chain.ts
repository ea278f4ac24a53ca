import { asc, gt } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { auditLog } from "../../platform/db/schema/audit.js";
import { GENESIS_HASH, hashAuditEntry } from "./record-audit.js";

export interface ChainVerdict {
  readonly ok: boolean;
  readonly checked: number;
  readonly firstBrokenId?: number;
  readonly problem?: string;
}

/** Walks the whole chain in pages and reports the first entry that does not hold. */
export async function verifyAuditChain(db: Db, pageSize = 1000): Promise<ChainVerdict> {
  let previousHash = GENESIS_HASH;
  let expectedId = 1;
  let checked = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.id, expectedId - 1))
      .orderBy(asc(auditLog.id))
      .limit(pageSize);
    for (const row of page) {
      if (row.id !== expectedId) {
        return { ok: false, checked, firstBrokenId: expectedId, problem: `entry ${expectedId} is missing` };
      }
      if (row.previousHash !== previousHash) {
        return {
          ok: false,
          checked,
          firstBrokenId: row.id,
          problem: "its link to the previous entry does not match",
        };
      }
      const { hash, ...fields } = row;
      if (hashAuditEntry(fields) !== hash) {
        return { ok: false, checked, firstBrokenId: row.id, problem: "its content does not match its hash" };
      }
      previousHash = hash;
      expectedId++;
      checked++;
    }
    if (page.length < pageSize) return { ok: true, checked };
  }
}
