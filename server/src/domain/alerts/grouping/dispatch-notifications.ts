import { eq, inArray, or, sql } from "drizzle-orm";
import {
  alertAcknowledgements,
  alertNotifyGroups,
  type FlapHistory,
  type ToldAlert,
} from "../../../platform/db/schema/alert-notify.js";
import { alerts } from "../../../platform/db/schema/alerts.js";
import { servers } from "../../../platform/db/schema/servers.js";
import type { Queryable } from "../../../platform/db/transaction.js";
import type { Tags } from "../../auth/selector.js";
import { AGENT_OFFLINE_RULE } from "../builtin-signals.js";
import { enqueueNotifications, type QueuedFlush } from "../outbox/enqueue-notifications.js";
import { activeSilences, silenced } from "../silences/silence-match.js";
import type { NotificationPolicy } from "./notification-policy.js";
import { emptyGroupState, type GroupAlert, type GroupState, planGroup } from "./plan-group.js";

interface GroupRecord extends GroupState {
  readonly groupKey: string;
  readonly serverId: string;
}

/**
 * The notification step of an evaluation cycle, in its transaction: for every server with
 * alerts to tell or told, decides with `planGroup` what goes out now (group wait, group
 * interval, repeat interval, silences, maintenance windows, acknowledgements, inhibition by a
 * lost host, flap damping), stores each group's new state and queues the messages in the outbox.
 * It reads the alerts as they are, not the cycle's events, so a cycle that never ran its
 * notification step is caught up by the next one. Returns the outbox rows queued.
 */
export async function dispatchNotifications(
  tx: Queryable,
  input: { readonly now: Date; readonly policy: NotificationPolicy },
): Promise<number> {
  const { now, policy } = input;
  const groups = (
    await tx
      .select()
      .from(alertNotifyGroups)
      .where(
        sql`${alertNotifyGroups.told} <> '{}'::jsonb or ${alertNotifyGroups.flaps} <> '{}'::jsonb or ${alertNotifyGroups.changeSince} is not null`,
      )
  ).map((row): GroupRecord => row);
  const groupServers = groups.map((group) => group.serverId);
  const rows = await tx
    .select({
      alert: alerts,
      name: servers.name,
      tags: servers.tags,
      ackEpisode: alertAcknowledgements.episode,
    })
    .from(alerts)
    .innerJoin(servers, eq(servers.id, alerts.serverId))
    .leftJoin(alertAcknowledgements, eq(alertAcknowledgements.alertId, alerts.id))
    .where(
      or(
        inArray(alerts.state, ["firing", "unreachable"]),
        groupServers.length > 0 ? inArray(alerts.serverId, groupServers) : undefined,
      ),
    );
  const silences = await activeSilences(tx, now);
  const byServer = new Map<string, { name: string; tags: Tags; alerts: GroupAlert[] }>();
  for (const { alert: row, name, tags, ackEpisode } of rows) {
    const server = byServer.get(row.serverId) ?? { name, tags, alerts: [] };
    server.alerts.push({
      row,
      muted: silenced(silences, { ruleKey: row.ruleKey, serverId: row.serverId, tags }),
      acknowledged: ackEpisode === row.episode,
    });
    byServer.set(row.serverId, server);
  }

  const known = new Map(groups.map((group) => [group.serverId, group]));
  const flushes: QueuedFlush[] = [];
  for (const serverId of new Set([...known.keys(), ...byServer.keys()])) {
    const previous = known.get(serverId);
    const server = byServer.get(serverId);
    const state = previous ?? emptyGroupState;
    const plan = planGroup({
      state,
      alerts: server?.alerts ?? [],
      inhibitorRuleKey: AGENT_OFFLINE_RULE,
      policy,
      now,
    });
    if (!sameState(state, plan.state)) await saveGroup(tx, serverId, plan.state);
    if (plan.flush && server) {
      flushes.push({ flush: plan.flush, server: { id: serverId, name: server.name, tags: server.tags } });
    }
  }
  return enqueueNotifications(tx, flushes, now);
}

function sameState(a: GroupState, b: GroupState): boolean {
  return (
    a.seq === b.seq &&
    a.changeSince?.getTime() === b.changeSince?.getTime() &&
    a.lastFlushAt?.getTime() === b.lastFlushAt?.getTime() &&
    a.lastFiringSentAt?.getTime() === b.lastFiringSentAt?.getTime() &&
    JSON.stringify(a.told) === JSON.stringify(b.told) &&
    JSON.stringify(a.flaps) === JSON.stringify(b.flaps)
  );
}

async function saveGroup(tx: Queryable, serverId: string, state: GroupState): Promise<void> {
  const values = {
    told: state.told as Record<string, ToldAlert>,
    flaps: state.flaps as Record<string, FlapHistory>,
    changeSince: state.changeSince,
    lastFlushAt: state.lastFlushAt,
    lastFiringSentAt: state.lastFiringSentAt,
    seq: state.seq,
  };
  await tx
    .insert(alertNotifyGroups)
    .values({ groupKey: `server:${serverId}`, serverId, ...values })
    .onConflictDoUpdate({ target: alertNotifyGroups.groupKey, set: values });
}
