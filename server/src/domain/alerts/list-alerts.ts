import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { isUuid } from "../../platform/db/is-uuid.js";
import { alertAcknowledgements } from "../../platform/db/schema/alert-notify.js";
import { type AlertState, alerts } from "../../platform/db/schema/alerts.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Scope } from "../auth/principal.js";
import { anySelectorCondition } from "../auth/selector-sql.js";
import type { AlertRow } from "./alert-transition.js";
import { activeSilences, silenced } from "./silences/silence-match.js";

export interface AlertView extends AlertRow {
  readonly serverName: string;
  /** Who acknowledged the current episode, and when; undefined: nobody. */
  readonly acknowledgement: { readonly by: string; readonly at: Date } | undefined;
  /** A silence or maintenance window covers it now. */
  readonly silenced: boolean;
}

/**
 * Alerts the caller may see (its scope's servers), newest change first: open ones (pending,
 * firing, unreachable) and, with `includeResolved`, resolved ones too; each with its
 * acknowledgement and whether a silence covers it at `now`.
 */
export async function listAlerts(
  db: Db,
  input: {
    readonly scope: Scope;
    readonly includeResolved: boolean;
    readonly states?: readonly AlertState[];
    readonly limit: number;
    readonly now?: Date;
  },
): Promise<AlertView[]> {
  const visible = input.scope.all ? sql`true` : anySelectorCondition(servers.tags, input.scope.selectors);
  const rows = await db
    .select({ alert: alerts, serverName: servers.name, tags: servers.tags, ack: alertAcknowledgements })
    .from(alerts)
    .innerJoin(servers, sql`${servers.id} = ${alerts.serverId}`)
    .leftJoin(alertAcknowledgements, eq(alertAcknowledgements.alertId, alerts.id))
    .where(
      and(
        visible,
        input.includeResolved ? undefined : ne(alerts.state, "resolved"),
        input.states && input.states.length > 0 ? inArray(alerts.state, [...input.states]) : undefined,
      ),
    )
    .orderBy(desc(alerts.updatedAt), desc(alerts.id))
    .limit(input.limit);
  const silences = await activeSilences(db, input.now ?? new Date());
  return rows.map(({ alert, serverName, tags, ack }) => ({
    ...alert,
    serverName,
    acknowledgement: ack && ack.episode === alert.episode ? { by: ack.by, at: ack.at } : undefined,
    silenced:
      alert.state !== "resolved" &&
      silenced(silences, { ruleKey: alert.ruleKey, serverId: alert.serverId, tags }),
  }));
}

/** The server an alert is about (for the RPC policy's scope check), or undefined. */
export async function serverIdOfAlert(db: Db, alertId: string): Promise<string | undefined> {
  if (!isUuid(alertId)) return undefined;
  const [row] = await db.select({ serverId: alerts.serverId }).from(alerts).where(eq(alerts.id, alertId));
  return row?.serverId;
}
