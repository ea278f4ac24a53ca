import type { Db } from "../../platform/db/database.js";
import type { AuditContext } from "../audit/audit-context.js";
import type { DenialAggregator } from "../audit/denial-aggregator.js";
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

/**
 * Audits a refused SSH login (an unregistered or foreign public key, a bad signature, a disabled
 * account): a security event like a failed sign-in, but one client offers every key it holds, so
 * the refusals are aggregated per source address and username (one entry per window, then a count).
 */
export function recordSshLoginRefusal(
  denials: DenialAggregator,
  context: AuditContext,
  refusal: { readonly username: string; readonly method: string; readonly reason: string },
): Promise<void> {
  const username = refusal.username.slice(0, 64);
  return denials.record({
    key: `ssh.login|${context.sourceIp}|${username}`,
    context: { ...context, actor: { type: "user", id: "", name: username } },
    event: {
      action: "ssh.login",
      targetType: "user",
      targetId: "",
      detail: `${refusal.method} refused for "${username}": ${refusal.reason}`.slice(0, 500),
    },
  });
}
