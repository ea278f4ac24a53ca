import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AlertService } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import type { AlertDeps } from "../../domain/alerts/alert-deps.js";
import {
  type ChannelView,
  createChannel,
  deleteChannel,
  listChannels,
} from "../../domain/alerts/channels/channel-store.js";
import { type AlertView, listAlerts } from "../../domain/alerts/list-alerts.js";
import { type DeliveryRow, listDeliveries } from "../../domain/alerts/list-deliveries.js";
import { metricNames } from "../../domain/alerts/metric-catalogue.js";
import { createRule, deleteRule, listRules } from "../../domain/alerts/rule-store.js";
import { testChannel } from "../../domain/alerts/test-channel.js";
import type { AlertRuleRow } from "../../domain/alerts/user-rule-signals.js";
import { scopeOf } from "../../domain/auth/principal.js";
import type { AlertState } from "../../platform/db/schema/alerts.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";

const alertStates: readonly string[] = ["pending", "firing", "unreachable", "resolved"];
const optionalTime = (date: Date | null) => (date ? timestampFromDate(date) : undefined);

function alertMessage(alert: AlertView) {
  return {
    id: alert.id,
    fingerprint: alert.fingerprint,
    ruleKey: alert.ruleKey,
    ruleName: alert.ruleName,
    serverId: alert.serverId,
    serverName: alert.serverName,
    labels: { ...alert.labels },
    state: alert.state,
    severity: alert.severity,
    value: alert.value ?? undefined,
    threshold: alert.threshold ?? undefined,
    summary: alert.summary,
    action: alert.action,
    pendingSince: timestampFromDate(alert.pendingSince),
    firingSince: optionalTime(alert.firingSince),
    resolvedAt: optionalTime(alert.resolvedAt),
    updatedAt: timestampFromDate(alert.updatedAt),
  };
}

function ruleMessage(rule: AlertRuleRow) {
  return {
    ...rule,
    recoveryThreshold: rule.recoveryThreshold ?? undefined,
    createdAt: timestampFromDate(rule.createdAt),
  };
}

/** A channel without its secret: the password and signing secret fields stay empty. */
function channelMessage(channel: ChannelView) {
  const settings = channel.email
    ? { case: "email" as const, value: { ...channel.email, to: [...channel.email.to], password: "" } }
    : channel.webhook
      ? { case: "webhook" as const, value: { url: channel.webhook.url, secret: "" } }
      : { case: undefined };
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    settings,
    hasSecret: channel.hasSecret,
    enabled: channel.enabled,
    createdAt: timestampFromDate(channel.createdAt),
  };
}

function deliveryMessage(entry: DeliveryRow) {
  return {
    id: BigInt(entry.id),
    notificationId: entry.notificationId ?? "",
    attempt: entry.attempt,
    outcome: entry.outcome,
    summary: entry.summary,
    error: entry.error ?? "",
    durationMs: Math.min(entry.durationMs, 0xffffffff),
    at: timestampFromDate(entry.at),
  };
}

/** AlertService: thin translation between the contract and the alert use cases. */
export function createAlertService(deps: AlertDeps | undefined): ServiceImpl<typeof AlertService> {
  const need = (): AlertDeps => {
    if (!deps) throw new AppError("unavailable", "alerts are not running in this server process");
    return deps;
  };
  return {
    async listAlerts(request, context) {
      const { db } = need();
      const unknown = request.states.find((state) => !alertStates.includes(state));
      if (unknown !== undefined) {
        throw AppError.invalid("states", `"${unknown.slice(0, 32)}" is not one of ${alertStates.join(", ")}`);
      }
      if (request.limit > 1000) throw AppError.invalid("limit", "must be at most 1000");
      const alerts = await listAlerts(db, {
        scope: scopeOf(principalOf(context), "alerts.read"),
        includeResolved: request.includeResolved,
        states: request.states as AlertState[],
        limit: request.limit || 200,
      });
      return { alerts: alerts.map(alertMessage) };
    },
    async listRules() {
      return { rules: (await listRules(need().db)).map(ruleMessage), metrics: [...metricNames] };
    },
    async createRule(request, context) {
      const { db, now } = need();
      const rule = await createRule(
        db,
        auditContextOf(context),
        {
          name: request.name,
          metric: request.metric,
          selector: request.selector,
          comparison: request.comparison as never,
          threshold: request.threshold,
          recoveryThreshold: request.recoveryThreshold,
          forSeconds: request.forSeconds,
          keepFiringForSeconds: request.keepFiringForSeconds,
          severity: request.severity as never,
          description: request.description,
        },
        now(),
      );
      return { rule: ruleMessage(rule) };
    },
    async deleteRule(request, context) {
      const { db, now } = need();
      await deleteRule(db, auditContextOf(context), request.id, now());
      return {};
    },
    async listChannels() {
      return { channels: (await listChannels(need().db)).map(channelMessage) };
    },
    async createChannel(request, context) {
      const { db, keyring, now } = need();
      const settings = request.settings;
      const channel = await createChannel(
        db,
        auditContextOf(context),
        keyring,
        {
          name: request.name,
          email:
            settings.case === "email"
              ? {
                  smtpHost: settings.value.smtpHost,
                  smtpPort: settings.value.smtpPort,
                  security: settings.value.security as never,
                  username: settings.value.username,
                  password: settings.value.password,
                  from: settings.value.from,
                  to: settings.value.to,
                }
              : undefined,
          webhook:
            settings.case === "webhook"
              ? { url: settings.value.url, secret: settings.value.secret }
              : undefined,
        },
        now(),
      );
      return { channel: channelMessage(channel) };
    },
    async deleteChannel(request, context) {
      const { db, now } = need();
      await deleteChannel(db, auditContextOf(context), request.id, now());
      return {};
    },
    async testChannel(request, context) {
      const { db, keyring, now, testTimeoutMs } = need();
      const result = await testChannel(db, auditContextOf(context), {
        keyring,
        channelId: request.id,
        timeoutMs: testTimeoutMs,
        now,
      });
      return { ...result, error: result.error ?? "" };
    },
    async listDeliveries(request) {
      if (request.limit > 500) throw AppError.invalid("limit", "must be at most 500");
      const entries = await listDeliveries(need().db, {
        channelId: request.channelId,
        beforeId: request.beforeId > 0n ? Number(request.beforeId) : undefined,
        limit: request.limit || 100,
      });
      return { deliveries: entries.map(deliveryMessage) };
    },
  };
}
