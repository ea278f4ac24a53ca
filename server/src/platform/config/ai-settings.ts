import { z } from "zod";
import { onOff, type SettingSpec, wholeNumber } from "./setting-schemas.js";

/** An http(s) base URL kept with its path (an OpenAI-compatible API lives under e.g. /v1). */
const baseUrl = z.string().transform((value, ctx) => {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: "expected an http:// or https:// URL, e.g. https://api.example.com/v1",
  });
  return z.NEVER;
});

/** The optional language model that explains diagnosis reports (OCORE_AI_*; issue 18). */
export const aiSettings = {
  OCORE_AI_ENDPOINT: {
    env: "OCORE_AI_ENDPOINT",
    description:
      "Base URL of an OpenAI-compatible chat completions API (…/v1) that explains diagnosis reports in words. Unset: reports are deterministic only (everything still works).",
    secret: false,
    schema: baseUrl,
  },
  OCORE_AI_MODEL: {
    env: "OCORE_AI_MODEL",
    description: "Model name sent to OCORE_AI_ENDPOINT.",
    defaultValue: "gpt-4o-mini",
    secret: false,
    schema: z.string().trim().min(1, "must not be empty").max(200),
  },
  OCORE_AI_API_KEY: {
    env: "OCORE_AI_API_KEY",
    description:
      "Bearer key for OCORE_AI_ENDPOINT (or OCORE_AI_API_KEY_FILE). Unset: no Authorization header.",
    secret: true,
    schema: z.string().trim().min(1, "must not be empty"),
  },
  OCORE_AI_ANONYMIZE: {
    env: "OCORE_AI_ANONYMIZE",
    description:
      "Replace server names and IP addresses with placeholders before a report goes to the model (on or off); the answer gets the names back.",
    defaultValue: "on",
    secret: false,
    schema: onOff,
  },
  OCORE_AI_TIMEOUT_SECONDS: {
    env: "OCORE_AI_TIMEOUT_SECONDS",
    description:
      "Longest wait for the model's answer, in seconds (1-600); the report is returned without an explanation after it.",
    defaultValue: "60",
    secret: false,
    schema: wholeNumber(1, 600),
  },
} as const satisfies Record<string, SettingSpec>;
