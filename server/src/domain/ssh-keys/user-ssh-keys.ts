import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { userSshKeys } from "../../platform/db/schema/ssh-gateway.js";
import { users } from "../../platform/db/schema/users.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { parseUserPublicKey } from "./public-key.js";

export type UserSshKeyRow = typeof userSshKeys.$inferSelect;

/** A user may register this many keys. */
export const MAX_KEYS_PER_USER = 50;

export function listUserSshKeys(db: Db, userId: string): Promise<UserSshKeyRow[]> {
  return db
    .select()
    .from(userSshKeys)
    .where(eq(userSshKeys.userId, userId))
    .orderBy(desc(userSshKeys.createdAt));
}

/** Registers a public key on the user's account (audited); a key can belong to one user only. */
export async function addUserSshKey(
  db: Db,
  context: AuditContext,
  userId: string,
  input: { publicKey: string; name: string },
  now: Date,
): Promise<UserSshKeyRow> {
  const key = parseUserPublicKey(input.publicKey);
  const name = (input.name.trim() || key.comment || key.algorithm).slice(0, 100);
  return db.transaction(async (tx) => {
    const owned = await tx
      .select({ id: userSshKeys.id })
      .from(userSshKeys)
      .where(eq(userSshKeys.userId, userId));
    if (owned.length >= MAX_KEYS_PER_USER) {
      throw new AppError(
        "resource_exhausted",
        `an account may hold at most ${MAX_KEYS_PER_USER} SSH keys; remove one first`,
      );
    }
    const inserted = await tx
      .insert(userSshKeys)
      .values({
        userId,
        name,
        algorithm: key.algorithm,
        fingerprint: key.fingerprint,
        publicKey: key.line,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning();
    const row = inserted[0];
    if (!row) throw new AppError("already_exists", `the key ${key.fingerprint} is already registered`);
    await recordAudit(
      tx,
      context,
      {
        action: "ssh_key.add",
        targetType: "user",
        targetId: userId,
        after: { name, fingerprint: key.fingerprint },
      },
      now,
    );
    return row;
  });
}

export async function deleteUserSshKey(
  db: Db,
  context: AuditContext,
  userId: string,
  keyId: string,
  now: Date,
): Promise<void> {
  AppError.requireId(keyId);
  await db.transaction(async (tx) => {
    const [removed] = await tx
      .delete(userSshKeys)
      .where(and(eq(userSshKeys.id, keyId), eq(userSshKeys.userId, userId)))
      .returning();
    if (!removed) throw AppError.notFound(`SSH key ${keyId}`);
    await recordAudit(
      tx,
      context,
      {
        action: "ssh_key.delete",
        targetType: "user",
        targetId: userId,
        before: { name: removed.name, fingerprint: removed.fingerprint },
      },
      now,
    );
  });
}

/** The user a key belongs to, by its fingerprint (undefined when nobody registered it). */
export async function findUserBySshKey(db: Db, fingerprint: string) {
  const [found] = await db
    .select({ key: userSshKeys, user: users })
    .from(userSshKeys)
    .innerJoin(users, eq(users.id, userSshKeys.userId))
    .where(eq(userSshKeys.fingerprint, fingerprint));
  return found;
}

export async function markSshKeyUsed(db: Db, keyId: string, now: Date): Promise<void> {
  await db.update(userSshKeys).set({ lastUsedAt: now }).where(eq(userSshKeys.id, keyId));
}
