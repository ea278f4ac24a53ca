import type { NotificationMessage, NotifiedAlert } from "../notification-message.js";

/** One alert in a few short lines (chat channels): status, severity, summary, value, what to do. */
export function alertLines(alert: NotifiedAlert): string[] {
  const lines = [`${alert.status === "firing" ? "FIRING" : "RESOLVED"} [${alert.severity}] ${alert.summary}`];
  if (alert.value !== null)
    lines.push(`value: ${alert.value}${alert.threshold !== null ? ` (threshold ${alert.threshold})` : ""}`);
  if (alert.flapping) lines.push("flapping: held until it calms down");
  if (alert.status === "firing") lines.push(`What to do: ${alert.action}`);
  return lines;
}

/** The message as plain text for chat channels, at most `max` characters. */
export function chatText(message: NotificationMessage, max: number): string {
  if (message.status === "test")
    return clip(`${message.title}\nThis is a test from oCore: the channel works.`, max);
  const blocks = message.alerts.map((alert) => alertLines(alert).join("\n"));
  return clip([message.title, ...blocks].join("\n\n"), max);
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
