import { desc, eq } from "drizzle-orm";
import { hostCheckChanges, hostCheckResults } from "../../platform/db/schema/host-checks.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { CheckKey } from "./host-check-input.js";
import { checkAction } from "./judge-check.js";

export interface ServerCheckView {
  readonly key: string;
  readonly subject: string;
  /** ok, warning, critical, unknown, or unreachable while the server is offline. */
  readonly state: string;
  readonly value: number | null;
  readonly message: string;
  readonly action: string;
  readonly since: Date;
  readonly checkedAt: Date;
}

export interface ServerCheckChangeView {
  readonly key: string;
  readonly subject: string;
  readonly fromState: string;
  readonly toState: string;
  readonly message: string;
  readonly at: Date;
}

export const MAX_HISTORY_LIMIT = 500;

/** A server's newest check results and their recent state changes (newest first). */
export async function listServerChecks(
  db: Queryable,
  serverId: string,
  input: { readonly historyLimit: number },
): Promise<{ checks: ServerCheckView[]; changes: ServerCheckChangeView[] }> {
  const [server] = await db
    .select({ name: servers.name, status: servers.status })
    .from(servers)
    .where(eq(servers.id, serverId));
  if (!server) throw AppError.notFound("server");
  const rows = await db
    .select()
    .from(hostCheckResults)
    .where(eq(hostCheckResults.serverId, serverId))
    .orderBy(hostCheckResults.key, hostCheckResults.subject);
  const changes = await db
    .select()
    .from(hostCheckChanges)
    .where(eq(hostCheckChanges.serverId, serverId))
    .orderBy(desc(hostCheckChanges.id))
    .limit(Math.min(MAX_HISTORY_LIMIT, input.historyLimit));
  const offline = server.status === "offline";
  return {
    checks: rows.map((row) => ({
      key: row.key,
      subject: row.subject,
      state: offline ? "unreachable" : row.state,
      value: row.value,
      message: row.message,
      action: row.state === "ok" ? "" : checkAction(row.key as CheckKey, row.subject, server.name),
      since: row.since,
      checkedAt: row.checkedAt,
    })),
    changes: changes.map((row) => ({
      key: row.key,
      subject: row.subject,
      fromState: row.fromState,
      toState: row.toState,
      message: row.message,
      at: row.at,
    })),
  };
}
