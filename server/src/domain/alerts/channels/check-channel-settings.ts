import { AppError } from "../../../platform/errors/app-error.js";
import { parseInput } from "../parse-input.js";
import {
  type ChannelSettings,
  type EmailConfig,
  emailConfigSchema,
  smtpPasswordSchema,
  type WebhookConfig,
  webhookConfigSchema,
  webhookSecretSchema,
} from "./channel-config.js";
import {
  defaultNtfyServerUrl,
  defaultPagerDutyApiUrl,
  defaultTelegramApiUrl,
  httpUrl,
  ntfyConfigSchema,
  ntfyTokenSchema,
  pagerDutyConfigSchema,
  pagerDutyKeySchema,
  telegramConfigSchema,
  telegramTokenSchema,
  urlHint,
} from "./service-config.js";

/** What a create request may carry: exactly one kind's settings, secrets in the clear. */
export interface ChannelSettingsInput {
  readonly email?: EmailConfig & { readonly password: string };
  readonly webhook?: WebhookConfig & { readonly secret: string };
  readonly slack?: { readonly url: string };
  readonly discord?: { readonly url: string };
  readonly teams?: { readonly url: string };
  readonly telegram?: { readonly botToken: string; readonly chatId: string; readonly apiUrl: string };
  readonly ntfy?: { readonly serverUrl: string; readonly topic: string; readonly token: string };
  readonly pagerduty?: { readonly routingKey: string; readonly apiUrl: string };
}

const kinds = ["email", "webhook", "slack", "discord", "teams", "telegram", "ntfy", "pagerduty"] as const;

const incomingExamples = {
  slack: "https://hooks.slack.com/services/T…/B…/…",
  discord: "https://discord.com/api/webhooks/…/…",
  teams: "https://….logic.azure.com/workflows/…",
} as const;

/** Validates one kind's settings; each problem is an invalid_argument naming the field. */
export function checkChannelSettings(input: ChannelSettingsInput): ChannelSettings {
  const given = kinds.filter((kind) => input[kind] !== undefined);
  if (given.length !== 1) throw AppError.invalid("settings", `give exactly one of ${kinds.join(", ")}`);
  const kind = given[0] as (typeof kinds)[number];
  switch (kind) {
    case "email": {
      const { password, ...rest } = input.email as NonNullable<ChannelSettingsInput["email"]>;
      const config = parseInput(emailConfigSchema, rest, "email");
      const secret = parseInput(smtpPasswordSchema, password, "email.password");
      if (secret && !config.username)
        throw AppError.invalid("email.username", "is required when a password is given");
      if (config.username && !secret) throw AppError.invalid("email.password", "is required with a username");
      return { kind, config, secret };
    }
    case "webhook": {
      const { secret, ...rest } = input.webhook as NonNullable<ChannelSettingsInput["webhook"]>;
      return {
        kind,
        config: parseInput(webhookConfigSchema, rest, "webhook"),
        secret: parseInput(webhookSecretSchema, secret, "webhook.secret"),
      };
    }
    case "slack":
    case "discord":
    case "teams": {
      const url = parseInput(httpUrl(incomingExamples[kind]), input[kind]?.url ?? "", `${kind}.url`);
      if (!url) throw AppError.invalid(`${kind}.url`, `is required, e.g. ${incomingExamples[kind]}`);
      return { kind, config: { urlHint: urlHint(url) }, secret: url };
    }
    case "telegram": {
      const value = input.telegram as NonNullable<ChannelSettingsInput["telegram"]>;
      const config = parseInput(
        telegramConfigSchema,
        { chatId: value.chatId, apiUrl: value.apiUrl || defaultTelegramApiUrl },
        "telegram",
      );
      return { kind, config, secret: parseInput(telegramTokenSchema, value.botToken, "telegram.bot_token") };
    }
    case "ntfy": {
      const value = input.ntfy as NonNullable<ChannelSettingsInput["ntfy"]>;
      const config = parseInput(
        ntfyConfigSchema,
        { serverUrl: value.serverUrl || defaultNtfyServerUrl, topic: value.topic },
        "ntfy",
      );
      return { kind, config, secret: parseInput(ntfyTokenSchema, value.token, "ntfy.token") };
    }
    case "pagerduty": {
      const value = input.pagerduty as NonNullable<ChannelSettingsInput["pagerduty"]>;
      const config = parseInput(
        pagerDutyConfigSchema,
        { apiUrl: value.apiUrl || defaultPagerDutyApiUrl },
        "pagerduty",
      );
      return {
        kind,
        config,
        secret: parseInput(pagerDutyKeySchema, value.routingKey, "pagerduty.routing_key"),
      };
    }
  }
}
