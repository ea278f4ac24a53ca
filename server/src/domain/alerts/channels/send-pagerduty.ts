import type { NotificationMessage } from "../notification-message.js";
import { clip } from "./message-lines.js";
import { postJson } from "./post-json.js";
import type { PagerDutyConfig } from "./service-config.js";

/**
 * PagerDuty Events API v2: one event per alert, `trigger` when firing and `resolve` when resolved,
 * with the alert's fingerprint as dedup key so PagerDuty folds repeats into one incident and the
 * resolve closes it. A test triggers an info event and resolves it at once.
 */
export async function sendPagerDuty(
  config: PagerDutyConfig,
  routingKey: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const shown = `PagerDuty (${config.apiUrl})`;
  const events =
    message.status === "test"
      ? [
          {
            event_action: "trigger",
            dedup_key: `ocore-${message.idempotencyKey}`,
            summary: message.title,
            severity: "info",
            source: "oCore",
            component: "test",
          },
          { event_action: "resolve", dedup_key: `ocore-${message.idempotencyKey}` },
        ]
      : message.alerts.map((alert) =>
          alert.status === "firing"
            ? {
                event_action: "trigger",
                dedup_key: `ocore-${alert.fingerprint}`,
                summary: alert.summary,
                severity: alert.severity === "critical" ? "critical" : "warning",
                source: message.server?.name ?? "oCore",
                component: alert.rule,
                custom_details: {
                  value: alert.value,
                  threshold: alert.threshold,
                  labels: alert.labels,
                  action: alert.action,
                  startsAt: alert.startsAt,
                },
              }
            : { event_action: "resolve", dedup_key: `ocore-${alert.fingerprint}` },
        );
  for (const event of events) {
    const { event_action, dedup_key, ...payload } = event as Record<string, unknown>;
    const body: Record<string, unknown> = { routing_key: routingKey, event_action, dedup_key };
    if (event_action === "trigger") {
      body.payload = { ...payload, summary: clip(String(payload.summary), 1024) };
    }
    await postJson(config.apiUrl, body, { shown, timeoutMs });
  }
  return `${shown} accepted ${events.length} event(s)`;
}
