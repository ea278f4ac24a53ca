import { z } from "zod";
import type { IncomingWebhookConfig, NtfyConfig, PagerDutyConfig, TelegramConfig } from "./service-config.js";

const HOSTNAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(\d{1,3})(\.\d{1,3}){3}$/;
const address = z
  .string()
  .trim()
  .max(254, "is longer than 254 characters")
  .regex(
    /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/,
    "is not an e-mail address (name@example.com)",
  );

/** What an e-mail channel keeps in the clear; the password is sealed apart. */
export const emailConfigSchema = z
  .object({
    smtpHost: z
      .string()
      .trim()
      .min(1, "is required: the SMTP server's host name, e.g. smtp.example.com")
      .refine((host) => HOSTNAME.test(host) || IPV4.test(host), {
        message: "is not a host name or IPv4 address",
      }),
    smtpPort: z
      .number()
      .int()
      .min(1, "must be 1-65535 (587 for STARTTLS, 465 for TLS, 25 for plain)")
      .max(65535, "must be 1-65535 (587 for STARTTLS, 465 for TLS, 25 for plain)"),
    security: z.enum(["starttls", "tls", "none"], {
      message: 'must be "starttls" (port 587), "tls" (port 465) or "none" (trusted networks only)',
    }),
    username: z.string().trim().max(256, "is longer than 256 characters"),
    from: address,
    to: z.array(address).min(1, "needs at least one recipient").max(50, "has more than 50 recipients"),
  })
  .strict();

export type EmailConfig = z.output<typeof emailConfigSchema>;

/** What a webhook channel keeps in the clear; the signing secret is sealed apart. */
export const webhookConfigSchema = z
  .object({
    url: z
      .string()
      .trim()
      .max(2048, "is longer than 2048 characters")
      .superRefine((value, ctx) => {
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          ctx.addIssue({
            code: "custom",
            message: "is not a URL; expected https://receiver.example.com/path",
          });
          return;
        }
        if (url.protocol !== "https:" && url.protocol !== "http:") {
          ctx.addIssue({ code: "custom", message: `scheme "${url.protocol}" is not http:// or https://` });
        } else if (url.username || url.password) {
          ctx.addIssue({
            code: "custom",
            message: "must not carry credentials; the receiver checks the X-Ocore-Signature header instead",
          });
        }
      }),
  })
  .strict();

export type WebhookConfig = z.output<typeof webhookConfigSchema>;

/** The signing secret of a webhook: long enough that the HMAC means something. */
export const webhookSecretSchema = z
  .string()
  .min(16, "must be at least 16 characters (e.g. openssl rand -hex 32)")
  .max(512, "is longer than 512 characters");

export const smtpPasswordSchema = z.string().max(1024, "is longer than 1024 characters");

/** A channel's kind, its settings in the clear and its secret (opened). */
export type ChannelSettings =
  | { readonly kind: "email"; readonly config: EmailConfig; readonly secret: string }
  | { readonly kind: "webhook"; readonly config: WebhookConfig; readonly secret: string }
  | {
      readonly kind: "slack" | "discord" | "teams";
      readonly config: IncomingWebhookConfig;
      readonly secret: string;
    }
  | { readonly kind: "telegram"; readonly config: TelegramConfig; readonly secret: string }
  | { readonly kind: "ntfy"; readonly config: NtfyConfig; readonly secret: string }
  | { readonly kind: "pagerduty"; readonly config: PagerDutyConfig; readonly secret: string };

export type ChannelKind = ChannelSettings["kind"];

export const channelKinds: readonly ChannelKind[] = [
  "email",
  "webhook",
  "slack",
  "discord",
  "teams",
  "telegram",
  "ntfy",
  "pagerduty",
];
