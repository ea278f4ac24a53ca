import type { NotificationMessage } from "../notification-message.js";
import { chatText, clip } from "./message-lines.js";
import { postJson } from "./post-json.js";
import type { NtfyConfig } from "./service-config.js";

/** ntfy's JSON publishing (POST to the server root): urgent for critical, high for warning. */
export function sendNtfy(
  config: NtfyConfig,
  token: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const firing = message.alerts.filter((alert) => alert.status === "firing");
  const priority =
    message.status !== "firing" ? 3 : firing.some((alert) => alert.severity === "critical") ? 5 : 4;
  const body = {
    topic: config.topic,
    title: clip(message.title, 250),
    message: chatText(message, 4000),
    priority,
    tags: [message.status === "firing" ? "rotating_light" : "white_check_mark"],
  };
  const base = config.serverUrl.replace(/\/+$/, "");
  return postJson(`${base}/`, body, {
    shown: `ntfy (${base}/${config.topic})`,
    timeoutMs,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}
