import nodemailer from "nodemailer";
import type { NotificationMessage } from "../notification-message.js";
import type { EmailConfig } from "./channel-config.js";
import { renderText } from "./render-text.js";

/**
 * Sends a notification over SMTP. The Message-ID is derived from the idempotency key, so a
 * repeat after a crash threads as the same message in mail clients.
 */
export async function sendEmail(
  config: EmailConfig,
  password: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const transport = nodemailer.createTransport({
    host: config.smtpHost,
    port: config.smtpPort,
    secure: config.security === "tls",
    requireTLS: config.security === "starttls",
    ignoreTLS: config.security === "none",
    auth: config.username ? { user: config.username, pass: password } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: message.title,
      text: renderText(message),
      messageId: `<${message.idempotencyKey}@ocore.alerts>`,
      headers: { "X-Ocore-Idempotency-Key": message.idempotencyKey },
    });
    return `accepted by ${config.smtpHost}:${config.smtpPort} for ${info.accepted.length} recipient(s)`;
  } finally {
    transport.close();
  }
}
