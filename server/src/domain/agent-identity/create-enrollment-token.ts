import { eq } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { enrollmentTokens } from "../../platform/db/schema/agent-identity.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { newEnrollmentToken } from "./enrollment-token.js";

export const DEFAULT_TOKEN_TTL_MS = 60 * 60_000;
export const MAX_TOKEN_TTL_MS = 7 * 24 * 60 * 60_000;

export interface CreatedEnrollmentToken {
  /** The token text; shown once, only its hash is stored. */
  readonly token: string;
  readonly expiresAt: Date;
}

/** Creates a single-use enrollment token bound to one server record, audited with `context` when given. */
export async function createEnrollmentToken(
  db: Db,
  input: {
    readonly serverId: string;
    readonly caPin: string;
    readonly ttlMs?: number;
    readonly now: Date;
    readonly audit?: AuditContext;
  },
): Promise<CreatedEnrollmentToken> {
  const ttlMs = input.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (!Number.isFinite(ttlMs) || ttlMs < 60_000 || ttlMs > MAX_TOKEN_TTL_MS) {
    throw AppError.invalid("ttl", "must be between 1 minute and 7 days");
  }
  if (!isUuid(input.serverId)) throw AppError.invalid("serverId", "must be a server's id (a UUID)");
  const [server] = await db
    .select({ status: servers.status })
    .from(servers)
    .where(eq(servers.id, input.serverId));
  if (!server) throw new AppError("not_found", `server ${input.serverId} does not exist`);
  if (server.status === "removing") {
    throw new AppError("failed_precondition", `server ${input.serverId} is being removed`);
  }
  const { text, secretHash } = newEnrollmentToken(input.caPin);
  const expiresAt = new Date(input.now.getTime() + ttlMs);
  await db.transaction(async (tx) => {
    await tx
      .insert(enrollmentTokens)
      .values({ serverId: input.serverId, secretHash, expiresAt, createdAt: input.now });
    if (input.audit) {
      await recordAudit(
        tx,
        input.audit,
        { action: "server.enrollment_token.create", targetType: "server", targetId: input.serverId },
        input.now,
      );
    }
  });
  return { token: text, expiresAt };
}
