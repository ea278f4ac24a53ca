import type { NotificationMessage } from "../notification-message.js";
import type { OpenChannel } from "./channel-store.js";
import { sendDiscord, sendSlack, sendTeams } from "./send-chat.js";
import { sendEmail } from "./send-email.js";
import { sendNtfy } from "./send-ntfy.js";
import { sendPagerDuty } from "./send-pagerduty.js";
import { sendTelegram } from "./send-telegram.js";
import { sendWebhook } from "./send-webhook.js";

/** Sends one message through one channel; resolves with a one-line summary, throws on failure. */
export function deliver(
  channel: OpenChannel,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const settings = channel.settings;
  switch (settings.kind) {
    case "email":
      return sendEmail(settings.config, settings.secret, message, timeoutMs);
    case "webhook":
      return sendWebhook(settings.config, settings.secret, message, timeoutMs);
    case "slack":
      return sendSlack(settings.config, settings.secret, message, timeoutMs);
    case "discord":
      return sendDiscord(settings.config, settings.secret, message, timeoutMs);
    case "teams":
      return sendTeams(settings.config, settings.secret, message, timeoutMs);
    case "telegram":
      return sendTelegram(settings.config, settings.secret, message, timeoutMs);
    case "ntfy":
      return sendNtfy(settings.config, settings.secret, message, timeoutMs);
    case "pagerduty":
      return sendPagerDuty(settings.config, settings.secret, message, timeoutMs);
  }
}
