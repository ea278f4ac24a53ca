import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type AlertConfig, toAlertConfig } from "./alert-config.js";
import { ConfigError } from "./config-error.js";
import { type RelayConfig, toRelayConfig } from "./replica-config.js";
import { type SettingName, type SettingSpec, type SettingValues, settings } from "./settings.js";

/** The control server's configuration, parsed once in `main` and passed down. */
export interface Config {
  readonly http: { readonly host: string; readonly port: number };
  /** The largest API request message read (OCORE_API_MAX_REQUEST_BYTES). */
  readonly apiMaxRequestBytes: number;
  /** First bytes on the HTTP port, TLS on the agent port (OCORE_CONNECT_TIMEOUT_SECONDS). */
  readonly connectTimeoutMs: number;
  readonly publicUrl: string | undefined;
  readonly dataDir: string;
  readonly database:
    | { readonly kind: "postgres"; readonly url: string; readonly poolSize: number }
    | { readonly kind: "pglite"; readonly dir: string };
  readonly log: { readonly level: SettingValues["OCORE_LOG_LEVEL"] };
  readonly console: { readonly enabled: boolean; readonly webDir: string | undefined };
  readonly agent: {
    readonly listen: { readonly host: string; readonly port: number };
    /** The gateway certificate's names: OCORE_AGENT_HOSTNAMES, the public host and this machine's name. */
    readonly hostnames: readonly string[];
    /** host:port handed out with enrollment tokens. */
    readonly publicAddress: string;
    readonly certificateDays: number;
    readonly metricsIntervalSeconds: number;
    /** OCORE_AGENT_EXECUTABLE resolved; undefined: the repository's agent/dist-sea build. */
    readonly executable: string | undefined;
  };
  /** Onboarding: the SSH credential keys (base64; undefined: derived from the master key), install defaults. */
  readonly provisioning: {
    readonly sshKey: { readonly current: string | undefined; readonly previous: readonly string[] };
    readonly installPrefix: string;
    readonly installMode: "auto" | "systemd" | "supervised";
    readonly agentWaitSeconds: number;
    /** How long a join command stays valid by default. */
    readonly joinTtlSeconds: number;
  };
  /** Base64 master keys; `current` undefined means "use or create OCORE_DATA_DIR/master.key". */
  readonly masterKey: { readonly current: string | undefined; readonly previous: readonly string[] };
  readonly metricsRetention: {
    readonly rawDays: number;
    readonly minuteDays: number;
    readonly hourDays: number;
  };
  /** Odoo instances: default images, and where backups are stored. */
  readonly instances: {
    readonly images: { readonly odoo: string; readonly postgres: string; readonly mailpit: string };
    /** The directory store's directory (OCORE_BACKUP_DIR). */
    readonly backupDir: string;
    readonly backupStore: BackupStoreConfig;
  };
  /** Alert evaluation: how often, and the built-in rules' thresholds (OCORE_ALERT_*). */
  readonly alerts: AlertConfig;
  /** The relay between replicas (decision 0190). */
  readonly relay: RelayConfig;
  /** GET /metrics: off unless a token is set (OCORE_METRICS_TOKEN); per-server series cap. */
  readonly metricsExport: { readonly token: string | undefined; readonly maxHostSeries: number };
  /** The SSH gateway (OCORE_SSH_*): where it listens (undefined: off) and its session limits. */
  readonly sshGateway: {
    readonly listen: { readonly host: string; readonly port: number } | undefined;
    readonly limits: SshSessionLimits;
  };
  /** SSH session recordings (OCORE_SSH_RECORD*). */
  readonly sshRecordings: {
    readonly recordInput: boolean;
    readonly maxBytes: number;
    readonly retentionDays: number;
  };
  /** The optional language model for diagnosis reports (OCORE_AI_*); undefined endpoint: none. */
  readonly ai: {
    readonly endpoint: string | undefined;
    readonly model: string;
    readonly apiKey: string | undefined;
    readonly anonymize: boolean;
    readonly timeoutMs: number;
  };
}

/** Limits of SSH gateway sessions; 0 seconds means no limit. */
export interface SshSessionLimits {
  readonly idleTimeoutSeconds: number;
  /** Handshake and authentication of a new connection, at most (OCORE_SSH_LOGIN_GRACE_SECONDS; default 60). */
  readonly loginGraceSeconds?: number;
  readonly maxSessionSeconds: number;
  readonly maxSessionsPerUser: number;
  readonly maxSessionsPerHost: number;
}

/** Where an S3-compatible store keeps archives (OCORE_BACKUP_S3_*). */
export interface S3BackupStoreConfig {
  /** Undefined: AWS S3 itself (the region's endpoint). */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly bucket: string;
  /** Prepended to every key, "" or ending in "/" (e.g. "ocore/"). */
  readonly prefix: string;
  /** Bucket in the path (`host/bucket/key`) rather than the host name: MinIO, Ceph, emulators. */
  readonly forcePathStyle: boolean;
  /** Undefined: the SDK's default chain (AWS_* variables, shared files, instance role). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}

/** OCORE_BACKUP_STORE: the directory store (backupDir), or an S3-compatible bucket. */
export type BackupStoreConfig =
  | { readonly kind: "directory" }
  | ({ readonly kind: "s3" } & S3BackupStoreConfig);

export type Env = Readonly<Record<string, string | undefined>>;

interface LoadOptions {
  /** Reads `*_FILE` secrets; injectable for tests. */
  readFile?: (file: string) => string;
  /** Base for relative paths (the data directory). */
  cwd?: string;
  /** This machine's host name (added to the gateway certificate); injectable for tests. */
  hostname?: string;
}

/**
 * Parses the environment into a Config, or throws a ConfigError naming the first bad setting.
 * Unknown `OCORE_*` variables are refused too: a typo must not silently fall back to a default.
 */
export function loadConfig(env: Env, options: LoadOptions = {}): Config {
  const readFile = options.readFile ?? ((file: string) => readFileSync(file, "utf8"));
  const cwd = options.cwd ?? process.cwd();
  rejectUnknownSettings(env);

  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(settings) as Array<[SettingName, SettingSpec]>) {
    const raw = rawValue(name, env, readFile);
    const input = raw === undefined || raw === "" ? spec.defaultValue : raw;
    if (input === undefined) continue;
    const parsed = spec.schema.safeParse(input);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((issue) => issue.message).join("; ");
      const shown = spec.secret ? "" : ` "${input}"`;
      const fallback = spec.defaultValue ? `unset it to use the default (${spec.defaultValue})` : "unset it";
      throw new ConfigError(name, `invalid value${shown}: ${problem}`, `Fix the value or ${fallback}.`);
    }
    values[name] = parsed.data;
  }
  return toConfig(values as SettingValues, cwd, options.hostname ?? os.hostname());
}

function rawValue(name: SettingName, env: Env, readFile: (file: string) => string): string | undefined {
  const fileVariable = `${name}_FILE`;
  const file = env[fileVariable];
  if (!file) return env[name];
  if (!(settings[name] as SettingSpec).secret) {
    throw new ConfigError(fileVariable, "only secrets can be read from a file", `Set ${name} directly.`);
  }
  if (env[name]) {
    throw new ConfigError(fileVariable, `both ${name} and ${fileVariable} are set`, "Keep only one of them.");
  }
  try {
    return readFile(file).replace(/\r?\n$/, "");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(fileVariable, `cannot read ${file} (${reason})`, "Point it at a readable file.");
  }
}

function rejectUnknownSettings(env: Env): void {
  const known = new Set<string>(Object.keys(settings).flatMap((name) => [name, `${name}_FILE`]));
  for (const name of Object.keys(env)) {
    if (!name.startsWith("OCORE_") || known.has(name)) continue;
    const suggestion = closestSetting(name);
    throw new ConfigError(
      name,
      "is not a setting oCore knows",
      suggestion
        ? `Did you mean ${suggestion}? See server/config.example.env.`
        : "See server/config.example.env.",
    );
  }
}

function closestSetting(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of Object.keys(settings)) {
    const distance = editDistance(name, candidate);
    if (distance <= 3 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function toConfig(values: SettingValues, cwd: string, hostname: string): Config {
  const dataDir = path.resolve(cwd, values.OCORE_DATA_DIR);
  const agentPort = values.OCORE_AGENT_ADDR.port;
  const publicAddress = values.OCORE_AGENT_PUBLIC_ADDR ?? { host: hostname, port: agentPort };
  const hostnames = [...new Set([...values.OCORE_AGENT_HOSTNAMES, publicAddress.host, hostname])];
  return {
    http: values.OCORE_HTTP_ADDR,
    apiMaxRequestBytes: values.OCORE_API_MAX_REQUEST_BYTES,
    connectTimeoutMs: values.OCORE_CONNECT_TIMEOUT_SECONDS * 1000,
    publicUrl: values.OCORE_PUBLIC_URL,
    dataDir,
    database: values.DATABASE_URL
      ? { kind: "postgres", url: values.DATABASE_URL, poolSize: values.OCORE_DB_POOL_SIZE }
      : { kind: "pglite", dir: path.join(dataDir, "pglite") },
    log: { level: values.OCORE_LOG_LEVEL },
    console: {
      enabled: values.OCORE_CONSOLE === "on",
      webDir: values.OCORE_WEB_DIR ? path.resolve(cwd, values.OCORE_WEB_DIR) : undefined,
    },
    agent: {
      listen: values.OCORE_AGENT_ADDR,
      hostnames,
      publicAddress: `${publicAddress.host.includes(":") ? `[${publicAddress.host}]` : publicAddress.host}:${publicAddress.port}`,
      certificateDays: values.OCORE_AGENT_CERT_DAYS,
      metricsIntervalSeconds: values.OCORE_METRICS_INTERVAL_SECONDS,
      executable: values.OCORE_AGENT_EXECUTABLE
        ? path.resolve(cwd, values.OCORE_AGENT_EXECUTABLE)
        : undefined,
    },
    masterKey: { current: values.OCORE_MASTER_KEY, previous: values.OCORE_MASTER_KEY_PREVIOUS ?? [] },
    provisioning: {
      sshKey: {
        current: values.OCORE_SSH_ENCRYPTION_KEY,
        previous: values.OCORE_SSH_ENCRYPTION_KEY_PREVIOUS ?? [],
      },
      installPrefix: values.OCORE_AGENT_INSTALL_PREFIX,
      installMode: values.OCORE_AGENT_INSTALL_MODE,
      agentWaitSeconds: values.OCORE_PROVISIONING_AGENT_WAIT_SECONDS,
      joinTtlSeconds: values.OCORE_JOIN_TTL_SECONDS,
    },
    metricsRetention: {
      rawDays: values.OCORE_METRICS_RAW_RETENTION_DAYS,
      minuteDays: values.OCORE_METRICS_MINUTE_RETENTION_DAYS,
      hourDays: values.OCORE_METRICS_HOUR_RETENTION_DAYS,
    },
    instances: {
      images: {
        odoo: values.OCORE_INSTANCE_ODOO_IMAGE,
        postgres: values.OCORE_INSTANCE_POSTGRES_IMAGE,
        mailpit: values.OCORE_INSTANCE_MAILPIT_IMAGE,
      },
      backupDir: values.OCORE_BACKUP_DIR
        ? path.resolve(cwd, values.OCORE_BACKUP_DIR)
        : path.join(dataDir, "backups"),
      backupStore: toBackupStoreConfig(values),
    },
    alerts: toAlertConfig(values),
    relay: toRelayConfig(values, hostname),
    metricsExport: { token: values.OCORE_METRICS_TOKEN, maxHostSeries: values.OCORE_METRICS_HOST_SERIES_MAX },
    sshGateway: {
      listen: values.OCORE_SSH_LISTEN_ADDR === "off" ? undefined : values.OCORE_SSH_LISTEN_ADDR,
      limits: {
        idleTimeoutSeconds: values.OCORE_SSH_IDLE_TIMEOUT_SECONDS,
        loginGraceSeconds: values.OCORE_SSH_LOGIN_GRACE_SECONDS,
        maxSessionSeconds: values.OCORE_SSH_MAX_SESSION_SECONDS,
        maxSessionsPerUser: values.OCORE_SSH_MAX_SESSIONS_PER_USER,
        maxSessionsPerHost: values.OCORE_SSH_MAX_SESSIONS_PER_HOST,
      },
    },
    sshRecordings: {
      recordInput: values.OCORE_SSH_RECORD_INPUT === "on",
      maxBytes: values.OCORE_SSH_RECORDING_MAX_MB * 1024 * 1024,
      retentionDays: values.OCORE_SSH_RECORDING_RETENTION_DAYS,
    },
    ai: {
      endpoint: values.OCORE_AI_ENDPOINT,
      model: values.OCORE_AI_MODEL,
      apiKey: values.OCORE_AI_API_KEY,
      anonymize: values.OCORE_AI_ANONYMIZE === "on",
      timeoutMs: values.OCORE_AI_TIMEOUT_SECONDS * 1000,
    },
  };
}

function toBackupStoreConfig(values: SettingValues): BackupStoreConfig {
  const bucket = values.OCORE_BACKUP_S3_BUCKET;
  if (values.OCORE_BACKUP_STORE === "directory") {
    if (bucket) {
      throw new ConfigError(
        "OCORE_BACKUP_S3_BUCKET",
        "is set but OCORE_BACKUP_STORE is directory, so backups would not go to the bucket",
        "Set OCORE_BACKUP_STORE=s3 to use the bucket, or unset OCORE_BACKUP_S3_BUCKET.",
      );
    }
    return { kind: "directory" };
  }
  if (!bucket) {
    throw new ConfigError(
      "OCORE_BACKUP_S3_BUCKET",
      "is required with OCORE_BACKUP_STORE=s3",
      "Set it to an existing bucket (and OCORE_BACKUP_S3_ENDPOINT for a service other than AWS), or set OCORE_BACKUP_STORE=directory.",
    );
  }
  const accessKeyId = values.OCORE_BACKUP_S3_ACCESS_KEY_ID;
  const secretAccessKey = values.OCORE_BACKUP_S3_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    const missing = accessKeyId ? "OCORE_BACKUP_S3_SECRET_ACCESS_KEY" : "OCORE_BACKUP_S3_ACCESS_KEY_ID";
    throw new ConfigError(
      missing,
      "is required when the other half of the S3 credentials is set",
      "Set both, or neither to use the AWS SDK's default credentials.",
    );
  }
  return {
    kind: "s3",
    endpoint: values.OCORE_BACKUP_S3_ENDPOINT,
    region: values.OCORE_BACKUP_S3_REGION,
    bucket,
    prefix: values.OCORE_BACKUP_S3_PREFIX ?? "",
    forcePathStyle: values.OCORE_BACKUP_S3_FORCE_PATH_STYLE === "on",
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  };
}

/** The configuration as it may be logged: secrets redacted, credentials stripped from URLs. */
export function sanitizeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    database:
      config.database.kind === "postgres"
        ? { ...config.database, url: redactUrlCredentials(config.database.url) }
        : config.database,
    instances: {
      ...config.instances,
      backupStore:
        config.instances.backupStore.kind === "s3" && config.instances.backupStore.credentials
          ? { ...config.instances.backupStore, credentials: "[redacted]" }
          : config.instances.backupStore,
    },
    metricsExport: {
      ...config.metricsExport,
      token: config.metricsExport.token === undefined ? undefined : "[redacted]",
    },
    masterKey: {
      current: config.masterKey.current === undefined ? undefined : "[redacted]",
      previous: config.masterKey.previous.map(() => "[redacted]"),
    },
    provisioning: {
      ...config.provisioning,
      sshKey: {
        current: config.provisioning.sshKey.current === undefined ? undefined : "[redacted]",
        previous: config.provisioning.sshKey.previous.map(() => "[redacted]"),
      },
    },
  };
}

export function redactUrlCredentials(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "redacted";
    return url.toString();
  } catch {
    return "redacted";
  }
}
