import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AlertService, CreateChannelRequest } from "@ocore/proto/gen/ocore/api/v1/alert_service_pb.js";
import type { AlertDeps } from "../../domain/alerts/alert-deps.js";
import {
  type ChannelView,
  createChannel,
  deleteChannel,
  listChannels,
} from "../../domain/alerts/channels/channel-store.js";
import type { ChannelSettingsInput } from "../../domain/alerts/channels/check-channel-settings.js";
import { type AlertView, listAlerts } from "../../domain/alerts/list-alerts.js";
import { type DeliveryRow, listDeliveries } from "../../domain/alerts/list-deliveries.js";
import { metricNames } from "../../domain/alerts/metric-catalogue.js";
import { createRule, deleteRule, listRules } from "../../domain/alerts/rule-store.js";
import { acknowledgeAlert } from "../../domain/alerts/silences/acknowledge-alert.js";
import type { SilenceRow } from "../../domain/alerts/silences/silence-match.js";
import { createSilence, endSilence, listSilences } from "../../domain/alerts/silences/silence-store.js";
import { testChannel } from "../../domain/alerts/test-channel.js";
import type { AlertRuleRow } from "../../domain/alerts/user-rule-signals.js";
import { watchAlerts } from "../../domain/alerts/watch-alerts.js";
import { scopeOf } from "../../domain/auth/principal.js";
import { listServerChecks, MAX_HISTORY_LIMIT } from "../../domain/host-checks/list-server-checks.js";
import type { AlertState } from "../../platform/db/schema/alerts.js";
import { AppError } from "../../platform/errors/app-error.js";
import { auditContextOf, principalOf } from "./request-context.js";
import { optionalRequestDate, requestRowId } from "./request-values.js";

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
    acknowledgedBy: alert.acknowledgement?.by ?? "",
    acknowledgedAt: optionalTime(alert.acknowledgement?.at ?? null),
    silenced: alert.silenced,
  };
}

function silenceMessage(silence: SilenceRow) {
  return {
    id: silence.id,
    kind: silence.kind,
    ruleKey: silence.ruleKey ?? "",
    serverId: silence.serverId ?? "",
    selector: silence.selector,
    startsAt: timestampFromDate(silence.startsAt),
    endsAt: timestampFromDate(silence.endsAt),
    comment: silence.comment,
    createdBy: silence.createdBy,
    createdAt: timestampFromDate(silence.createdAt),
    endedBy: silence.endedBy ?? "",
  };
}

function ruleMessage(rule: AlertRuleRow) {
  return {
    ...rule,
    recoveryThreshold: rule.recoveryThreshold ?? undefined,
    createdAt: timestampFromDate(rule.createdAt),
  };
}

/** A channel without its secret: passwords, tokens, keys and secret URLs stay empty. */
function channelMessage(channel: ChannelView) {
  const config = channel.config as Record<string, string>;
  const settings = (() => {
    switch (channel.kind) {
      case "email": {
        const email = channel.email as NonNullable<ChannelView["email"]>;
        return { case: "email" as const, value: { ...email, to: [...email.to], password: "" } };
      }
      case "webhook":
        return { case: "webhook" as const, value: { url: config.url ?? "", secret: "" } };
      case "slack":
      case "discord":
      case "teams":
        return { case: channel.kind, value: { url: "", urlHint: config.urlHint ?? "" } };
      case "telegram":
        return {
          case: "telegram" as const,
          value: { botToken: "", chatId: config.chatId ?? "", apiUrl: config.apiUrl ?? "" },
        };
      case "ntfy":
        return {
          case: "ntfy" as const,
          value: { serverUrl: config.serverUrl ?? "", topic: config.topic ?? "", token: "" },
        };
      case "pagerduty":
        return { case: "pagerduty" as const, value: { routingKey: "", apiUrl: config.apiUrl ?? "" } };
    }
  })();
  return {
    id: channel.id,
    name: channel.name,
    kind: channel.kind,
    settings,
    hasSecret: channel.hasSecret,
    enabled: channel.enabled,
    createdAt: timestampFromDate(channel.createdAt),
    routeSelector: channel.routeSelector,
    minSeverity: channel.minSeverity,
  };
}

/** The request's one kind of settings, as the use case takes them. */
function channelSettingsOf(settings: CreateChannelRequest["settings"]): ChannelSettingsInput {
  switch (settings.case) {
    case "email":
      return {
        email: {
          smtpHost: settings.value.smtpHost,
          smtpPort: settings.value.smtpPort,
          security: settings.value.security as never,
          username: settings.value.username,
          password: settings.value.password,
          from: settings.value.from,
          to: settings.value.to,
        },
      };
    case "webhook":
      return { webhook: { url: settings.value.url, secret: settings.value.secret } };
    case "slack":
    case "discord":
    case "teams":
      return { [settings.case]: { url: settings.value.url } };
    case "telegram":
      return {
        telegram: {
          botToken: settings.value.botToken,
          chatId: settings.value.chatId,
          apiUrl: settings.value.apiUrl,
        },
      };
    case "ntfy":
      return {
        ntfy: {
          serverUrl: settings.value.serverUrl,
          topic: settings.value.topic,
          token: settings.value.token,
        },
      };
    case "pagerduty":
      return { pagerduty: { routingKey: settings.value.routingKey, apiUrl: settings.value.apiUrl } };
    default:
      return {};
  }
}

function deliveryMessage(entry: DeliveryRow) {
  return {
    id: BigInt(entry.id),
    notificationId: entry.notificationId ?? "",
    channelId: entry.channelId,
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
        now: need().now(),
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
      const channel = await createChannel(
        db,
        auditContextOf(context),
        keyring,
        {
          name: request.name,
          ...channelSettingsOf(request.settings),
          route: { selector: request.routeSelector, minSeverity: request.minSeverity },
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
    async listServerChecks(request) {
      const serverId = AppError.requireId(request.serverId, "server_id");
      if (request.historyLimit > MAX_HISTORY_LIMIT) {
        throw AppError.invalid("history_limit", `must be at most ${MAX_HISTORY_LIMIT}`);
      }
      const result = await listServerChecks(need().db, serverId, {
        historyLimit: request.historyLimit || 50,
      });
      return {
        checks: result.checks.map((check) => ({
          ...check,
          value: check.value ?? undefined,
          since: timestampFromDate(check.since),
          checkedAt: timestampFromDate(check.checkedAt),
        })),
        changes: result.changes.map((change) => ({ ...change, at: timestampFromDate(change.at) })),
      };
    },
    async listDeliveries(request) {
      if (request.limit > 500) throw AppError.invalid("limit", "must be at most 500");
      const entries = await listDeliveries(need().db, {
        channelId: request.channelId,
        beforeId: requestRowId(request.beforeId, "beforeId", "a delivery"),
        limit: request.limit || 100,
      });
      return { deliveries: entries.map(deliveryMessage) };
    },
    async *watchAlerts(request, context) {
      const { db, now, watchTickMs } = need();
      if (request.limit > 1000) throw AppError.invalid("limit", "must be at most 1000");
      for await (const alerts of watchAlerts(db, {
        scope: scopeOf(principalOf(context), "alerts.read"),
        includeResolved: request.includeResolved,
        limit: request.limit || 200,
        tickMs: watchTickMs ?? 1_000,
        now,
        signal: context.signal,
      })) {
        yield { alerts: alerts.map(alertMessage) };
      }
    },
    async listSilences(request) {
      const { db, now } = need();
      const silences = await listSilences(db, { includeEnded: request.includeEnded, now: now() });
      return { silences: silences.map(silenceMessage) };
    },
    async createSilence(request, context) {
      const { db, now } = need();
      const silence = await createSilence(
        db,
        auditContextOf(context),
        {
          kind: request.kind || "silence",
          ruleKey: request.ruleKey,
          serverId: request.serverId,
          selector: request.selector,
          startsAt: optionalRequestDate(request.startsAt, "startsAt"),
          endsAt: optionalRequestDate(request.endsAt, "endsAt"),
          comment: request.comment,
        },
        now(),
      );
      return { silence: silenceMessage(silence) };
    },
    async endSilence(request, context) {
      const { db, now } = need();
      await endSilence(db, auditContextOf(context), request.id, now());
      return {};
    },
    async acknowledgeAlert(request, context) {
      const { db, now } = need();
      await acknowledgeAlert(
        db,
        auditContextOf(context),
        { alertId: request.id, comment: request.comment },
        now(),
      );
      return {};
    },
  };
}
