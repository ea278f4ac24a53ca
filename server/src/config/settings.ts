import { z } from "zod";

/**
 * Every setting the control server reads, in one table: its environment name, what it is for,
 * its default, and whether it is a secret (secrets are redacted in logs and may be given as
 * `<NAME>_FILE`, a path whose content is the value). `config.example.env` documents each of
 * them; a test keeps the two in step.
 */
export interface SettingSpec {
  readonly env: string;
  readonly description: string;
  /** The default as the user would write it; undefined when the setting is optional. */
  readonly defaultValue?: string;
  readonly secret: boolean;
  readonly schema: z.ZodType<unknown>;
}

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const listenAddress = z.string().transform((value, ctx) => {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535) {
    ctx.addIssue({ code: "custom", message: "expected host:port, e.g. 127.0.0.1:8080 or [::]:8080" });
    return z.NEVER;
  }
  return { host: (match[1] ?? match[2]) as string, port };
});

const postgresUrl = z.string().transform((value, ctx) => {
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

const httpUrl = z.string().transform((value, ctx) => {
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

const onOff = z.enum(["on", "off"]);

export const settings = {
  OCORE_HTTP_ADDR: {
    env: "OCORE_HTTP_ADDR",
    description:
      "Address the console and the Connect API listen on (host:port). The default only accepts local connections; use 0.0.0.0:8080 behind a TLS reverse proxy to serve others.",
    defaultValue: "127.0.0.1:8080",
    secret: false,
    schema: listenAddress,
  },
  OCORE_PUBLIC_URL: {
    env: "OCORE_PUBLIC_URL",
    description:
      "The URL users reach the console at, when it differs from the listen address (a reverse proxy). Printed at start.",
    secret: false,
    schema: httpUrl,
  },
  OCORE_DATA_DIR: {
    env: "OCORE_DATA_DIR",
    description:
      "Directory for the server's own files: the embedded database (when DATABASE_URL is unset) and, later, keys and backups. Created when missing.",
    defaultValue: "./data",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
  DATABASE_URL: {
    env: "DATABASE_URL",
    description:
      "PostgreSQL connection URL (postgres://user:password@host:5432/database). Unset: the embedded PGlite database under OCORE_DATA_DIR is used.",
    secret: true,
    schema: postgresUrl,
  },
  OCORE_DB_POOL_SIZE: {
    env: "OCORE_DB_POOL_SIZE",
    description: "Maximum PostgreSQL connections this server process opens (ignored with PGlite).",
    defaultValue: "10",
    secret: false,
    schema: z.coerce.number().int("must be a whole number").min(1).max(200),
  },
  OCORE_LOG_LEVEL: {
    env: "OCORE_LOG_LEVEL",
    description: `Least severe log level written: ${logLevels.join(", ")}.`,
    defaultValue: "info",
    secret: false,
    schema: z.enum(logLevels),
  },
  OCORE_CONSOLE: {
    env: "OCORE_CONSOLE",
    description:
      "Serve the web console (the production build of web/) from this process: on or off. Off leaves only the API and health endpoints.",
    defaultValue: "on",
    secret: false,
    schema: onOff,
  },
  OCORE_WEB_DIR: {
    env: "OCORE_WEB_DIR",
    description:
      "Directory of the built console (the web/ package). Default: the web/ package next to this server.",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settings;

export type SettingValues = {
  [K in SettingName]: (typeof settings)[K] extends { defaultValue: string }
    ? z.output<(typeof settings)[K]["schema"]>
    : z.output<(typeof settings)[K]["schema"]> | undefined;
};
