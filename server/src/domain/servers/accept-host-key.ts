import { eq } from "drizzle-orm";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { AuditContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";
import { enqueueJob } from "../provisioning/job-store.js";
import type { LifecycleDeps } from "./lifecycle-deps.js";
import { getServer, type ServerRow } from "./servers.js";

/**
 * Pins the new host key a server presented (after the admin verified it on the host) and, when
 * the mismatch stopped provisioning, provisions again.
 */
export async function acceptHostKey(
  deps: LifecycleDeps,
  context: AuditContext,
  input: { readonly id: string; readonly fingerprint: string },
): Promise<ServerRow> {
  AppError.requireId(input.id);
  const now = deps.now();
  let queued = false;
  const row = await deps.db.transaction(async (tx) => {
    const before = await getServer(tx, input.id);
    if (!before.pendingHostKeyFingerprint) {
      throw new AppError("failed_precondition", "the server presented no new host key; nothing to accept");
    }
    if (input.fingerprint.trim() !== before.pendingHostKeyFingerprint) {
      throw AppError.invalid(
        "fingerprint",
        `does not match the key the host presented (${before.pendingHostKeyFingerprint}); compare it with ssh-keygen -lf on the host's console and send that value`,
      );
    }
    const retry = before.status === "failed" && before.statusReason === "host_key_mismatch";
    if (retry) {
      await enqueueJob(tx, { serverId: input.id, kind: "provision", step: "connect", now });
      queued = true;
    }
    const [after] = await tx
      .update(servers)
      .set({
        hostKeyFingerprint: before.pendingHostKeyFingerprint,
        hostKeyAlgorithm: before.pendingHostKeyAlgorithm,
        pendingHostKeyFingerprint: null,
        pendingHostKeyAlgorithm: null,
        ...(retry ? { status: "connecting", statusReason: null, statusMessage: null } : {}),
        updatedAt: now,
      })
      .where(eq(servers.id, input.id))
      .returning();
    await recordAudit(
      tx,
      context,
      {
        action: "server.accept_host_key",
        targetType: "server",
        targetId: input.id,
        before: { hostKeyFingerprint: before.hostKeyFingerprint },
        after: { hostKeyFingerprint: after?.hostKeyFingerprint },
      },
      now,
    );
    return after ?? before;
  });
  if (queued) deps.onJobQueued();
  return row;
}
