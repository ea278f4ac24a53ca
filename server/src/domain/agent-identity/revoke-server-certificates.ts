import { and, eq, gt, isNull } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { agentCertificates, enrollmentTokens } from "../../platform/db/schema/agent-identity.js";

/**
 * Revokes every client certificate of a server and voids its unused enrollment tokens (called
 * when a server is removed). Agents are then refused at connect, and the gateway holding a live
 * stream for the server closes it at its next revocation check (a few seconds).
 * Returns the revoked serials.
 */
export async function revokeServerCertificates(
  db: Db,
  serverId: string,
  now = new Date(),
): Promise<string[]> {
  await db
    .update(enrollmentTokens)
    .set({ expiresAt: now })
    .where(and(eq(enrollmentTokens.serverId, serverId), isNull(enrollmentTokens.usedAt)));
  const revoked = await db
    .update(agentCertificates)
    .set({ revokedAt: now })
    .where(and(eq(agentCertificates.serverId, serverId), isNull(agentCertificates.revokedAt)))
    .returning({ serial: agentCertificates.serial });
  return revoked.map((row) => row.serial);
}

/**
 * Serials revoked after `since` (revocations are rare, and revoked_at is indexed): the gateway
 * checks its live streams against this every few seconds, which also covers other replicas.
 */
export async function findRevokedSince(db: Db, since: Date): Promise<string[]> {
  const rows = await db
    .select({ serial: agentCertificates.serial })
    .from(agentCertificates)
    .where(gt(agentCertificates.revokedAt, since));
  return rows.map((row) => row.serial);
}
