import { z } from "zod";

export interface SettingSpec {
  readonly env: string;
  readonly description: string;
  /** The default as the user would write it; undefined when the setting is optional. */
  readonly defaultValue?: string;
  readonly secret: boolean;
  readonly schema: z.ZodType<unknown>;
}

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const listenAddress = z.string().transform((value, ctx) => {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    ctx.addIssue({ code: "custom", message: "expected host:port, e.g. 127.0.0.1:8080 or [::]:8080" });
    return z.NEVER;
  }
  return { host: (match[1] ?? match[2]) as string, port };
});

export const postgresUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: "not a URL; expected postgres://user:password@host:5432/database",
    });
    return z.NEVER;
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    ctx.addIssue({ code: "custom", message: `scheme "${url.protocol}" is not postgres:// or postgresql://` });
    return z.NEVER;
  }
  if (!url.hostname && !url.searchParams.get("host")) {
    ctx.addIssue({
      code: "custom",
      message: "no host; expected postgres://user:password@host:5432/database",
    });
    return z.NEVER;
  }
  return value;
});

export const httpUrl = z.string().transform((value, ctx) => {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
  } catch {
    // reported below
  }
  ctx.addIssue({
    code: "custom",
    message: "expected an http:// or https:// URL, e.g. https://ocore.example.com",
  });
  return z.NEVER;
});

export const onOff = z.enum(["on", "off"]);

export const wholeNumber = (min: number, max: number) =>
  z.coerce.number().int("must be a whole number").min(min).max(max);

/**
 * A check's two thresholds, "WARN,CRITICAL" (e.g. "90,95"). `worse` says which way is worse: for
 * "up" the critical threshold is at least the warn one, for "down" (days left, hours left) at most.
 */
export const thresholdPair = (min: number, max: number, worse: "up" | "down") =>
  z.string().transform((value, ctx) => {
    const parts = value.split(",").map((part) => Number(part.trim()));
    const [warn, critical] = parts;
    if (parts.length !== 2 || warn === undefined || critical === undefined || !parts.every(Number.isFinite)) {
      ctx.addIssue({ code: "custom", message: 'expected "WARN,CRITICAL", two numbers, e.g. "90,95"' });
      return z.NEVER;
    }
    if (parts.some((part) => part < min || part > max)) {
      ctx.addIssue({ code: "custom", message: `each threshold must be from ${min} to ${max}` });
      return z.NEVER;
    }
    if (worse === "up" ? critical < warn : critical > warn) {
      ctx.addIssue({
        code: "custom",
        message: `the critical threshold (${critical}) must be ${worse === "up" ? "at least" : "at most"} the warn one (${warn})`,
      });
      return z.NEVER;
    }
    return { warn, critical };
  });

/** 32 random bytes in base64 (standard or URL alphabet); the value itself is never echoed. */
export const masterKey = z.string().refine((value) => Buffer.from(value.trim(), "base64").length === 32, {
  message: "expected 32 bytes in base64 (generate one with: openssl rand -base64 32)",
});

export const masterKeyList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((key) => key.trim())
      .filter((key) => key !== ""),
  )
  .refine((keys) => keys.every((key) => Buffer.from(key, "base64").length === 32), {
    message: "expected comma-separated keys of 32 bytes in base64",
  });

export const hostList = z
  .string()
  .transform((value) =>
    value
      .split(",")
      .map((host) => host.trim())
      .filter((host) => host !== ""),
  )
  .refine((hosts) => hosts.length > 0 && hosts.every((host) => /^[A-Za-z0-9.:*-]+$/.test(host)), {
    message: "expected comma-separated host names or IP addresses, e.g. ocore.example.com,10.0.0.5",
  });
