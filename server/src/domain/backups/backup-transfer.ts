import { and, eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { backups } from "../../platform/db/schema/instances.js";
import { AppError } from "../../platform/errors/app-error.js";
import { findBackup } from "./backup-queries.js";
import type { BackupStore, StoredObject } from "./backup-store.js";
import { hashTicket, ticketMatches } from "./transfer-tickets.js";

export interface TransferRequest {
  /** The server the agent's certificate maps to (never a message field). */
  readonly serverId: string;
  readonly backupId: string;
  readonly ticket: string;
}

const refused = () =>
  new AppError(
    "permission_denied",
    "this transfer is not authorized: the backup does not exist, belongs to another server, or its ticket was used or is wrong",
  );

/**
 * Stores an upload from an agent. The ticket is claimed (cleared) in the same statement that
 * checks it, so it works once; the archive is written all or nothing, then the record completes
 * with the size and SHA-256 the store computed. A failed write marks the backup failed.
 */
export async function receiveUpload(
  db: Db,
  store: BackupStore,
  request: TransferRequest,
  archive: AsyncIterable<Uint8Array>,
  now: () => Date = () => new Date(),
): Promise<StoredObject> {
  const row = isUuid(request.backupId) ? await findBackup(db, request.backupId) : undefined;
  if (
    !row ||
    row.serverId !== request.serverId ||
    row.state !== "pending" ||
    !ticketMatches(request.ticket, row.ticketHash)
  ) {
    throw refused();
  }
  const [claimed] = await db
    .update(backups)
    .set({ ticketHash: null })
    .where(
      and(
        eq(backups.id, row.id),
        eq(backups.ticketHash, hashTicket(request.ticket)),
        eq(backups.state, "pending"),
      ),
    )
    .returning({ id: backups.id });
  if (!claimed) throw refused();
  let stored: StoredObject;
  try {
    stored = await store.put(row.storageKey, archive);
  } catch (error) {
    await db
      .update(backups)
      .set({
        state: "failed",
        errorMessage: `the upload broke off: ${(error as Error).message}`,
        completedAt: now(),
      })
      .where(eq(backups.id, row.id));
    throw new AppError(
      "unavailable",
      `the upload broke off before the archive was complete; take the backup again`,
    );
  }
  await db
    .update(backups)
    .set({ state: "completed", sizeBytes: stored.sizeBytes, sha256: stored.sha256, completedAt: now() })
    .where(eq(backups.id, row.id));
  return stored;
}

/** Authorizes one download of a completed backup for a restore (the ticket is claimed). */
export async function openDownload(
  db: Db,
  store: BackupStore,
  request: TransferRequest,
): Promise<AsyncIterable<Uint8Array>> {
  const row = isUuid(request.backupId) ? await findBackup(db, request.backupId) : undefined;
  if (
    !row ||
    row.serverId !== request.serverId ||
    row.state !== "completed" ||
    !ticketMatches(request.ticket, row.ticketHash)
  ) {
    throw refused();
  }
  const [claimed] = await db
    .update(backups)
    .set({ ticketHash: null })
    .where(and(eq(backups.id, row.id), eq(backups.ticketHash, hashTicket(request.ticket))))
    .returning({ id: backups.id });
  if (!claimed) throw refused();
  return store.get(row.storageKey);
}

/** Arms a one-time download ticket on a completed backup (before a restore command). */
export async function armDownloadTicket(db: Db, backupId: string, ticketHash: string): Promise<void> {
  await db
    .update(backups)
    .set({ ticketHash })
    .where(and(eq(backups.id, backupId), eq(backups.state, "completed")));
}
