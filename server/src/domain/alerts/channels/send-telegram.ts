import type { NotificationMessage } from "../notification-message.js";
import { chatText } from "./message-lines.js";
import { postJson } from "./post-json.js";
import type { TelegramConfig } from "./service-config.js";

/** Telegram Bot API sendMessage, plain text (no markup to escape); the token stays out of messages. */
export function sendTelegram(
  config: TelegramConfig,
  token: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const base = config.apiUrl.replace(/\/+$/, "");
  return postJson(
    `${base}/bot${token}/sendMessage`,
    { chat_id: config.chatId, text: chatText(message, 4096), disable_web_page_preview: true },
    { shown: `Telegram (${base}/bot…/sendMessage)`, timeoutMs },
  );
}
