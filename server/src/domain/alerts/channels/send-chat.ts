import type { NotificationMessage } from "../notification-message.js";
import { chatText, clip } from "./message-lines.js";
import { postJson } from "./post-json.js";
import type { IncomingWebhookConfig } from "./service-config.js";

const green = 0x2e7d32;
const red = 0xc62828;
const amber = 0xef6c00;

function colorOf(message: NotificationMessage): number {
  if (message.status !== "firing") return green;
  return message.alerts.some((a) => a.status === "firing" && a.severity === "critical") ? red : amber;
}

/** Slack incoming webhook: the title as fallback text and the alerts as one mrkdwn section. */
export function sendSlack(
  config: IncomingWebhookConfig,
  url: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const body = {
    text: clip(message.title, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: clip(message.title, 150) } },
      { type: "section", text: { type: "mrkdwn", text: clip(chatText(message, 3000), 3000) } },
    ],
  };
  return postJson(url, body, { shown: `Slack (${config.urlHint})`, timeoutMs });
}

/** Discord webhook: the title as content, the alerts in one embed coloured by severity. */
export function sendDiscord(
  config: IncomingWebhookConfig,
  url: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const body = {
    content: clip(message.title, 2000),
    allowed_mentions: { parse: [] },
    embeds: [
      { title: clip(message.title, 256), description: chatText(message, 4096), color: colorOf(message) },
    ],
  };
  return postJson(url, body, { shown: `Discord (${config.urlHint})`, timeoutMs });
}

/** Microsoft Teams (Workflows webhook): an Adaptive Card with the title and one block per alert. */
export function sendTeams(
  config: IncomingWebhookConfig,
  url: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const body = {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: message.title, weight: "Bolder", size: "Medium", wrap: true },
            { type: "TextBlock", text: chatText(message, 20_000), wrap: true },
          ],
        },
      },
    ],
  };
  return postJson(url, body, { shown: `Teams (${config.urlHint})`, timeoutMs });
}
