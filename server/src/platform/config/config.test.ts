import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig, redactUrlCredentials, sanitizeConfig } from "./config.js";
import { ConfigError } from "./config-error.js";
import { settings } from "./settings.js";

const cwd = "/srv/ocore";

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("uses the embedded database under ./data and local-only listening by default", () => {
    const config = loadConfig({}, { cwd });
    expect(config.http).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.dataDir).toBe("/srv/ocore/data");
    expect(config.database).toEqual({ kind: "pglite", dir: "/srv/ocore/data/pglite" });
    expect(config.log.level).toBe("info");
    expect(config.console).toEqual({ enabled: true, webDir: undefined });
  });

  it("uses PostgreSQL when DATABASE_URL is set", () => {
    const config = loadConfig(
      { DATABASE_URL: "postgres://u:p@db:5432/ocore", OCORE_DB_POOL_SIZE: "3", OCORE_HTTP_ADDR: "[::]:9000" },
      { cwd },
    );
    expect(config.database).toEqual({ kind: "postgres", url: "postgres://u:p@db:5432/ocore", poolSize: 3 });
    expect(config.http).toEqual({ host: "::", port: 9000 });
  });

  it("reads secrets from *_FILE, without the trailing newline", () => {
    const files: Record<string, string> = { "/run/secrets/db": "postgresql://u:p@db/ocore\n" };
    const config = loadConfig(
      { DATABASE_URL_FILE: "/run/secrets/db" },
      { cwd, readFile: (f) => files[f] ?? "" },
    );
    expect(config.database).toMatchObject({ kind: "postgres", url: "postgresql://u:p@db/ocore" });
  });

  it.each([
    [{ DATABASE_URL: "mysql://u@db/x" }, "DATABASE_URL", /scheme "mysql:"/],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL", /not a URL/],
    [{ OCORE_HTTP_ADDR: "8080" }, "OCORE_HTTP_ADDR", /expected host:port/],
    [{ OCORE_HTTP_ADDR: "127.0.0.1:99999" }, "OCORE_HTTP_ADDR", /expected host:port/],
    [{ OCORE_LOG_LEVEL: "loud" }, "OCORE_LOG_LEVEL", /invalid value "loud"/],
    [{ OCORE_DB_POOL_SIZE: "0" }, "OCORE_DB_POOL_SIZE", /invalid value "0"/],
    [{ OCORE_CONSOLE: "yes" }, "OCORE_CONSOLE", /invalid value "yes"/],
    [{ OCORE_PUBLIC_URL: "ftp://x" }, "OCORE_PUBLIC_URL", /http:\/\/ or https:\/\//],
    [{ OCORE_LOG_LEVLE: "info" }, "OCORE_LOG_LEVLE", /Did you mean OCORE_LOG_LEVEL\?/],
    [{ OCORE_HTTP_ADDR_FILE: "/x" }, "OCORE_HTTP_ADDR_FILE", /only secrets/],
    [{ DATABASE_URL: "postgres://a/b", DATABASE_URL_FILE: "/x" }, "DATABASE_URL_FILE", /both/],
  ])("refuses %j naming %s", (env, setting, message) => {
    const error = configError(() => loadConfig(env, { cwd, readFile: () => "postgres://a/b" }));
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/\.$/); // a whole sentence with its fix
  });

  it("configures the agent gateway, its certificate names and the metric tiers", () => {
    const config = loadConfig(
      { OCORE_AGENT_HOSTNAMES: "ocore.example.com, 10.0.0.5" },
      { cwd, hostname: "box" },
    );
    expect(config.agent).toEqual({
      listen: { host: "0.0.0.0", port: 8443 },
      hostnames: ["ocore.example.com", "10.0.0.5", "box"],
      publicAddress: "box:8443",
      certificateDays: 7,
      metricsIntervalSeconds: 10,
    });
    expect(config.masterKey).toEqual({ current: undefined, previous: [] });
    expect(config.metricsRetention).toEqual({ rawDays: 3, minuteDays: 30, hourDays: 395 });
    const key = Buffer.alloc(32, 1).toString("base64");
    const withKey = loadConfig(
      { OCORE_MASTER_KEY: key, OCORE_AGENT_PUBLIC_ADDR: "gw.example.com:443" },
      { cwd },
    );
    expect(withKey.masterKey.current).toBe(key);
    expect(withKey.agent.publicAddress).toBe("gw.example.com:443");
    expect(JSON.stringify(sanitizeConfig(withKey))).not.toContain(key);
  });

  it.each([
    [{ OCORE_AGENT_CERT_DAYS: "31" }, "OCORE_AGENT_CERT_DAYS", /invalid value "31"/],
    [{ OCORE_AGENT_ADDR: "8443" }, "OCORE_AGENT_ADDR", /expected host:port/],
    [{ OCORE_AGENT_HOSTNAMES: "a b" }, "OCORE_AGENT_HOSTNAMES", /comma-separated/],
    [{ OCORE_MASTER_KEY: "c2hvcnQ=" }, "OCORE_MASTER_KEY", /32 bytes in base64/],
  ])("refuses agent setting %j naming %s", (env, setting, message) => {
    const error = configError(() => loadConfig(env, { cwd }));
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("c2hvcnQ=");
  });

  it("reads the host checks' WARN,CRITICAL pairs and refuses a pair in the wrong order, naming it", () => {
    const config = loadConfig(
      { OCORE_ALERT_MEMORY_PERCENT: "85, 97", OCORE_ALERT_CERTIFICATE_DAYS: "20,5" },
      { cwd },
    );
    expect(config.alerts.builtin.memoryPercent).toEqual({ warn: 85, critical: 97 });
    expect(config.alerts.builtin.certificateDays).toEqual({ warn: 20, critical: 5 });
    const reversed = configError(() => loadConfig({ OCORE_ALERT_MEMORY_PERCENT: "95,90" }, { cwd }));
    expect(reversed.message).toContain("OCORE_ALERT_MEMORY_PERCENT");
    expect(reversed.message).toContain("must be at least the warn one");
    const single = configError(() => loadConfig({ OCORE_ALERT_LOAD_PER_CORE: "3" }, { cwd }));
    expect(single.message).toContain("OCORE_ALERT_LOAD_PER_CORE");
    expect(single.message).toContain("WARN,CRITICAL");
  });

  it("reads per-tag thresholds and refuses a bad entry naming the key", () => {
    const config = loadConfig(
      { OCORE_ALERT_TAG_THRESHOLDS: '[{"selector": "env=staging", "disk": "90,95", "inodes": "90,98"}]' },
      { cwd },
    );
    expect(config.alerts.builtin.tagOverrides).toEqual([
      {
        selector: "env=staging",
        thresholds: { disk: { warn: 90, critical: 95 }, inodes: { warn: 90, critical: 98 } },
      },
    ]);
    expect(loadConfig({}, { cwd }).alerts.builtin.tagOverrides).toEqual([]);
    const notJson = configError(() => loadConfig({ OCORE_ALERT_TAG_THRESHOLDS: "env=staging" }, { cwd }));
    expect(notJson.message).toContain("OCORE_ALERT_TAG_THRESHOLDS");
    expect(notJson.message).toContain("is not JSON");
    const reversed = configError(() =>
      loadConfig({ OCORE_ALERT_TAG_THRESHOLDS: '[{"selector": "a", "disk": "95,90"}]' }, { cwd }),
    );
    expect(reversed.message).toContain("0.disk");
    const unknown = configError(() =>
      loadConfig({ OCORE_ALERT_TAG_THRESHOLDS: '[{"selector": "a", "cpu": "1,2"}]' }, { cwd }),
    );
    expect(unknown.message).toContain("keys: selector, disk, inodes");
    const cron = loadConfig(
      {
        OCORE_ALERT_CRON_LAG_MINUTES: "20,120",
        OCORE_ALERT_TAG_THRESHOLDS: '[{"selector": "a", "cron_lag": "30,90"}]',
      },
      { cwd },
    ).alerts.builtin;
    expect([cron.cronLagMinutes, cron.tagOverrides[0]?.thresholds]).toEqual([
      { warn: 20, critical: 120 },
      { cron_lag: { warn: 30, critical: 90 } },
    ]);
    expect(
      configError(() => loadConfig({ OCORE_ALERT_CRON_LAG_MINUTES: "60,15" }, { cwd })).message,
    ).toContain("OCORE_ALERT_CRON_LAG_MINUTES");
  });

  it("never shows a secret's value in its error", () => {
    const error = configError(() => loadConfig({ DATABASE_URL: "mysql://user:hunter2@db/x" }, { cwd }));
    expect(error.message).not.toContain("hunter2");
  });

  it("says which file it cannot read", () => {
    const error = configError(() =>
      loadConfig(
        { DATABASE_URL_FILE: "/nope" },
        {
          cwd,
          readFile: () => {
            throw new Error("ENOENT");
          },
        },
      ),
    );
    expect(error.message).toContain("cannot read /nope");
  });
});

describe("the backup store settings", () => {
  it("uses the directory store by default", () => {
    const config = loadConfig({}, { cwd });
    expect(config.instances.backupStore).toEqual({ kind: "directory" });
    expect(config.instances.backupDir).toBe("/srv/ocore/data/backups");
  });

  it("configures an S3-compatible bucket and never logs its secret", () => {
    const config = loadConfig(
      {
        OCORE_BACKUP_STORE: "s3",
        OCORE_BACKUP_S3_ENDPOINT: "http://minio.local:9000",
        OCORE_BACKUP_S3_BUCKET: "ocore-backups",
        OCORE_BACKUP_S3_PREFIX: "prod",
        OCORE_BACKUP_S3_FORCE_PATH_STYLE: "on",
        OCORE_BACKUP_S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
        OCORE_BACKUP_S3_SECRET_ACCESS_KEY_FILE: "/run/secrets/s3",
      },
      { cwd, readFile: () => "s3cr3t-value\n" },
    );
    expect(config.instances.backupStore).toEqual({
      kind: "s3",
      endpoint: "http://minio.local:9000",
      region: "us-east-1",
      bucket: "ocore-backups",
      prefix: "prod/",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t-value" },
    });
    const logged = JSON.stringify(sanitizeConfig(config));
    expect(logged).not.toContain("s3cr3t-value");
    expect(logged).not.toContain("AKIAEXAMPLE");
    expect(logged).toContain("ocore-backups");
  });

  it.each([
    [{ OCORE_BACKUP_STORE: "s3" }, "OCORE_BACKUP_S3_BUCKET", /required with OCORE_BACKUP_STORE=s3/],
    [{ OCORE_BACKUP_S3_BUCKET: "ocore-backups" }, "OCORE_BACKUP_S3_BUCKET", /Set OCORE_BACKUP_STORE=s3/],
    [{ OCORE_BACKUP_STORE: "s3", OCORE_BACKUP_S3_BUCKET: "Bad_Bucket" }, "OCORE_BACKUP_S3_BUCKET", /3-63/],
    [{ OCORE_BACKUP_STORE: "ftp" }, "OCORE_BACKUP_STORE", /invalid value "ftp"/],
    [{ OCORE_BACKUP_S3_PREFIX: "/abs" }, "OCORE_BACKUP_S3_PREFIX", /must not start/],
    [
      { OCORE_BACKUP_STORE: "s3", OCORE_BACKUP_S3_BUCKET: "bkt", OCORE_BACKUP_S3_ACCESS_KEY_ID: "AKIA" },
      "OCORE_BACKUP_S3_SECRET_ACCESS_KEY",
      /Set both, or neither/,
    ],
  ])("refuses %j naming %s", (env, setting, message) => {
    const error = configError(() => loadConfig(env, { cwd }));
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
  });
});

describe("sanitizeConfig", () => {
  it("redacts the database password", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://ocore:hunter2@db:5432/ocore" }, { cwd });
    const logged = JSON.stringify(sanitizeConfig(config));
    expect(logged).not.toContain("hunter2");
    expect(logged).toContain("postgres://ocore:redacted@db:5432/ocore");
    expect(redactUrlCredentials("::garbage")).toBe("redacted");
  });
});

describe("config.example.env", () => {
  const example = readFileSync(new URL("../../../config.example.env", import.meta.url), "utf8");

  it.each(Object.values(settings).map((spec) => [spec.env, spec] as const))("documents %s", (name, spec) => {
    const line = example.split("\n").find((l) => l.replace(/^# /, "").startsWith(`${name}=`));
    expect(line, `${name} is missing from config.example.env`).toBeDefined();
    if ("defaultValue" in spec) expect(line).toBe(`${name}=${spec.defaultValue}`);
  });

  it("parses as a valid configuration", () => {
    const env = Object.fromEntries(
      example
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    expect(() => loadConfig(env, { cwd })).not.toThrow();
  });
});
