import type { NotificationMessage } from "../notification-message.js";

/** The plain-text body of a notification (e-mail): each alert with its value and what to do. */
export function renderText(message: NotificationMessage): string {
  if (message.status === "test") {
    return `This is a test from oCore: the channel works.\n\nSent ${message.createdAt}.\n`;
  }
  const lines = [message.title, ""];
  if (message.server) lines.push(`Server: ${message.server.name} (${message.server.id})`, "");
  for (const alert of message.alerts) {
    lines.push(`${alert.status === "firing" ? "FIRING" : "RESOLVED"} [${alert.severity}] ${alert.rule}`);
    lines.push(`  ${alert.summary}`);
    for (const [key, value] of Object.entries(alert.labels)) lines.push(`  ${key}: ${value}`);
    if (alert.value !== null)
      lines.push(
        `  value: ${alert.value}${alert.threshold !== null ? ` (threshold ${alert.threshold})` : ""}`,
      );
    if (alert.startsAt) lines.push(`  since: ${alert.startsAt}`);
    if (alert.endsAt) lines.push(`  resolved: ${alert.endsAt}`);
    if (alert.flapping) lines.push("  flapping: it keeps firing and resolving; held until it calms down");
    if (alert.status === "firing") lines.push(`  What to do: ${alert.action}`);
    lines.push("");
  }
  lines.push(`Notification ${message.idempotencyKey}, ${message.createdAt}.`);
  return `${lines.join("\n")}\n`;
}
