import { randomUUID } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { sessions } from "../../platform/db/schema/users.js";
import type { Queryable, Tx } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { hashToken, randomToken } from "./secrets.js";

export const REFRESH_TOKEN_PREFIX = "ocr_";
export const REFRESH_TTL_MS = 30 * 24 * 3600 * 1000;

export interface NewSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly refreshToken: string;
  readonly refreshExpiresAt: Date;
}

/** Starts a session (or continues a family on rotation) and returns its refresh token, once. */
export async function createSession(
  db: Queryable,
  userId: string,
  context: AuditContext,
  now: Date,
  familyId: string = randomUUID(),
): Promise<NewSession> {
  const refreshToken = randomToken(REFRESH_TOKEN_PREFIX);
  const refreshExpiresAt = new Date(now.getTime() + REFRESH_TTL_MS);
  const [row] = await db
    .insert(sessions)
    .values({
      userId,
      familyId,
      tokenHash: hashToken(refreshToken),
      createdAt: now,
      expiresAt: refreshExpiresAt,
      sourceIp: context.sourceIp,
      userAgent: context.userAgent.slice(0, 512),
    })
    .returning({ id: sessions.id });
  if (!row) throw new Error("the session was not created");
  return { sessionId: row.id, userId, refreshToken, refreshExpiresAt };
}

/**
 * Exchanges a refresh token for a new one in the same family, and calls `onRotated` in the same
 * transaction (to audit it). A token that was already used is a replay of a stolen token: the
 * whole family is revoked (committed on its own, since the exchange itself fails).
 */
export async function rotateSession(
  db: Db,
  refreshToken: string,
  context: AuditContext,
  now: Date,
  onRotated: (tx: Tx, session: NewSession) => Promise<void>,
): Promise<NewSession> {
  const invalid = new AppError("unauthenticated", "the session has ended; sign in again");
  const [row] = await db
    .select()
    .from(sessions)
    .where(eq(sessions.tokenHash, hashToken(refreshToken)));
  if (!row || row.revokedAt || row.expiresAt <= now) throw invalid;
  if (row.rotatedAt) {
    await db.update(sessions).set({ revokedAt: now }).where(eq(sessions.familyId, row.familyId));
    throw invalid;
  }
  return db.transaction(async (tx) => {
    const claimed = await tx
      .update(sessions)
      .set({ rotatedAt: now })
      .where(and(eq(sessions.id, row.id), isNull(sessions.rotatedAt)))
      .returning({ id: sessions.id });
    if (claimed.length === 0) throw invalid; // a concurrent rotation won
    const next = await createSession(tx, row.userId, context, now, row.familyId);
    await onRotated(tx, next);
    return next;
  });
}

/** Whether an access token's session is still live (not revoked, not expired). */
export async function isSessionLive(db: Queryable, sessionId: string, now: Date): Promise<boolean> {
  const [row] = await db
    .select({ revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  // A rotated session lives on in its successor, so its access tokens stay valid until they
  // expire; logout and password changes revoke the whole family.
  return !!row && row.expiresAt > now && !row.revokedAt;
}

export async function revokeSession(db: Queryable, sessionId: string, now: Date): Promise<void> {
  const [row] = await db
    .select({ familyId: sessions.familyId })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  if (row) await db.update(sessions).set({ revokedAt: now }).where(eq(sessions.familyId, row.familyId));
}
