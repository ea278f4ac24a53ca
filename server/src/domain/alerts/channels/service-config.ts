import { z } from "zod";

/** An http(s) URL without credentials in it (tests point channels at a local receiver). */
export function httpUrl(example: string) {
  return z
    .string()
    .trim()
    .max(2048, "is longer than 2048 characters")
    .superRefine((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: `is not a URL; expected ${example}` });
        return;
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        ctx.addIssue({ code: "custom", message: `scheme "${url.protocol}" is not http:// or https://` });
      } else if (url.username || url.password) {
        ctx.addIssue({ code: "custom", message: "must not carry a user name or password" });
      }
    });
}

/** Shows where a secret URL points without its secret part: scheme, host and "/…". */
export function urlHint(value: string): string {
  const url = new URL(value);
  return `${url.protocol}//${url.host}/…`;
}

/** Slack, Discord and Microsoft Teams: the incoming-webhook URL is the secret; its hint is shown. */
export const incomingWebhookConfigSchema = z.object({ urlHint: z.string() }).strict();
export type IncomingWebhookConfig = z.output<typeof incomingWebhookConfigSchema>;

export const telegramConfigSchema = z
  .object({
    chatId: z
      .string()
      .trim()
      .regex(
        /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$/,
        "is not a chat id (-1001234567890) or @channelname",
      ),
    apiUrl: httpUrl("https://api.telegram.org"),
  })
  .strict();
export type TelegramConfig = z.output<typeof telegramConfigSchema>;

export const telegramTokenSchema = z
  .string()
  .trim()
  .regex(/^\d{3,20}:[A-Za-z0-9_-]{20,100}$/, "is not a bot token (123456789:AA…, from @BotFather)");

export const ntfyConfigSchema = z
  .object({
    serverUrl: httpUrl("https://ntfy.sh"),
    topic: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
  })
  .strict();
export type NtfyConfig = z.output<typeof ntfyConfigSchema>;

export const ntfyTokenSchema = z.string().trim().max(256, "is longer than 256 characters");

export const pagerDutyConfigSchema = z
  .object({ apiUrl: httpUrl("https://events.pagerduty.com/v2/enqueue") })
  .strict();
export type PagerDutyConfig = z.output<typeof pagerDutyConfigSchema>;

export const pagerDutyKeySchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9]{32}$/, "is not an Events v2 integration (routing) key: 32 letters and digits");

export const defaultTelegramApiUrl = "https://api.telegram.org";
export const defaultNtfyServerUrl = "https://ntfy.sh";
export const defaultPagerDutyApiUrl = "https://events.pagerduty.com/v2/enqueue";
