import { and, asc, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { servers } from "../../platform/db/schema/servers.js";
import { AppError } from "../../platform/errors/app-error.js";
import type { Scope } from "../auth/principal.js";
import { parseSelector } from "../auth/selector.js";
import { anySelectorCondition, selectorCondition } from "../auth/selector-sql.js";
import { findInstance } from "../instances/instance-queries.js";
import type { DiagnosedServer } from "./gather-evidence.js";

/** The most servers one diagnosis reads. */
export const MAX_DIAGNOSED_SERVERS = 50;

export interface DiagnosisTargets {
  readonly serverIds: readonly string[];
  readonly selector: string;
  readonly instanceId: string;
  readonly alertId: string;
  /** When nothing else names a server: servers (in scope) whose name appears as a word in it. */
  readonly question?: string;
}

/**
 * The servers a question is about, limited to the caller's scope (default deny): named ids, the
 * server of an instance or an alert, and selector matches. A named server outside the scope is
 * refused with the same words as one that does not exist, so nobody learns what they may not see;
 * a selector only ever matches inside the scope. Also returns the alert's start, when one is named.
 */
export async function resolveDiagnosisTargets(
  db: Db,
  input: { readonly targets: DiagnosisTargets; readonly scope: Scope },
): Promise<{ servers: DiagnosedServer[]; alertStartedAt?: Date }> {
  const { targets, scope } = input;
  const ids = new Set<string>();
  targets.serverIds.forEach((id, i) => {
    ids.add(AppError.requireId(id, `server_ids.${i}`));
  });
  let alertStartedAt: Date | undefined;
  if (targets.instanceId) {
    const instance = await findInstance(db, AppError.requireId(targets.instanceId, "instance_id"));
    if (!instance)
      throw new AppError(
        "permission_denied",
        "instance_id names no instance you may diagnose",
        "instance_id",
      );
    ids.add(instance.serverId);
  }
  if (targets.alertId) {
    const [alert] = await db
      .select({ serverId: alerts.serverId, pendingSince: alerts.pendingSince })
      .from(alerts)
      .where(sql`${alerts.id} = ${AppError.requireId(targets.alertId, "alert_id")}::uuid`);
    if (!alert)
      throw new AppError("permission_denied", "alert_id names no alert you may diagnose", "alert_id");
    ids.add(alert.serverId);
    alertStartedAt = alert.pendingSince;
  }
  const visible: SQL = scope.all ? sql`true` : anySelectorCondition(servers.tags, scope.selectors);
  const columns = {
    id: servers.id,
    name: servers.name,
    status: servers.status,
    lastSeenAt: servers.lastSeenAt,
  };
  const found: DiagnosedServer[] = [];
  if (ids.size > 0) {
    const rows = await db
      .select(columns)
      .from(servers)
      .where(and(inArray(servers.id, [...ids]), visible));
    if (rows.length < ids.size) {
      const field = targets.alertId ? "alert_id" : targets.instanceId ? "instance_id" : "server_ids";
      throw new AppError(
        "permission_denied",
        `${field} names a server you may not diagnose (or that does not exist)`,
        field,
      );
    }
    found.push(...rows);
  }
  if (targets.selector.trim() !== "") {
    const selector = parseSelector(targets.selector, "selector");
    const rows = await db
      .select(columns)
      .from(servers)
      .where(and(selectorCondition(servers.tags, selector), visible))
      .orderBy(asc(servers.name))
      .limit(MAX_DIAGNOSED_SERVERS + 1);
    for (const row of rows) if (!ids.has(row.id)) found.push(row);
  }
  const named = ids.size > 0 || targets.selector.trim() !== "";
  if (!named && targets.question) {
    const text = targets.question.toLowerCase();
    const rows = await db
      .select(columns)
      .from(servers)
      .where(and(sql`position(lower(${servers.name}) in ${text}) > 0`, visible))
      .orderBy(asc(servers.name))
      .limit(MAX_DIAGNOSED_SERVERS + 1);
    found.push(...rows.filter((row) => mentions(text, row.name.toLowerCase())));
  }
  if (found.length === 0) {
    throw AppError.invalid(
      "server_ids",
      "name the servers to diagnose: server_ids, a selector, an instance_id or an alert_id (matching servers you may see)",
    );
  }
  if (found.length > MAX_DIAGNOSED_SERVERS) {
    throw AppError.invalid("selector", `matches more than ${MAX_DIAGNOSED_SERVERS} servers; narrow it`);
  }
  return { servers: found, ...(alertStartedAt ? { alertStartedAt } : {}) };
}

/** Whether `name` appears in `text` as a whole word (not inside a longer name like web-10). */
function mentions(text: string, name: string): boolean {
  const isNameChar = (c: string | undefined) => c !== undefined && /[a-z0-9_-]/.test(c);
  for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + 1)) {
    if (!isNameChar(text[at - 1]) && !isNameChar(text[at + name.length])) return true;
  }
  return false;
}
