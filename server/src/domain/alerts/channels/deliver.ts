import type { NotificationMessage } from "../notification-message.js";
import type { OpenChannel } from "./channel-store.js";
import { sendEmail } from "./send-email.js";
import { sendWebhook } from "./send-webhook.js";

/** Sends one message through one channel; resolves with a one-line summary, throws on failure. */
export function deliver(
  channel: OpenChannel,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  switch (channel.settings.kind) {
    case "email":
      return sendEmail(channel.settings.config, channel.settings.secret, message, timeoutMs);
    case "webhook":
      return sendWebhook(channel.settings.config, channel.settings.secret, message, timeoutMs);
  }
}
