import type { Db } from "../../platform/db/database.js";
import type { AuditContext } from "../audit/audit-context.js";
import { type AuditResult, recordAudit } from "../audit/record-audit.js";

/**
 * SSH gateway audit actions: `ssh.session.start`, `ssh.session.end`, `ssh.refused`,
 * `ssh.forward` (and `ssh.login` from ssh-identity.ts).
 */
export async function recordSshEvent(
  db: Db,
  context: AuditContext,
  event: {
    action: "ssh.session.start" | "ssh.session.end" | "ssh.refused" | "ssh.forward";
    serverId: string;
    result?: AuditResult;
    detail: string;
    after?: unknown;
  },
  now: Date,
): Promise<void> {
  await db.transaction((tx) =>
    recordAudit(
      tx,
      context,
      {
        action: event.action,
        targetType: "server",
        targetId: event.serverId,
        result: event.result,
        detail: event.detail.slice(0, 500),
        after: event.after,
      },
      now,
    ),
  );
}
