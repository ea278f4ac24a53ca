import { and, eq, gte, isNull, ne, or } from "drizzle-orm";
import type { Db } from "../../platform/db/database.js";
import { agentCertificates } from "../../platform/db/schema/agent-identity.js";
import { alerts } from "../../platform/db/schema/alerts.js";
import { instances } from "../../platform/db/schema/instances.js";
import { getDeviceSeries } from "../metrics/device-series.js";
import { getSeries } from "../metrics/get-series.js";
import type { MetricsRetention } from "../metrics/rollups.js";
import type { ServerEvidence, TimeWindow } from "./diagnosis-types.js";

const DAY_MS = 86_400_000;
/** Weeks of hourly rollups the baselines read. */
export const BASELINE_DAYS = 30;
/** Raw samples with per-device detail read over the window (thinned to this many). */
const DEVICE_POINTS = 360;

export interface DiagnosedServer {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly lastSeenAt: Date | null;
}

/**
 * Loads what the analyzers read about one server: 30 days of hourly rollups (baselines), the
 * window at the finest tier that holds it, thinned raw samples with per-device detail, the
 * alerts open in or since the window, the agent's unrevoked certificates and its instances.
 * Six indexed reads; no write.
 */
export async function gatherEvidence(
  db: Db,
  input: {
    readonly server: DiagnosedServer;
    readonly window: TimeWindow;
    readonly now: Date;
    readonly retention: MetricsRetention;
  },
): Promise<ServerEvidence> {
  const { server, window, now } = input;
  const historyFrom = new Date(window.to.getTime() - BASELINE_DAYS * DAY_MS);
  const [history, recent, devices, alertRows, certificates, instanceRows] = await Promise.all([
    getSeries(db, {
      serverId: server.id,
      from: historyFrom,
      to: window.to,
      resolution: "hour",
      now,
      retention: input.retention,
    }),
    getSeries(db, { serverId: server.id, from: window.from, to: window.to, now, retention: input.retention }),
    getDeviceSeries(db, { serverId: server.id, from: window.from, to: window.to, maxPoints: DEVICE_POINTS }),
    db
      .select()
      .from(alerts)
      .where(
        and(
          eq(alerts.serverId, server.id),
          or(ne(alerts.state, "resolved"), gte(alerts.resolvedAt, window.from)),
        ),
      )
      .limit(200),
    db
      .select({ serial: agentCertificates.serial, notAfter: agentCertificates.notAfter })
      .from(agentCertificates)
      .where(and(eq(agentCertificates.serverId, server.id), isNull(agentCertificates.revokedAt))),
    db.select().from(instances).where(eq(instances.serverId, server.id)),
  ]);
  return {
    server,
    now,
    window,
    history: history.points,
    recent: recent.points,
    devices,
    alerts: alertRows.map((a) => ({
      id: a.id,
      ruleKey: a.ruleKey,
      ruleName: a.ruleName,
      state: a.state,
      severity: a.severity,
      labels: a.labels,
      value: a.value,
      summary: a.summary,
      pendingSince: a.pendingSince,
      firingSince: a.firingSince,
      resolvedAt: a.resolvedAt,
    })),
    certificates,
    instances: instanceRows.map((i) => ({
      id: i.id,
      name: i.name,
      state: i.state,
      desiredState: i.desiredState,
      stateMessage: i.stateMessage,
      updatedAt: i.updatedAt,
    })),
  };
}
