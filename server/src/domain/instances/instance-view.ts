import type { InstanceState, instances } from "../../platform/db/schema/instances.js";
import { portsOfBlock } from "../ports/port-blocks.js";

export type InstanceRow = typeof instances.$inferSelect;

/** States that follow Docker; creating and removing belong to a background task. */
export const OBSERVED_STATES: ReadonlySet<InstanceState> = new Set([
  "running",
  "stopped",
  "restarting",
  "failed",
]);

/** What the audit log records of an instance (environment values may hold secrets: keys only). */
export function instanceAuditView(row: InstanceRow) {
  return {
    id: row.id,
    serverId: row.serverId,
    name: row.name,
    state: row.state,
    images: { odoo: row.odooImage, postgres: row.postgresImage, mailpit: row.mailpitImage },
    edition: row.edition,
    workers: row.workers,
    cpuMillis: row.cpuMillis,
    memoryBytes: row.memoryBytes,
    environmentKeys: Object.keys(row.environment).sort(),
    ports: portsOfBlock(row.basePort),
  };
}
