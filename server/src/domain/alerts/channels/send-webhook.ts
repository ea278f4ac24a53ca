import { createHmac } from "node:crypto";
import type { NotificationMessage } from "../notification-message.js";
import type { WebhookConfig } from "./channel-config.js";

/** The signature header's value: `sha256=<hex HMAC-SHA256 of the exact body>`. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * POSTs the notification as JSON (the message itself, see docs/decisions/0120). Any answer other
 * than 2xx, a redirect included, is a failure to retry; so is no answer within `timeoutMs`.
 */
export async function sendWebhook(
  config: WebhookConfig,
  secret: string,
  message: NotificationMessage,
  timeoutMs: number,
): Promise<string> {
  const body = JSON.stringify(message);
  let response: Response;
  try {
    response = await fetch(config.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": "oCore-alerts/1",
        "x-ocore-event": message.status,
        "x-ocore-idempotency-key": message.idempotencyKey,
        "x-ocore-signature": webhookSignature(secret, body),
      },
      body,
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    if ((error as Error).name === "TimeoutError")
      throw new Error(`no answer from ${config.url} within ${timeoutMs} ms`);
    throw new Error(`could not reach ${config.url}: ${cause?.message ?? (error as Error).message}`);
  }
  const text = (await response.text().catch(() => "")).slice(0, 200);
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${config.url} answered ${response.status}${text ? `: ${text}` : ""}`);
  }
  return `${config.url} answered ${response.status}`;
}
