import { and, desc, inArray, ne, sql } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { type AlertState, alerts } from "../../platform/db/schema/alerts.js";
import { servers } from "../../platform/db/schema/servers.js";
import type { Scope } from "../auth/principal.js";
import { anySelectorCondition } from "../auth/selector-sql.js";
import type { AlertRow } from "./alert-transition.js";

export interface AlertView extends AlertRow {
  readonly serverName: string;
}

/**
 * Alerts the caller may see (its scope's servers), newest change first: open ones (pending,
 * firing, unreachable) and, with `includeResolved`, resolved ones too.
 */
export async function listAlerts(
  db: Db,
  input: {
    readonly scope: Scope;
    readonly includeResolved: boolean;
    readonly states?: readonly AlertState[];
    readonly limit: number;
  },
): Promise<AlertView[]> {
  const visible = input.scope.all ? sql`true` : anySelectorCondition(servers.tags, input.scope.selectors);
  const rows = await db
    .select({ alert: alerts, serverName: servers.name })
    .from(alerts)
    .innerJoin(servers, sql`${servers.id} = ${alerts.serverId}`)
    .where(
      and(
        visible,
        input.includeResolved ? undefined : ne(alerts.state, "resolved"),
        input.states && input.states.length > 0 ? inArray(alerts.state, [...input.states]) : undefined,
      ),
    )
    .orderBy(desc(alerts.updatedAt))
    .limit(input.limit);
  return rows.map((row) => ({ ...row.alert, serverName: row.serverName }));
}
