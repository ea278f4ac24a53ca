import { z } from "zod";
import { aiSettings } from "./ai-settings.js";
import { alertSettings } from "./alert-settings.js";
import { checkSettings } from "./check-settings.js";
import { replicaSettings } from "./replica-settings.js";
import {
  hostList,
  httpUrl,
  listenAddress,
  logLevels,
  masterKey,
  masterKeyList,
  onOff,
  postgresUrl,
  type SettingSpec,
  wholeNumber,
} from "./setting-schemas.js";
import { sshSettings } from "./ssh-settings.js";

export type { SettingSpec } from "./setting-schemas.js";

/**
 * Every setting the control server reads, in one table: its environment name, what it is for,
 * its default, and whether it is a secret (secrets are redacted in logs and may be given as
 * `<NAME>_FILE`, a path whose content is the value). `config.example.env` documents each of
 * them; a test keeps the two in step.
 */
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
  OCORE_CONNECT_TIMEOUT_SECONDS: {
    env: "OCORE_CONNECT_TIMEOUT_SECONDS",
    description:
      "A new connection to the HTTP port must send its first bytes, and one to the agent port must finish its TLS handshake, within this many seconds (1 to 300); an HTTP/1.1 request's headers (or an HTTP/2 client's settings) must then be complete within twice that. Slow or silent clients cannot hold sockets.",
    defaultValue: "10",
    secret: false,
    schema: z.coerce.number().int("must be a whole number").min(1).max(300),
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
  ...alertSettings,
  ...checkSettings,
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
  ...sshSettings,
  ...aiSettings,
  ...replicaSettings,
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
