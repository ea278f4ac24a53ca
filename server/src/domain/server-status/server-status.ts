/**
 * A server's lifecycle: its statuses and the moves between them, in one table. The schema's check
 * constraint, the guarded `UPDATE … WHERE status IN (…)` of provisioning and presence, the list
 * filter and the console all take their statuses from here.
 *
 *   connecting → connected → provisioning → active ⇄ offline      (created with SSH credentials)
 *   pending → connecting (credentials added) or → active (agent enrolled with a token)   (imported)
 *   any of those → failed (status_reason says why) → connecting again on a retry
 *   anything → removing, after which the records are deleted
 */
export const SERVER_STATUSES = [
  "connecting",
  "connected",
  "provisioning",
  "active",
  "offline",
  "failed",
  "removing",
  "pending",
] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];

/** Provisioning's own statuses: its worker moves a server through them from any status but `removing`. */
const PROVISIONING: readonly ServerStatus[] = ["connecting", "connected", "provisioning", "active", "failed"];

/** Where each status may go next (a status listed under itself may be written again). */
const NEXT: Readonly<Record<ServerStatus, readonly ServerStatus[]>> = {
  connecting: [...PROVISIONING, "removing"],
  connected: [...PROVISIONING, "removing"],
  provisioning: [...PROVISIONING, "removing"],
  // active → offline: the agent's stream ended or went silent.
  active: [...PROVISIONING, "offline", "removing"],
  offline: [...PROVISIONING, "removing"],
  failed: [...PROVISIONING, "removing"],
  // Imported: nothing connects until credentials (a retry) or an enrolled agent arrive.
  pending: [...PROVISIONING, "removing"],
  // A removal ends by deleting the records; asking again keeps it removing.
  removing: ["removing"],
};

export function isServerStatus(value: string): value is ServerStatus {
  return (SERVER_STATUSES as readonly string[]).includes(value);
}

/** True when the table lets a server go from `from` to `to`. */
export function canMoveServer(from: ServerStatus, to: ServerStatus): boolean {
  return NEXT[from].includes(to);
}

/** The statuses from which a server may move to `to`: the guard of an `UPDATE … WHERE status IN (…)`. */
export function statusesThatMayBecome(to: ServerStatus): ServerStatus[] {
  return SERVER_STATUSES.filter((from) => canMoveServer(from, to));
}

/**
 * The statuses an agent's live stream turns `active`. Provisioning, failed and removing are decided
 * by their workflows, so the stream leaves them as they are (but see FAILURES_A_LIVE_AGENT_DISPROVES).
 */
export const ACTIVATED_BY_AGENT_STREAM: readonly ServerStatus[] = [
  "pending",
  "connecting",
  "connected",
  "offline",
];

/**
 * Failure reasons a live agent stream disproves: they said the host or its agent could not be
 * reached, and an agent streaming now says it runs. A stream turns a server `failed` for one of
 * these `active` again (the failed job stays on record). The others (a changed host key, a host
 * that misses a requirement, a failed removal, an internal error) still hold and need a person.
 */
export const FAILURES_A_LIVE_AGENT_DISPROVES: readonly string[] = [
  "no_credentials",
  "auth_failed",
  "unreachable",
  "upload_failed",
  "agent_start_failed",
  "agent_not_connected",
];

/** The statuses that show a live agent: the only one an ended or silent stream turns `offline`. */
export const SHOWS_LIVE_AGENT: readonly ServerStatus[] = ["active"];

/** What an imported server shows under its `pending` status: how it gets going. */
export const PENDING_MESSAGE =
  "imported without SSH credentials: retry provisioning with a password or private key, or install the agent with an enrollment token";

/** The statuses that take every status filter and guard: for a check constraint's SQL. */
export function serverStatusListSql(): string {
  return SERVER_STATUSES.map((status) => `'${status}'`).join(", ");
}
