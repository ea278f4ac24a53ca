import { eq, sql } from "drizzle-orm";
import { commandRunHosts, commandTemplateVersions } from "../../platform/db/schema/templates.js";
import type { Queryable } from "../../platform/db/transaction.js";
import { systemContext } from "../audit/audit-context.js";
import { recordAudit } from "../audit/record-audit.js";

/**
 * Records how a run ended (`run.end`, by the system, in the transaction that ends it): its final
 * state, why it stopped, the version hash it ran and the hosts per state. A run that spent its
 * error budget or failed is a failure entry; the start (`run.start`) and any cancel
 * (`run.cancel`) are the people's entries.
 */
export async function auditRunEnd(
  tx: Queryable,
  run: { readonly id: string; readonly versionId: string; readonly actorName: string },
  final: string,
  stopReason: string,
  now: Date,
): Promise<void> {
  const [version] = await tx
    .select({ hash: commandTemplateVersions.hash })
    .from(commandTemplateVersions)
    .where(eq(commandTemplateVersions.id, run.versionId));
  const rows = await tx
    .select({ state: commandRunHosts.state, n: sql<number>`count(*)::int` })
    .from(commandRunHosts)
    .where(eq(commandRunHosts.runId, run.id))
    .groupBy(commandRunHosts.state);
  const hosts = Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
  const detail =
    final === "stopped"
      ? stopReason.startsWith("canary failed")
        ? stopReason
        : `error budget exhausted: ${stopReason}`
      : final === "cancelled"
        ? stopReason
        : `run ${final}`;
  await recordAudit(
    tx,
    systemContext(),
    {
      action: "run.end",
      targetType: "run",
      targetId: run.id,
      after: { state: final, stopReason, sha256: version?.hash ?? "", startedBy: run.actorName, hosts },
      result: final === "succeeded" || final === "cancelled" ? "success" : "failure",
      detail: detail.slice(0, 500),
    },
    now,
  );
}
