import type { alertRules } from "../../platform/db/schema/alerts.js";
import { matchesSelector, parseSelector } from "../auth/selector.js";
import {
  type AlertSignal,
  type Comparison,
  compare,
  recoveredComparison,
  type Severity,
} from "./alert-types.js";
import { alertFingerprint } from "./fingerprint.js";
import { formatValue, isMetricName, metricCatalogue } from "./metric-catalogue.js";
import type { ServerObservation } from "./observe-servers.js";

export type AlertRuleRow = typeof alertRules.$inferSelect;

export const userRuleKey = (ruleId: string) => `rule:${ruleId}`;

/** A user rule's signal for each server its selector matches. */
export function userRuleSignals(rule: AlertRuleRow, servers: readonly ServerObservation[]): AlertSignal[] {
  if (!isMetricName(rule.metric)) return [];
  const spec = metricCatalogue[rule.metric];
  const selector = parseSelector(rule.selector);
  const comparison = rule.comparison as Comparison;
  const recovery = rule.recoveryThreshold ?? rule.threshold;
  return servers
    .filter((server) => matchesSelector(selector, server.tags))
    .map((server): AlertSignal => {
      const raw = server.sample ? spec.value(server.sample.values) : null;
      const value = raw === null || !Number.isFinite(raw) ? null : Math.round(raw * 100) / 100;
      return {
        fingerprint: alertFingerprint(userRuleKey(rule.id), server.serverId, {}),
        ruleKey: userRuleKey(rule.id),
        ruleName: rule.name,
        serverId: server.serverId,
        labels: {},
        severity: rule.severity as Severity,
        value,
        threshold: rule.threshold,
        active: value !== null && compare(value, comparison, rule.threshold),
        recovered: value !== null && compare(value, recoveredComparison(comparison), recovery),
        noData: value === null,
        dependent: true,
        describe: () => ({
          summary: `${rule.name}: ${spec.description} on ${server.name} is ${value === null ? "no data" : formatValue(value, spec.unit)} (${comparison} ${formatValue(rule.threshold, spec.unit)})`,
          action: rule.description || `Look at ${spec.description} on ${server.name} in its metrics page.`,
        }),
        timing: { forMs: rule.forSeconds * 1000, keepFiringForMs: rule.keepFiringForSeconds * 1000 },
      };
    });
}
