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

const wholeNumber = (min: number, max: number) =>
  z.coerce.number().int("must be a whole number").min(min).max(max);

/**
 * A check's two thresholds, "WARN,CRITICAL" (e.g. "90,95"). `worse` says which way is worse: for
 * "up" the critical threshold is at least the warn one, for "down" (days left, hours left) at most.
 */
const thresholdPair = (min: number, max: number, worse: "up" | "down") =>
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
const masterKey = z.string().refine((value) => Buffer.from(value.trim(), "base64").length === 32, {
  message: "expected 32 bytes in base64 (generate one with: openssl rand -base64 32)",
});

const masterKeyList = z
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

const hostList = z
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
  OCORE_API_MAX_REQUEST_BYTES: {
    env: "OCORE_API_MAX_REQUEST_BYTES",
    description:
      "Largest API request message read, in bytes; larger ones are refused with resource_exhausted. ImportServers alone accepts up to about 21.4 MiB (a 16 MB file, base64 in JSON), and like every RPC but sign-in only after the caller is authenticated.",
    defaultValue: "1048576",
    secret: false,
    schema: z.coerce.number().int("must be a whole number").min(65_536).max(67_108_864),
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
  OCORE_AGENT_ADDR: {
    env: "OCORE_AGENT_ADDR",
    description:
      "Address the agent gateway (mutual-TLS gRPC: enrollment and the agents' streams) listens on (host:port).",
    defaultValue: "0.0.0.0:8443",
    secret: false,
    schema: listenAddress,
  },
  OCORE_AGENT_HOSTNAMES: {
    env: "OCORE_AGENT_HOSTNAMES",
    description:
      "Host names and IP addresses agents use to reach the gateway, comma-separated; they go into the gateway's TLS certificate (this machine's host name is always added).",
    defaultValue: "localhost,127.0.0.1",
    secret: false,
    schema: hostList,
  },
  OCORE_AGENT_PUBLIC_ADDR: {
    env: "OCORE_AGENT_PUBLIC_ADDR",
    description:
      "The gateway address (host:port) handed out with enrollment tokens. Default: this machine's host name and the OCORE_AGENT_ADDR port.",
    secret: false,
    schema: listenAddress,
  },
  OCORE_AGENT_CERT_DAYS: {
    env: "OCORE_AGENT_CERT_DAYS",
    description:
      "Lifetime of an agent's client certificate in days (1-30); agents renew it over their stream before it expires.",
    defaultValue: "7",
    secret: false,
    schema: wholeNumber(1, 30),
  },
  OCORE_AGENT_EXECUTABLE: {
    env: "OCORE_AGENT_EXECUTABLE",
    description:
      "The agent executable this server installs on hosts and upgrades agents to, with its .json sidecar next to it (built by npm run build:agent). Default: agent/dist-sea/ocore-agent of this repository.",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_MASTER_KEY: {
    env: "OCORE_MASTER_KEY",
    description:
      "Key that encrypts the server's private keys at rest (32 bytes, base64). Unset: read from, or generated once into, OCORE_DATA_DIR/master.key.",
    secret: true,
    schema: masterKey,
  },
  OCORE_MASTER_KEY_PREVIOUS: {
    env: "OCORE_MASTER_KEY_PREVIOUS",
    description:
      "Former master keys, comma-separated, only to decrypt during a rotation; data found under them is re-encrypted with OCORE_MASTER_KEY at start.",
    secret: true,
    schema: masterKeyList,
  },
  OCORE_SSH_ENCRYPTION_KEY: {
    env: "OCORE_SSH_ENCRYPTION_KEY",
    description:
      "Key that encrypts stored SSH credentials (AES-256-GCM, 32 bytes in base64; the SSH_ENCRYPTION_KEY of the product documents). Unset: a key derived from the master key.",
    secret: true,
    schema: masterKey,
  },
  OCORE_SSH_ENCRYPTION_KEY_PREVIOUS: {
    env: "OCORE_SSH_ENCRYPTION_KEY_PREVIOUS",
    description:
      "Former SSH credential keys, comma-separated, only to decrypt during a rotation; credentials found under them are re-encrypted with the current key when next used.",
    secret: true,
    schema: masterKeyList,
  },
  OCORE_AGENT_INSTALL_PREFIX: {
    env: "OCORE_AGENT_INSTALL_PREFIX",
    description: "Directory onboarding installs the agent into on each host.",
    defaultValue: "/opt/ocore-agent",
    secret: false,
    schema: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]+$/, "must be an absolute path of letters, digits, '.', '_', '-', '/'"),
  },
  OCORE_AGENT_INSTALL_MODE: {
    env: "OCORE_AGENT_INSTALL_MODE",
    description:
      "How onboarding supervises the agent: auto (systemd when it is the host's init, else oCore's supervisor script), systemd or supervised.",
    defaultValue: "auto",
    secret: false,
    schema: z.enum(["auto", "systemd", "supervised"]),
  },
  OCORE_PROVISIONING_AGENT_WAIT_SECONDS: {
    env: "OCORE_PROVISIONING_AGENT_WAIT_SECONDS",
    description:
      "How long onboarding waits for an installed agent to open its stream before the server fails with agent_not_connected (10-3600).",
    defaultValue: "120",
    secret: false,
    schema: wholeNumber(10, 3600),
  },
  OCORE_METRICS_INTERVAL_SECONDS: {
    env: "OCORE_METRICS_INTERVAL_SECONDS",
    description: "How often agents sample metrics, in seconds (1-3600); sent to agents when they connect.",
    defaultValue: "10",
    secret: false,
    schema: wholeNumber(1, 3600),
  },
  OCORE_METRICS_RAW_RETENTION_DAYS: {
    env: "OCORE_METRICS_RAW_RETENTION_DAYS",
    description: "Days raw metric samples are kept (1-90).",
    defaultValue: "3",
    secret: false,
    schema: wholeNumber(1, 90),
  },
  OCORE_METRICS_MINUTE_RETENTION_DAYS: {
    env: "OCORE_METRICS_MINUTE_RETENTION_DAYS",
    description: "Days 1-minute metric rollups are kept (1-365).",
    defaultValue: "30",
    secret: false,
    schema: wholeNumber(1, 365),
  },
  OCORE_METRICS_HOUR_RETENTION_DAYS: {
    env: "OCORE_METRICS_HOUR_RETENTION_DAYS",
    description: "Days 1-hour metric rollups are kept (1-3650).",
    defaultValue: "395",
    secret: false,
    schema: wholeNumber(1, 3650),
  },
  OCORE_INSTANCE_ODOO_IMAGE: {
    env: "OCORE_INSTANCE_ODOO_IMAGE",
    description: "Odoo image of new instances when the request names none.",
    defaultValue: "odoo:17.0",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_INSTANCE_POSTGRES_IMAGE: {
    env: "OCORE_INSTANCE_POSTGRES_IMAGE",
    description: "PostgreSQL image of new instances when the request names none.",
    defaultValue: "postgres:16",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_INSTANCE_MAILPIT_IMAGE: {
    env: "OCORE_INSTANCE_MAILPIT_IMAGE",
    description: "Mailpit image of new instances when the request names none.",
    defaultValue: "axllent/mailpit:v1.21",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_BACKUP_DIR: {
    env: "OCORE_BACKUP_DIR",
    description: "Directory of the backup store (instance backups). Default: OCORE_DATA_DIR/backups.",
    secret: false,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_BACKUP_STORE: {
    env: "OCORE_BACKUP_STORE",
    description:
      "Where backup archives are stored: directory (OCORE_BACKUP_DIR) or s3 (an S3-compatible bucket, OCORE_BACKUP_S3_*).",
    defaultValue: "directory",
    secret: false,
    schema: z.enum(["directory", "s3"]),
  },
  OCORE_BACKUP_S3_ENDPOINT: {
    env: "OCORE_BACKUP_S3_ENDPOINT",
    description:
      "URL of the S3-compatible service (MinIO, Ceph, Wasabi, …), e.g. https://minio.example.com:9000. Unset: AWS S3 in OCORE_BACKUP_S3_REGION.",
    secret: false,
    schema: httpUrl,
  },
  OCORE_BACKUP_S3_REGION: {
    env: "OCORE_BACKUP_S3_REGION",
    description: "Region of the bucket (S3-compatible services usually accept the default).",
    defaultValue: "us-east-1",
    secret: false,
    schema: z.string().regex(/^[a-z0-9-]{2,40}$/, "expected a region name such as us-east-1 or eu-central-1"),
  },
  OCORE_BACKUP_S3_BUCKET: {
    env: "OCORE_BACKUP_S3_BUCKET",
    description: "Bucket of the S3 backup store (required with OCORE_BACKUP_STORE=s3); it must exist.",
    secret: false,
    schema: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "expected a bucket name of 3-63 lowercase letters, digits, '.' and '-'",
      ),
  },
  OCORE_BACKUP_S3_PREFIX: {
    env: "OCORE_BACKUP_S3_PREFIX",
    description: "Key prefix of the archives in the bucket, e.g. ocore/ (a '/' is added when missing).",
    secret: false,
    schema: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "expected letters, digits and ! _ . * ' ( ) / -")
      .refine((value) => !value.startsWith("/"), { message: "must not start with '/'" })
      .transform((value) => (value === "" || value.endsWith("/") ? value : `${value}/`)),
  },
  OCORE_BACKUP_S3_FORCE_PATH_STYLE: {
    env: "OCORE_BACKUP_S3_FORCE_PATH_STYLE",
    description:
      "on: address the bucket in the URL path (host/bucket/key), as MinIO and most self-hosted services need; off: as a host name (bucket.host).",
    defaultValue: "off",
    secret: false,
    schema: onOff,
  },
  OCORE_BACKUP_S3_ACCESS_KEY_ID: {
    env: "OCORE_BACKUP_S3_ACCESS_KEY_ID",
    description:
      "Access key id for the bucket (with OCORE_BACKUP_S3_SECRET_ACCESS_KEY). Unset: the AWS SDK's default credentials (AWS_* variables, instance role).",
    secret: true,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_BACKUP_S3_SECRET_ACCESS_KEY: {
    env: "OCORE_BACKUP_S3_SECRET_ACCESS_KEY",
    description: "Secret access key for the bucket (with OCORE_BACKUP_S3_ACCESS_KEY_ID).",
    secret: true,
    schema: z.string().min(1, "must not be empty"),
  },
  OCORE_ALERT_EVALUATE_EVERY_SECONDS: {
    env: "OCORE_ALERT_EVALUATE_EVERY_SECONDS",
    description: "How often alert rules are evaluated, in seconds (1-3600); one replica evaluates at a time.",
    defaultValue: "10",
    secret: false,
    schema: wholeNumber(1, 3600),
  },
  OCORE_ALERT_DISK_WARN_PERCENT: {
    env: "OCORE_ALERT_DISK_WARN_PERCENT",
    description: "A mount this full (percent used, 1-100) raises a warning alert.",
    defaultValue: "80",
    secret: false,
    schema: wholeNumber(1, 100),
  },
  OCORE_ALERT_DISK_CRITICAL_PERCENT: {
    env: "OCORE_ALERT_DISK_CRITICAL_PERCENT",
    description:
      "A mount this full (percent used, 1-100, at least the warn threshold) makes the alert critical.",
    defaultValue: "90",
    secret: false,
    schema: wholeNumber(1, 100),
  },
  OCORE_ALERT_DISK_FOR_SECONDS: {
    env: "OCORE_ALERT_DISK_FOR_SECONDS",
    description:
      "How long a mount must stay over the warn threshold before its alert fires, in seconds (0-86400).",
    defaultValue: "300",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_AGENT_OFFLINE_FOR_SECONDS: {
    env: "OCORE_ALERT_AGENT_OFFLINE_FOR_SECONDS",
    description:
      "How long a server must stay offline before the host-lost alert fires, in seconds (0-86400).",
    defaultValue: "60",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_MEMORY_PERCENT: {
    env: "OCORE_ALERT_MEMORY_PERCENT",
    description:
      "Memory pressure: percent of memory in use (not reclaimable), WARN,CRITICAL (built-in rule, per server).",
    defaultValue: "90,95",
    secret: false,
    schema: thresholdPair(1, 100, "up"),
  },
  OCORE_ALERT_SWAP_PERCENT: {
    env: "OCORE_ALERT_SWAP_PERCENT",
    description: "Swap pressure: percent of swap in use, WARN,CRITICAL (hosts without swap are not judged).",
    defaultValue: "50,80",
    secret: false,
    schema: thresholdPair(1, 100, "up"),
  },
  OCORE_ALERT_LOAD_PER_CORE: {
    env: "OCORE_ALERT_LOAD_PER_CORE",
    description: "5-minute load average per CPU core, WARN,CRITICAL.",
    defaultValue: "2,4",
    secret: false,
    schema: thresholdPair(0.1, 1000, "up"),
  },
  OCORE_ALERT_CLOCK_SKEW_SECONDS: {
    env: "OCORE_ALERT_CLOCK_SKEW_SECONDS",
    description: "Clock skew between a host and this server, in seconds either way, WARN,CRITICAL.",
    defaultValue: "10,60",
    secret: false,
    schema: thresholdPair(1, 86400, "up"),
  },
  OCORE_ALERT_CERTIFICATE_DAYS: {
    env: "OCORE_ALERT_CERTIFICATE_DAYS",
    description:
      "Days left before an agent's certificate expires (agents renew theirs well before), WARN,CRITICAL.",
    defaultValue: "14,3",
    secret: false,
    schema: thresholdPair(0, 3650, "down"),
  },
  OCORE_ALERT_DISK_FULL_HOURS: {
    env: "OCORE_ALERT_DISK_FULL_HOURS",
    description:
      "Hours until the fullest filesystem is full at the last hour's rate (linear fit), WARN,CRITICAL.",
    defaultValue: "48,12",
    secret: false,
    schema: thresholdPair(0.1, 100000, "down"),
  },
  OCORE_ALERT_HOST_CHECK_FOR_SECONDS: {
    env: "OCORE_ALERT_HOST_CHECK_FOR_SECONDS",
    description:
      "How long memory, swap, load, clock skew, restart loops or a disk filling up must hold before alerting, in seconds (0-86400).",
    defaultValue: "300",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_GROUP_WAIT_SECONDS: {
    env: "OCORE_ALERT_GROUP_WAIT_SECONDS",
    description:
      "How long a server's first alerts wait to be sent together in one message, in seconds (0-3600).",
    defaultValue: "30",
    secret: false,
    schema: wholeNumber(0, 3600),
  },
  OCORE_ALERT_GROUP_INTERVAL_SECONDS: {
    env: "OCORE_ALERT_GROUP_INTERVAL_SECONDS",
    description:
      "The least time between two messages about one server's alerts (new ones, resolved ones), in seconds (0-86400).",
    defaultValue: "300",
    secret: false,
    schema: wholeNumber(0, 86400),
  },
  OCORE_ALERT_REPEAT_INTERVAL_SECONDS: {
    env: "OCORE_ALERT_REPEAT_INTERVAL_SECONDS",
    description:
      "How often alerts still firing and not acknowledged are sent again, in seconds (0-604800; 0: never).",
    defaultValue: "14400",
    secret: false,
    schema: wholeNumber(0, 604800),
  },
  OCORE_ALERT_FLAP_THRESHOLD: {
    env: "OCORE_ALERT_FLAP_THRESHOLD",
    description:
      "An alert that fired this many times within the flap window is flapping: sent once, then held until it calms down (0-100; 0: off).",
    defaultValue: "4",
    secret: false,
    schema: wholeNumber(0, 100),
  },
  OCORE_ALERT_FLAP_WINDOW_SECONDS: {
    env: "OCORE_ALERT_FLAP_WINDOW_SECONDS",
    description: "The window of flap detection, in seconds (60-86400).",
    defaultValue: "1800",
    secret: false,
    schema: wholeNumber(60, 86400),
  },
  OCORE_METRICS_TOKEN: {
    env: "OCORE_METRICS_TOKEN",
    description:
      "Bearer token a Prometheus scraper sends to GET /metrics on the HTTP address (at least 16 characters). Unset: /metrics is off (404).",
    secret: true,
    schema: z
      .string()
      .trim()
      .min(16, "must be at least 16 characters (generate one with: openssl rand -hex 32)"),
  },
  OCORE_METRICS_HOST_SERIES_MAX: {
    env: "OCORE_METRICS_HOST_SERIES_MAX",
    description:
      "Servers (first by name) that get per-server series on /metrics (0-5000); the others are only counted by status.",
    defaultValue: "500",
    secret: false,
    schema: wholeNumber(0, 5000),
  },
  OCORE_SSH_LISTEN_ADDR: {
    env: "OCORE_SSH_LISTEN_ADDR",
    description:
      "Address the SSH gateway listens on (host:port; the origin document's SSH_LISTEN_ADDR), or off. Users reach hosts with `ssh -p 2222 user+server@gateway`.",
    defaultValue: "0.0.0.0:2222",
    secret: false,
    schema: z.union([z.literal("off"), listenAddress]),
  },
  OCORE_SSH_IDLE_TIMEOUT_SECONDS: {
    env: "OCORE_SSH_IDLE_TIMEOUT_SECONDS",
    description:
      "An SSH gateway session with no bytes either way for this long is ended, in seconds (0: never, up to 604800).",
    defaultValue: "1800",
    secret: false,
    schema: wholeNumber(0, 604_800),
  },
  OCORE_SSH_MAX_SESSION_SECONDS: {
    env: "OCORE_SSH_MAX_SESSION_SECONDS",
    description:
      "Longest an SSH gateway session may last, in seconds (0: no limit, up to 604800); it is ended with a message then.",
    defaultValue: "43200",
    secret: false,
    schema: wholeNumber(0, 604_800),
  },
  OCORE_SSH_MAX_SESSIONS_PER_USER: {
    env: "OCORE_SSH_MAX_SESSIONS_PER_USER",
    description: "Most SSH gateway connections one user (or API token) may have open at once (1-1000).",
    defaultValue: "10",
    secret: false,
    schema: wholeNumber(1, 1000),
  },
  OCORE_SSH_MAX_SESSIONS_PER_HOST: {
    env: "OCORE_SSH_MAX_SESSIONS_PER_HOST",
    description: "Most SSH gateway connections open at once to one server (1-1000).",
    defaultValue: "50",
    secret: false,
    schema: wholeNumber(1, 1000),
  },
  OCORE_SSH_RECORD_INPUT: {
    env: "OCORE_SSH_RECORD_INPUT",
    description:
      'Record what users type in SSH sessions (asciicast "i" events), on or off. Off records output and resizes only; typed passwords are then never stored.',
    defaultValue: "off",
    secret: false,
    schema: onOff,
  },
  OCORE_SSH_RECORDING_MAX_MB: {
    env: "OCORE_SSH_RECORDING_MAX_MB",
    description:
      "Largest recording of one SSH session, in MB (1-10240). A session that reaches it is ended (fail closed), with a message; its recording is kept up to that point.",
    defaultValue: "256",
    secret: false,
    schema: wholeNumber(1, 10240),
  },
  OCORE_SSH_RECORDING_RETENTION_DAYS: {
    env: "OCORE_SSH_RECORDING_RETENTION_DAYS",
    description: "Days SSH sessions and their recordings are kept after they end (1-3650).",
    defaultValue: "90",
    secret: false,
    schema: wholeNumber(1, 3650),
  },
  OCORE_JOIN_TTL_SECONDS: {
    env: "OCORE_JOIN_TTL_SECONDS",
    description:
      "How long a join command (Add server, join from the host) stays valid by default, in seconds (60-604800); it works once.",
    defaultValue: "3600",
    secret: false,
    schema: wholeNumber(60, 604800),
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settings;

export type SettingValues = {
  [K in SettingName]: (typeof settings)[K] extends { defaultValue: string }
    ? z.output<(typeof settings)[K]["schema"]>
    : z.output<(typeof settings)[K]["schema"]> | undefined;
};
